#pragma once
// Host memory for batches that a device will consume. On a CUDA build with
// a visible device, PinnedBatchAllocator() is page-locked memory
// (cudaHostAlloc), which host→device copies need to run asynchronously at
// full speed; otherwise it is the host allocator, and everything still
// works (copies are plain host prefetches). Pinning is slow (~0.4 s/GiB),
// so pinned memory is only ever handed out through a reusable BufferPool:
// MakeBatchBufferPool() — never pinned per batch.
//
// (src/kernels has its own pinned allocator for the graph engine; the
// pipeline sits below kernels in the layering and keeps this small one.)
//
// Thread-safe.

#include <cstddef>
#include <memory>

#include "core/allocator.h"
#include "core/buffer_pool.h"

namespace sluice {

// True on a CUDA build when at least one device is visible.
bool CudaDeviceAvailable();

// Pinned host memory when CudaDeviceAvailable(), else HostAllocator().
// Never null; never destroyed.
Allocator* PinnedBatchAllocator();

// A pool of `max_buffers` buffers of `buffer_bytes` from
// PinnedBatchAllocator().
std::shared_ptr<BufferPool> MakeBatchBufferPool(size_t buffer_bytes, size_t max_buffers);

}  // namespace sluice
