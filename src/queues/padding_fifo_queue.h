#pragma once
// PaddingFIFOQueue: a FIFOQueue whose component shapes may have unknown
// (-1) dimensions (TF 1.x PaddingFIFOQueueV2). Thread-safe; see queue.h.
//
// Enqueue accepts any element compatible with the declared shapes
// (EnqueueMany: every row of one call shares one shape). Dequeue returns an
// element as it was enqueued. DequeueMany/DequeueUpTo pad each unknown
// dimension to the largest among the rows returned, filling with zeros,
// false or empty strings; each row sits in the top-left corner of its slot.
// Unlike TensorFlow (ranks 0-4 only), any rank pads.

#include <memory>

#include "queues/fifo_queue.h"

namespace sluice {

class PaddingFIFOQueue final : public FIFOQueue {
 public:
  // Shapes are required, one per component (InvalidArgument otherwise).
  static absl::StatusOr<std::shared_ptr<PaddingFIFOQueue>> Create(QueueOptions options);

 protected:
  bool ShapeAccepts(const TensorShape& declared, const TensorShape& actual) const override {
    return declared.IsCompatibleWith(actual);
  }
  absl::StatusOr<TensorTuple> AssembleMany(internal::RowChunks parts,
                                           int64_t n) const override;

 private:
  using FIFOQueue::FIFOQueue;
};

}  // namespace sluice
