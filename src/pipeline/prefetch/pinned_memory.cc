#include "pipeline/prefetch/pinned_memory.h"

#include "device/device_registry.h"

namespace sluice {

Allocator* PinnedBatchAllocator() { return PinnedHostAllocator(); }

std::shared_ptr<BufferPool> MakeBatchBufferPool(size_t buffer_bytes, size_t max_buffers) {
  return BufferPool::Create(PinnedBatchAllocator(), buffer_bytes, max_buffers);
}

}  // namespace sluice
