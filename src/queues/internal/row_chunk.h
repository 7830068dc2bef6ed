#pragma once
// RowChunk: how queues hold elements without copying them. A chunk is
// either one element (stacked == false: the tuple is the element) or rows
// of a batch (stacked == true: dimension 0 of every component indexes
// rows; usually a Slice() view of what EnqueueMany received).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/tensor.h"

namespace sluice::internal {

// The string components of an enqueued element or batch, already copied
// into std::strings by the enqueuing thread before it took the queue lock
// (see QueueBase::OwnStrings). columns[i] holds component i's strings in
// row-major order; it is empty for other components.
struct OwnedStrings {
  std::vector<std::vector<std::string>> columns;
};

struct RowChunk {
  TensorTuple tuple;
  bool stacked = false;
  // Optional: the chunk's strings as std::strings a queue may move from.
  // Row 0 of `tuple` is row `owned_row` of `owned`.
  std::shared_ptr<OwnedStrings> owned;
  int64_t owned_row = 0;

  int64_t rows() const { return stacked ? tuple[0].dim(0) : 1; }
  // Rows [begin, end) as a stacked chunk of views.
  RowChunk Slice(int64_t begin, int64_t end) const {
    RowChunk c;
    c.stacked = true;
    c.owned = owned;
    c.owned_row = owned_row + begin;
    c.tuple.reserve(tuple.size());
    for (const Tensor& t : tuple) c.tuple.push_back(t.Slice(begin, end));
    return c;
  }
  // Row r as an element (views).
  TensorTuple Element(int64_t r) const {
    if (!stacked) return tuple;
    TensorTuple e;
    e.reserve(tuple.size());
    for (const Tensor& t : tuple) e.push_back(t.Row(r));
    return e;
  }
};

// What one dequeue holds: usually a single chunk, kept inline so the common
// case allocates nothing.
using RowChunks = absl::InlinedVector<RowChunk, 1>;

}  // namespace sluice::internal
