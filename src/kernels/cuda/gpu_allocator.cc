#include "kernels/cuda/gpu_allocator.h"

namespace sluice::cuda {

void* DeviceAllocator::Allocate(size_t bytes, size_t alignment) {
  // The pool's blocks are 256-byte aligned, more than kTensorAlignment.
  void* p = nullptr;
  if (cudaSetDevice(device_) != cudaSuccess) return nullptr;
  if (cudaMallocAsync(&p, bytes == 0 ? 1 : bytes, alloc_) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error state
    return nullptr;
  }
  return p;
}

void DeviceAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr != nullptr) (void)cudaFreeAsync(ptr, free_);
}

PinnedHostAllocator* PinnedHostAllocator::Get() {
  static PinnedHostAllocator* a = new PinnedHostAllocator();
  return a;
}

void* PinnedHostAllocator::Allocate(size_t bytes, size_t alignment) {
  void* p = nullptr;
  if (cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return p;
}

void PinnedHostAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr != nullptr) (void)cudaFreeHost(ptr);
}

}  // namespace sluice::cuda
