#include "graph/cuda/gpu_device.h"

#include <mutex>

#include "kernels/cuda/cuda_status.h"
#include "kernels/cuda/gpu_device_context.h"

namespace sluice {

int GpuDeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

absl::StatusOr<DeviceContext*> GpuContext() {
  static absl::StatusOr<DeviceContext*>* ctx = [] {
    if (GpuDeviceCount() == 0) {
      return new absl::StatusOr<DeviceContext*>(
          absl::FailedPreconditionError("no CUDA device is visible"));
    }
    absl::StatusOr<std::unique_ptr<cuda::GpuDeviceContext>> c = cuda::GpuDeviceContext::Create(0);
    if (!c.ok()) return new absl::StatusOr<DeviceContext*>(c.status());
    return new absl::StatusOr<DeviceContext*>(c->release());  // process lifetime
  }();
  return *ctx;
}

absl::StatusOr<std::shared_ptr<const DeviceSet>> GpuDeviceSet() {
  SLUICE_ASSIGN_OR_RETURN(DeviceContext * gpu, GpuContext());
  static std::shared_ptr<const DeviceSet> set = [gpu] {
    std::vector<std::unique_ptr<Device>> d;
    d.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
    d.push_back(std::make_unique<Device>(DeviceType::kGPU, 0, gpu));
    return std::make_shared<const DeviceSet>(std::move(d));
  }();
  return set;
}

}  // namespace sluice
