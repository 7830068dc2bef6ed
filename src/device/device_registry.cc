#include "device/device_registry.h"

#include <atomic>

#include "absl/strings/str_cat.h"

#ifdef SLUICE_HAVE_CUDA
#include "device/cuda/cuda_platform.h"
#endif

namespace sluice {
namespace {

// No accelerator: the build without CUDA.
class NoPlatform final : public DevicePlatform {
 public:
  int device_count() const override { return 0; }
  absl::StatusOr<DeviceContext*> Context(int) override {
    return absl::FailedPreconditionError("no GPU is visible to this process");
  }
  Allocator* pinned_host_allocator() override { return HostAllocator(); }
};

DevicePlatform* BuiltIn() {
#ifdef SLUICE_HAVE_CUDA
  return cuda::CudaPlatform();
#else
  static NoPlatform* none = new NoPlatform();
  return none;
#endif
}

std::atomic<DevicePlatform*> g_override{nullptr};

DevicePlatform* Platform() {
  DevicePlatform* p = g_override.load(std::memory_order_acquire);
  return p != nullptr ? p : BuiltIn();
}

}  // namespace

int GpuDeviceCount() { return Platform()->device_count(); }

absl::StatusOr<DeviceContext*> GpuContext(int index) {
  DevicePlatform* p = Platform();
  const int n = p->device_count();
  if (n == 0) return absl::FailedPreconditionError("no GPU is visible to this process");
  if (index < 0 || index >= n) {
    return absl::InvalidArgumentError(
        absl::StrCat("GPU ", index, " does not exist: this process sees ", n, " GPU",
                     n == 1 ? "" : "s", " (/gpu:0../gpu:", n - 1, ")"));
  }
  return p->Context(index);
}

Allocator* PinnedHostAllocator() {
  DevicePlatform* p = Platform();
  return p->device_count() > 0 ? p->pinned_host_allocator() : HostAllocator();
}

DevicePlatform* SetGpuPlatformForTesting(DevicePlatform* platform) {
  DevicePlatform* old = g_override.exchange(platform, std::memory_order_acq_rel);
  return old;
}

}  // namespace sluice
