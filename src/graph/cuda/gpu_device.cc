#include "graph/cuda/gpu_device.h"

namespace sluice {

absl::StatusOr<std::shared_ptr<const DeviceSet>> GpuDeviceSet(
    const std::vector<int>& visible) {
  if (GpuDeviceCount() == 0)
    return absl::FailedPreconditionError("no CUDA device is visible");
  return DeviceSet::WithGpus(visible, /*prefers_gpu=*/false);
}

}  // namespace sluice
