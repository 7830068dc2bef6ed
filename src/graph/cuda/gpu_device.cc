#include "graph/cuda/gpu_device.h"

namespace sluice {

absl::StatusOr<std::shared_ptr<const DeviceSet>> GpuDeviceSet() {
  const int n = GpuDeviceCount();
  if (n == 0) return absl::FailedPreconditionError("no CUDA device is visible");
  std::vector<std::unique_ptr<Device>> d;
  d.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
  for (int i = 0; i < n; ++i) {
    SLUICE_ASSIGN_OR_RETURN(DeviceContext * gpu, GpuContext(i));
    d.push_back(std::make_unique<Device>(DeviceType::kGPU, i, gpu));
  }
  return std::shared_ptr<const DeviceSet>(std::make_shared<const DeviceSet>(std::move(d)));
}

}  // namespace sluice
