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
Allocator* HostAllocator();

}  // namespace sluice
