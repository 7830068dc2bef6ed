#pragma once
// PriorityQueue: dequeues the element with the smallest priority first
// (TF 1.x PriorityQueueV2). Component 0 is the priority: an int64 scalar,
// declared by the caller as the first dtype (and shape [] when shapes are
// given). Among equal priorities the order is unspecified (sluice happens
// to keep arrival order). Thread-safe; see queue.h for the contract.
//
// DequeueMany(n) does not take elements one at a time: it waits until n
// are stored, then removes n at once, sorted ascending.

#include <memory>
#include <vector>

#include "queues/queue_base.h"

namespace sluice {

class PriorityQueue final : public QueueBase {
 public:
  // InvalidArgument when component 0 is not int64 or, with shapes, not a
  // scalar; and for the common option errors.
  static absl::StatusOr<std::shared_ptr<PriorityQueue>> Create(QueueOptions options);

 protected:
  bool TakesPartially() const override { return false; }
  int64_t StoredLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int64_t>(heap_.size());
  }
  void PushLocked(internal::RowChunk&& rows) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeLocked(int64_t n, internal::RowChunks* out) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreLocked(internal::RowChunks* parts) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ValidateElement(const TensorTuple& element) const override;
  absl::Status ValidateBatch(const TensorTuple& batch) const override;

 private:
  struct Entry {
    int64_t priority;
    uint64_t seq;
    TensorTuple element;
  };
  struct Later {  // min-heap on (priority, arrival)
    bool operator()(const Entry& a, const Entry& b) const {
      return a.priority != b.priority ? a.priority > b.priority : a.seq > b.seq;
    }
  };
  using QueueBase::QueueBase;
  void PushElementLocked(TensorTuple element) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::vector<Entry> heap_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
