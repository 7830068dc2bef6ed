#pragma once
// Host memory for batches that a device will consume: page-locked memory
// when the process sees a GPU (device/device_registry.h's
// PinnedHostAllocator(), which host->device copies need to run
// asynchronously at full speed), otherwise the host allocator, and
// everything still works. Pinning is slow (~0.4 s/GiB), so pinned memory
// is only ever handed out through a reusable BufferPool:
// MakeBatchBufferPool() — never pinned per batch.
//
// Thread-safe.

#include <cstddef>
#include <memory>

#include "core/allocator.h"
#include "core/buffer_pool.h"

namespace sluice {

// Pinned host memory when a GPU is visible, else HostAllocator(). Never
// null; never destroyed.
Allocator* PinnedBatchAllocator();

// A pool of `max_buffers` buffers of `buffer_bytes` from
// PinnedBatchAllocator().
std::shared_ptr<BufferPool> MakeBatchBufferPool(size_t buffer_bytes, size_t max_buffers);

}  // namespace sluice
