#include "pipeline/prefetch/pinned_memory.h"

#ifdef SLUICE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace sluice {

#ifdef SLUICE_HAVE_CUDA
namespace {

class CudaPinnedAllocator final : public Allocator {
 public:
  std::string_view name() const override { return "cuda_pinned_batch"; }
  MemoryKind kind() const override { return MemoryKind::kPinnedHost; }
  void* Allocate(size_t bytes, size_t alignment) override {
    // cudaHostAlloc returns page-aligned memory: any power-of-two
    // alignment up to a page is met.
    void* p = nullptr;
    if (alignment > 4096) return nullptr;
    if (cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return p;
  }
  void Deallocate(void* ptr, size_t) override { (void)cudaFreeHost(ptr); }
};

}  // namespace

bool CudaDeviceAvailable() {
  static const bool available = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();
      return false;
    }
    return n > 0;
  }();
  return available;
}

Allocator* PinnedBatchAllocator() {
  static Allocator* a = CudaDeviceAvailable() ? static_cast<Allocator*>(new CudaPinnedAllocator())
                                              : HostAllocator();
  return a;
}
#else
bool CudaDeviceAvailable() { return false; }
Allocator* PinnedBatchAllocator() { return HostAllocator(); }
#endif

std::shared_ptr<BufferPool> MakeBatchBufferPool(size_t buffer_bytes, size_t max_buffers) {
  return BufferPool::Create(PinnedBatchAllocator(), buffer_bytes, max_buffers);
}

}  // namespace sluice
