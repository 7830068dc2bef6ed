#include "device/cuda/gpu_allocator.h"

#include <algorithm>

namespace sluice::cuda {

void* DeviceAllocator::Allocate(size_t bytes, size_t alignment) {
  // The pool's blocks are 256-byte aligned, more than kTensorAlignment.
  void* p = nullptr;
  if (cudaSetDevice(device_) != cudaSuccess) return nullptr;
  if (cudaMallocAsync(&p, bytes == 0 ? 1 : bytes, alloc_) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error state
    return nullptr;
  }
  allocated_.fetch_add(bytes, std::memory_order_relaxed);
  return p;
}

void DeviceAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  (void)cudaSetDevice(device_);  // not a context on the thread's current GPU
  (void)cudaFreeAsync(ptr, free_);
}

CaptureArena* CaptureArena::Create(int device, size_t bytes) {
  void* base = nullptr;
  if (cudaSetDevice(device) != cudaSuccess || cudaMalloc(&base, bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return new CaptureArena(device, base, bytes);
}

void* CaptureArena::Allocate(size_t bytes, size_t alignment) {
  constexpr size_t kAlign = 256;  // like the CUDA pool's blocks
  const size_t rounded = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  const size_t at = used_.fetch_add(rounded, std::memory_order_relaxed);
  if (at + rounded > size_) return nullptr;  // full: the capture fails
  refs_.fetch_add(1, std::memory_order_relaxed);
  return static_cast<char*>(base_) + at;
}

void CaptureArena::Deallocate(void* ptr, size_t bytes) {
  if (ptr != nullptr) Unref();
}

void CaptureArena::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // cudaFree waits for the device work that may still use the block.
  (void)cudaSetDevice(device_);
  (void)cudaFree(base_);
  delete this;
}

PinnedAllocator* PinnedAllocator::Get() {
  static PinnedAllocator* a = new PinnedAllocator();
  return a;
}

void* PinnedAllocator::Allocate(size_t bytes, size_t alignment) {
  // cudaHostAlloc returns page-aligned memory: any power-of-two alignment
  // up to a page is met.
  if (alignment > 4096) return nullptr;
  const int device = device_.load(std::memory_order_acquire);
  if (device >= 0 && cudaSetDevice(device) != cudaSuccess) return nullptr;
  void* p = nullptr;
  if (cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return p;
}

void PinnedAllocator::UseContextOf(int device) {
  int none = -1;
  device_.compare_exchange_strong(none, device, std::memory_order_acq_rel);
}

void PinnedAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr != nullptr) (void)cudaFreeHost(ptr);
}

}  // namespace sluice::cuda
