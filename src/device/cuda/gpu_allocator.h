#pragma once
// Allocators for CUDA memory, implementing core/allocator.h.
//
// DeviceAllocator: stream-ordered device memory (cudaMallocAsync /
// cudaFreeAsync from the device's default memory pool, which keeps freed
// memory cached instead of returning it to the driver). Allocation is
// ordered on `alloc_stream`, freeing on `free_stream` (the compute stream,
// where every kernel that reads a tensor runs), so a buffer freed while
// kernels that use it are still queued is reused only after they finish.
// PinnedAllocator: page-locked host memory (cudaHostAlloc), so that
// host->device copies from it are asynchronous DMA (device_registry.h's
// PinnedHostAllocator() in a CUDA build with a device).
// Both return nullptr when CUDA fails (the Allocator contract).
//
// Thread-safe.

#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
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
  // Bytes handed out so far (never decreases).
  uint64_t bytes_allocated() const { return allocated_.load(std::memory_order_relaxed); }

 private:
  int device_;
  cudaStream_t alloc_;
  cudaStream_t free_;
  std::atomic<uint64_t> allocated_{0};
};

// The memory of one captured step (GpuDeviceContext::BeginCapture): one
// cudaMalloc block handed out front to back (256-byte aligned; Deallocate
// frees nothing), so every tensor of the recorded work keeps its address
// at every launch. Reference-counted: the captured work holds one
// reference and every live allocation one more; the block is freed (and
// this object deleted) when the last goes, so a tensor or variable that
// still points into the arena stays valid after the work is dropped.
// Allocate returns nullptr when the block is full. Thread-safe.
class CaptureArena final : public Allocator {
 public:
  // Null when cudaMalloc fails. The caller holds the first reference.
  static CaptureArena* Create(int device, size_t bytes);
  std::string_view name() const override { return "gpu_capture_arena"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t bytes, size_t alignment) override;
  void Deallocate(void* ptr, size_t bytes) override;
  void Unref();

 private:
  CaptureArena(int device, void* base, size_t bytes) : device_(device), base_(base), size_(bytes) {}
  int device_;
  void* base_;
  size_t size_;
  std::atomic<size_t> used_{0};
  std::atomic<int64_t> refs_{1};
};

class PinnedAllocator final : public Allocator {
 public:
  // Process-wide instance.
  static PinnedAllocator* Get();
  std::string_view name() const override { return "gpu_pinned_host"; }
  MemoryKind kind() const override { return MemoryKind::kPinnedHost; }
  void* Allocate(size_t bytes, size_t alignment) override;
  void Deallocate(void* ptr, size_t bytes) override;
  // The device whose context page-locked memory is allocated in: the first
  // GPU set up (cuda_platform.cc calls this; later calls keep the first).
  // cudaHostAlloc on a thread that never chose a device would otherwise
  // make a context on GPU 0 even when the process uses only another GPU.
  void UseContextOf(int device);

 private:
  std::atomic<int> device_{-1};
};

}  // namespace sluice::cuda
