// The build without NCCL: device communicators are not available (GPU
// gradients then go through MPI on the host). With NCCL these functions
// are defined in device/cuda/nccl_communicator.cc instead.
#include "device/device_communicator.h"

#if !SLUICE_DEVICE_HAVE_NCCL

namespace sluice {

bool CommunicatorsAvailable() { return false; }

std::string CommunicatorsUnavailableReason() {
  return "this build has no NCCL (configure with CUDA where nccl.h is found, "
         "SLUICE_ENABLE_NCCL=ON)";
}

absl::StatusOr<std::string> NewCommunicatorId() {
  return absl::UnimplementedError(
      "NewCommunicatorId: this build has no NCCL (configure with CUDA and "
      "nccl.h found, SLUICE_ENABLE_NCCL=ON)");
}

absl::StatusOr<std::unique_ptr<DeviceCommunicator>> NewDeviceCommunicator(
    DeviceContext*, std::string_view, int, int, absl::Duration) {
  return absl::UnimplementedError(
      "NewDeviceCommunicator: this build has no NCCL (configure with CUDA "
      "and nccl.h found, SLUICE_ENABLE_NCCL=ON)");
}

}  // namespace sluice

#endif  // !SLUICE_DEVICE_HAVE_NCCL
