#pragma once
// Allocator: where tensor bytes live. Host (aligned) memory now; pinned-host
// and device allocators implement the same interface (pipeline and GPU
// issues), so a Tensor never needs to know which it holds.

#include <cstddef>
#include <string_view>

namespace sluice {

enum class MemoryKind { kHost, kPinnedHost, kDevice };

// Thread-safe: Allocate and Deallocate may be called from any thread.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual std::string_view name() const = 0;
  virtual MemoryKind kind() const = 0;
  // Returns nullptr when the memory cannot be had. `alignment` is a power of
  // two. A zero-byte request returns a valid, unique pointer.
  virtual void* Allocate(size_t bytes, size_t alignment) = 0;
  // `bytes` is the size passed to Allocate.
  virtual void Deallocate(void* ptr, size_t bytes) = 0;
};

// Default alignment of tensor buffers: a cache line, enough for AVX-512 and
// for cudaMemcpy fast paths.
inline constexpr size_t kTensorAlignment = 64;

// The process-wide aligned host allocator. Never null; never destroyed.
// Blocks of kLargeBlockBytes and more (a batch of decoded images: 38 MB for
// 64 float 224x224x3) are sized in 64 KiB classes, and when freed up to
// kLargeBlockCacheBytes of them are kept for the next request of the same
// class: glibc returns such blocks to the kernel (mmap/munmap) and the next
// batch then page-faults and zeroes every page again (a third of the CPU
// time of the JPEG pipeline went to the kernel), and two threads doing so at
// once contend on the process's memory map. Not in sanitizer builds.
// The floor is glibc's largest dynamic mmap threshold (32 MiB on 64-bit):
// below it glibc itself keeps freed blocks in its heap once it has seen one
// freed, and a cache here that held blocks of sizes that never recur kept
// glibc from seeing those frees (the CPU MLP job, whose evaluation tensors
// are 1-31 MiB, ran 1.07-1.12x slower with a 1 MiB floor: system time 2.2
// -> 3.5 s for 5 epochs).
inline constexpr size_t kLargeBlockBytes = size_t{32} << 20;
inline constexpr size_t kLargeBlockCacheBytes = size_t{256} << 20;
Allocator* HostAllocator();
// Bytes of freed large blocks HostAllocator() holds for reuse (for tests).
size_t HostAllocatorCachedBytes();

}  // namespace sluice
