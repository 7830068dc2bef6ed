#include "core/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace sluice {
namespace {

// Freed large blocks kept for the next request of the same size (see
// allocator.h). Not in sanitizer builds, where reuse would hide a
// use-after-free.
class LargeBlockCache {
 public:
  void* Take(size_t bytes, size_t alignment) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].bytes == bytes && blocks_[i].alignment == alignment) {
        void* p = blocks_[i].ptr;
        held_ -= bytes;
        blocks_[i] = blocks_.back();
        blocks_.pop_back();
        return p;
      }
    }
    return nullptr;
  }
  // True when the cache kept the block.
  bool Give(void* ptr, size_t bytes, size_t alignment) {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_ + bytes > kLargeBlockCacheBytes || blocks_.size() >= kMaxBlocks)
      return false;
    blocks_.push_back({ptr, bytes, alignment});
    held_ += bytes;
    return true;
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_;
  }

 private:
  static constexpr size_t kMaxBlocks = 32;
  struct Block {
    void* ptr;
    size_t bytes;
    size_t alignment;
  };
  std::mutex mu_;              // std::mutex: a short critical section, no waits
  std::vector<Block> blocks_;  // guarded by mu_
  size_t held_ = 0;            // guarded by mu_
};

#if defined(SLUICE_SANITIZER_BUILD)
constexpr bool kCacheLargeBlocks = false;
#else
constexpr bool kCacheLargeBlocks = true;
#endif

size_t Rounded(size_t bytes, size_t alignment) {
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0) rounded = alignment;
  if (rounded >= kLargeBlockBytes) {  // size classes of 64 KiB
    rounded = (rounded + (size_t{64} << 10) - 1) / (size_t{64} << 10) *
              (size_t{64} << 10);
  }
  return rounded;
}

class AlignedHostAllocator final : public Allocator {
 public:
  std::string_view name() const override { return "host"; }
  MemoryKind kind() const override { return MemoryKind::kHost; }
  void* Allocate(size_t bytes, size_t alignment) override {
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    // aligned_alloc requires a multiple of the alignment.
    const size_t rounded = Rounded(bytes, alignment);
    if (kCacheLargeBlocks && rounded >= kLargeBlockBytes) {
      if (void* p = cache_.Take(rounded, alignment); p != nullptr) return p;
    }
    return std::aligned_alloc(alignment, rounded);
  }
  void Deallocate(void* ptr, size_t bytes) override {
    if (ptr == nullptr) return;
    // Allocate's alignment is not passed back: blocks this large come from
    // mmap and are page-aligned, so the cache files them under the
    // alignment every tensor asks for.
    const size_t rounded = Rounded(bytes, kTensorAlignment);
    if (kCacheLargeBlocks && rounded >= kLargeBlockBytes &&
        reinterpret_cast<uintptr_t>(ptr) % kTensorAlignment == 0 &&
        cache_.Give(ptr, rounded, kTensorAlignment)) {
      return;
    }
    std::free(ptr);
  }
  size_t cached() { return cache_.held(); }

 private:
  LargeBlockCache cache_;
};

AlignedHostAllocator* Host() {
  static AlignedHostAllocator* const kAllocator = new AlignedHostAllocator();
  return kAllocator;
}

}  // namespace

Allocator* HostAllocator() { return Host(); }

size_t HostAllocatorCachedBytes() { return Host()->cached(); }

}  // namespace sluice
