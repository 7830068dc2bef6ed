#pragma once
// RandomShuffleQueue: dequeues a uniformly random stored element
// (TF 1.x RandomShuffleQueueV2). Thread-safe; see queue.h for the contract.
//
// While open, dequeues leave at least min_after_dequeue elements stored (a
// Dequeue waits for min_after_dequeue + 1). After Close the reserve is
// released, so everything left can be drained. Seeds (0, 0) draw fresh
// random seeds; any other pair gives the same order for the same
// single-threaded sequence of calls.
//
// Storage: with declared shapes, numeric components are copied into one
// contiguous slab per component and string components into a RecordPool,
// so a stored element holds no reference to the batch or record chunk it
// came from (memory stays proportional to the payload). Without declared
// shapes elements are kept as they were enqueued.

#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/record_pool.h"
#include "queues/queue_base.h"

namespace sluice {

struct RandomShuffleQueueOptions {
  QueueOptions queue;
  int64_t min_after_dequeue = 0;
  uint64_t seed = 0;
  uint64_t seed2 = 0;
};

class RandomShuffleQueue final : public QueueBase {
 public:
  // InvalidArgument when min_after_dequeue < 0 or >= capacity, or for the
  // common option errors.
  static absl::StatusOr<std::shared_ptr<RandomShuffleQueue>> Create(
      RandomShuffleQueueOptions options);

  uint64_t seed() const { return seed_; }
  uint64_t seed2() const { return seed2_; }
  absl::Status CheckCompatibleForSharing(const QueueInterface& requested) const override;

 protected:
  int64_t StoredLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return size_; }
  int64_t AvailableLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushLocked(internal::RowChunk&& rows) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeLocked(int64_t n, internal::RowChunks* out) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreLocked(internal::RowChunks* parts) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t min_after_dequeue() const override { return min_after_dequeue_; }
  // String components of an EnqueueMany batch are copied into the queue's
  // RecordPool here, outside the lock (16-byte size classes in 256 KiB slabs: no malloc per record);
  // PushLocked takes the record pointers and TakeLocked hands the picked
  // ones to the batch it returns, which gives them back to the pool when it
  // is dropped. Under the lock a string costs a pointer swap.
  std::shared_ptr<internal::OwnedRecords> OwnRecords(const TensorTuple& rows) const override;

 private:
  // One component's rows, for queues with declared shapes.
  struct Column {
    DType dtype;
    TensorShape row_shape;
    int64_t row_elems = 0;
    size_t row_bytes = 0;               // numeric only
    // Numeric rows, back to back: slab_used bytes of slab_capacity. Grown
    // by hand (std::vector would zero bytes it is about to overwrite).
    std::unique_ptr<char[]> slab;
    size_t slab_used = 0;
    size_t slab_capacity = 0;
    // String rows as pool records, row_elems per row.
    std::vector<char*> ptrs;
    std::vector<uint32_t> sizes;
  };

  RandomShuffleQueue(const RandomShuffleQueueOptions& o);
  void AppendStackedLocked(const internal::RowChunk& rows, int64_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeShrinkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t min_after_dequeue_;
  const uint64_t seed_, seed2_;
  const bool columnar_;  // shapes declared
  Random rng_ ABSL_GUARDED_BY(mu_);
  std::vector<Column> columns_ ABSL_GUARDED_BY(mu_);
  std::vector<TensorTuple> elements_ ABSL_GUARDED_BY(mu_);  // !columnar_
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> picks_ ABSL_GUARDED_BY(mu_);  // scratch for TakeLocked
  // String records (null without string components). Shared with the
  // batches that hold records handed out.
  const std::shared_ptr<RecordPool> pool_;
  bool pool_release_armed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice
