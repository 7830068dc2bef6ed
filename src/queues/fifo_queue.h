#pragma once
// FIFOQueue: a bounded queue of tensor tuples in strict FIFO order (TF 1.x
// FIFOQueueV2). Thread-safe; see queue.h for the full contract.
//
// Storage holds what callers enqueued as chunks of views (an EnqueueMany
// batch is kept as one chunk, sliced as rows leave), so moving elements
// through the queue copies no bytes; a DequeueMany whose rows arrived as
// one EnqueueMany batch of the same size returns that batch itself.

#include <memory>

#include "queues/ring_deque.h"
#include "queues/queue_base.h"

namespace sluice {

class FIFOQueue : public QueueBase {
 public:
  // InvalidArgument for no component types or a shape count that differs
  // from the type count; shapes must be fully defined.
  static absl::StatusOr<std::shared_ptr<FIFOQueue>> Create(QueueOptions options);

 protected:
  FIFOQueue(const QueueOptions& options, std::string_view kind) : QueueBase(options, kind) {}

  int64_t StoredLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return size_; }
  void PushLocked(internal::RowChunk&& rows) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeLocked(int64_t n, internal::RowChunks* out) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreLocked(internal::RowChunks* parts) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 private:
  internal::RingDeque<internal::RowChunk> chunks_ ABSL_GUARDED_BY(mu_);
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
