#include "core/buffer_pool.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "blockingconcurrentqueue.h"

namespace sluice {

struct BufferPool::FreeList {
  moodycamel::BlockingConcurrentQueue<void*> queue;
};

std::shared_ptr<BufferPool> BufferPool::Create(Allocator* allocator, size_t buffer_bytes,
                                               size_t max_buffers) {
  return std::shared_ptr<BufferPool>(new BufferPool(allocator, buffer_bytes, max_buffers));
}

BufferPool::BufferPool(Allocator* allocator, size_t buffer_bytes, size_t max_buffers)
    : allocator_(allocator),
      buffer_bytes_(buffer_bytes),
      max_buffers_(max_buffers),
      free_(std::make_unique<FreeList>()) {}

BufferPool::~BufferPool() {
  void* p;
  while (free_->queue.try_dequeue(p)) allocator_->Deallocate(p, buffer_bytes_);
}

size_t BufferPool::free_count() const { return free_->queue.size_approx(); }

RefPtr BufferPool::Wrap(void* data) {
  std::weak_ptr<BufferPool> weak = weak_from_this();
  Allocator* allocator = allocator_;
  const size_t bytes = buffer_bytes_;
  RefPtr b = Buffer::Wrap(data, bytes, allocator, [weak, allocator, bytes, data] {
    if (auto pool = weak.lock()) {
      pool->free_->queue.enqueue(data);
    } else {
      allocator->Deallocate(data, bytes);
    }
  });
  if (!b) {  // header allocation failed: keep the memory in the pool
    free_->queue.enqueue(data);
  }
  return b;
}

void* BufferPool::TryTakeFree() {
  void* p = nullptr;
  if (free_->queue.try_dequeue(p)) return p;
  // Reserve a slot before allocating so max_buffers is never exceeded.
  size_t n = allocated_.load(std::memory_order_relaxed);
  while (n < max_buffers_) {
    if (allocated_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
      p = allocator_->Allocate(buffer_bytes_, kTensorAlignment);
      if (p == nullptr) allocated_.fetch_sub(1, std::memory_order_relaxed);
      return p;
    }
  }
  return nullptr;
}

RefPtr BufferPool::TryAcquire() {
  void* p = TryTakeFree();
  return p ? Wrap(p) : RefPtr();
}

absl::StatusOr<RefPtr> BufferPool::Acquire(const WaitOptions& w) {
  while (true) {
    void* p = TryTakeFree();
    if (p != nullptr) {
      RefPtr b = Wrap(p);
      if (b) return b;
    } else if (allocated() < max_buffers_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "BufferPool: allocator '", std::string(allocator_->name()), "' cannot provide ",
          buffer_bytes_, " bytes"));
    }
    if (w.stop.stop_requested()) {
      return absl::CancelledError("BufferPool::Acquire was cancelled (stop requested)");
    }
    const absl::Time now = absl::Now();
    if (now >= w.deadline) {
      return absl::DeadlineExceededError("BufferPool::Acquire: no buffer was returned in time");
    }
    // Wait in short slices so a stop or a deadline is seen promptly.
    const int64_t us = std::min<int64_t>(1000, absl::ToInt64Microseconds(w.deadline - now) + 1);
    if (free_->queue.wait_dequeue_timed(p, us)) {
      RefPtr b = Wrap(p);
      if (b) return b;
    }
  }
}

}  // namespace sluice
