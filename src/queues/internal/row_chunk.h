#pragma once
// RowChunk: how queues hold elements without copying them. A chunk is
// either one element (stacked == false: the tuple is the element) or rows
// of a batch (stacked == true: dimension 0 of every component indexes
// rows; usually a Slice() view of what EnqueueMany received).

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "core/tensor.h"

namespace sluice::internal {

struct RowChunk {
  TensorTuple tuple;
  bool stacked = false;

  int64_t rows() const { return stacked ? tuple[0].dim(0) : 1; }
  // Rows [begin, end) as a stacked chunk of views.
  RowChunk Slice(int64_t begin, int64_t end) const {
    RowChunk c;
    c.stacked = true;
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
