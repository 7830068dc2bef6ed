#include "device/cuda/cuda_platform.h"

#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "device/cuda/cuda_status.h"
#include "device/cuda/gpu_allocator.h"
#include "device/cuda/gpu_device_context.h"

namespace sluice::cuda {
namespace {

class Platform final : public DevicePlatform {
 public:
  Platform() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();
      n = 0;
    }
    count_ = n;
    contexts_ = std::make_unique<Slot[]>(n > 0 ? n : 1);
  }
  int device_count() const override { return count_; }
  absl::StatusOr<DeviceContext*> Context(int index) override {
    if (index < 0 || index >= count_) {
      return absl::InvalidArgumentError(absl::StrCat("no CUDA device ", index));
    }
    std::call_once(contexts_[index].once, [&] {
      absl::StatusOr<std::unique_ptr<GpuDeviceContext>> c = GpuDeviceContext::Create(index);
      if (c.ok()) {
        contexts_[index].ctx = c->release();  // process lifetime
        PinnedAllocator::Get()->UseContextOf(index);
      } else {
        contexts_[index].error = c.status();
      }
    });
    if (contexts_[index].ctx == nullptr) return contexts_[index].error;
    return contexts_[index].ctx;
  }
  Allocator* pinned_host_allocator() override { return PinnedAllocator::Get(); }

 private:
  struct Slot {
    std::once_flag once;
    DeviceContext* ctx = nullptr;
    absl::Status error;
  };
  int count_ = 0;
  std::unique_ptr<Slot[]> contexts_;
};

}  // namespace

DevicePlatform* CudaPlatform() {
  static Platform* p = new Platform();
  return p;
}

}  // namespace sluice::cuda
