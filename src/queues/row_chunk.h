#pragma once
// RowChunk: how queues hold elements without copying them. A chunk is
// either one element (stacked == false: the tuple is the element) or rows
// of a batch (stacked == true: dimension 0 of every component indexes
// rows; usually a Slice() view of what EnqueueMany received).
//
// Installed with the queue headers because QueueBase's virtual storage
// interface (PushLocked, TakeLocked, ...) is written in these types; they
// stay in namespace internal: queue implementations use them, users do not.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/record_pool.h"
#include "core/tensor.h"

namespace sluice::internal {

// The string components of an enqueued element or batch, already copied
// into a RecordPool by the enqueuing thread before it took the queue lock
// (see QueueBase::OwnRecords). ptrs[i] / sizes[i] hold component i's
// strings in row-major order (empty for other components). A queue takes a
// record by nulling its pointer; whatever is left when the last holder
// drops this (a failed or cancelled enqueue) goes back to the pool.
struct OwnedRecords {
  std::shared_ptr<RecordPool> pool;
  std::vector<std::vector<char*>> ptrs;
  std::vector<std::vector<uint32_t>> sizes;

  OwnedRecords() = default;
  OwnedRecords(const OwnedRecords&) = delete;
  OwnedRecords& operator=(const OwnedRecords&) = delete;
  ~OwnedRecords() {
    for (size_t i = 0; i < ptrs.size(); ++i) {
      std::vector<char*> left;
      std::vector<uint32_t> left_sizes;
      for (size_t k = 0; k < ptrs[i].size(); ++k) {
        if (ptrs[i][k] == nullptr) continue;
        left.push_back(ptrs[i][k]);
        left_sizes.push_back(sizes[i][k]);
      }
      if (!left.empty()) pool->FreeAll(left, left_sizes);
    }
  }
};

struct RowChunk {
  TensorTuple tuple;
  bool stacked = false;
  // Optional: the chunk's strings as pool records a queue may take.
  // Row 0 of `tuple` is row `owned_row` of `owned`.
  std::shared_ptr<OwnedRecords> owned;
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
