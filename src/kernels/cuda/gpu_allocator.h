#pragma once
// Allocators for CUDA memory, implementing core/allocator.h.
//
// DeviceAllocator: stream-ordered device memory (cudaMallocAsync /
// cudaFreeAsync from the device's default memory pool, which keeps freed
// memory cached instead of returning it to the driver). Allocation is
// ordered on `alloc_stream`, freeing on `free_stream` (the compute stream,
// where every kernel that reads a tensor runs), so a buffer freed while
// kernels that use it are still queued is reused only after they finish.
// PinnedHostAllocator: page-locked host memory (cudaHostAlloc), so that
// host->device copies from it are asynchronous DMA.
// Both return nullptr when CUDA fails (the Allocator contract).
//
// Thread-safe.

#include <cuda_runtime.h>

#include <string_view>

#include "core/allocator.h"

namespace sluice::cuda {

class DeviceAllocator final : public Allocator {
 public:
  DeviceAllocator(int device, cudaStream_t alloc_stream, cudaStream_t free_stream)
      : device_(device), alloc_(alloc_stream), free_(free_stream) {}
  std::string_view name() const override { return "gpu_device"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t bytes, size_t alignment) override;
  void Deallocate(void* ptr, size_t bytes) override;

 private:
  int device_;
  cudaStream_t alloc_;
  cudaStream_t free_;
};

class PinnedHostAllocator final : public Allocator {
 public:
  // Process-wide instance.
  static PinnedHostAllocator* Get();
  std::string_view name() const override { return "gpu_pinned_host"; }
  MemoryKind kind() const override { return MemoryKind::kPinnedHost; }
  void* Allocate(size_t bytes, size_t alignment) override;
  void Deallocate(void* ptr, size_t bytes) override;
};

}  // namespace sluice::cuda
