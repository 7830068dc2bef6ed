#pragma once
// BufferPool: fixed-size buffers that are allocated once and reused, for
// memory that is expensive to get (pinned host memory costs ~0.4 s per GiB
// to pin; device memory needs a synchronising cudaMalloc). A buffer handed
// out by Acquire() goes back to the pool when its last RefPtr is dropped,
// from whatever thread drops it.
//
// Thread-safe. The free list is a lock-free moodycamel queue: buffers carry
// no order worth keeping, so no global order is paid for. Buffers outliving
// the pool are freed by their last reference.

#include <atomic>
#include <cstddef>
#include <memory>

#include "core/allocator.h"
#include "core/buffer.h"
#include "core/status.h"
#include "core/wait_options.h"

namespace sluice {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  // `allocator` must outlive every buffer (the process-wide allocators do).
  // At most `max_buffers` buffers of `buffer_bytes` each exist at once.
  static std::shared_ptr<BufferPool> Create(Allocator* allocator, size_t buffer_bytes,
                                            size_t max_buffers);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A free buffer, or a new one while fewer than max_buffers exist; else
  // blocks until one is returned. DeadlineExceeded / Cancelled per `w`;
  // ResourceExhausted when the allocator fails.
  absl::StatusOr<RefPtr> Acquire(const WaitOptions& w = {});
  // Never blocks: FailedPrecondition-free variant returning null when no
  // buffer can be had right now.
  RefPtr TryAcquire();

  size_t buffer_bytes() const { return buffer_bytes_; }
  size_t max_buffers() const { return max_buffers_; }
  // Buffers that exist (free or in use) and free ones; racy snapshots.
  size_t allocated() const { return allocated_.load(std::memory_order_relaxed); }
  size_t free_count() const;

 private:
  struct FreeList;
  BufferPool(Allocator* allocator, size_t buffer_bytes, size_t max_buffers);
  RefPtr Wrap(void* data);
  void* TryTakeFree();

  Allocator* const allocator_;
  const size_t buffer_bytes_;
  const size_t max_buffers_;
  std::atomic<size_t> allocated_{0};
  std::unique_ptr<FreeList> free_;
};

}  // namespace sluice
