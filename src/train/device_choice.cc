// TrainOptions::device as a GPU ordinal, and the devices a training
// process sets up (trainer.h).
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "device/device_registry.h"
#include "distributed/allreduce_path.h"
#include "train/trainer.h"

namespace sluice::train {

bool GpuAvailable() {
#if SLUICE_TRAIN_HAVE_GPU
  return GpuDeviceCount() > 0;
#else
  return false;
#endif
}

absl::StatusOr<int> GpuIndex(std::string_view device) {
  if (device == "cpu") return -1;
  if (device == "auto") return GpuAvailable() ? 0 : -1;
  int index = -1;
  if (device == "gpu") {
    index = 0;
  } else if (!absl::StartsWith(Sv(device), "gpu:") ||
             !absl::SimpleAtoi(Sv(device.substr(4)), &index) || index < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown device '", Sv(device), "' (auto, cpu, gpu, gpu:N)"));
  }
  if (!GpuAvailable()) {
    return absl::NotFoundError(
        absl::StrCat("--device ", Sv(device),
                     ": no CUDA device (or this build has no CUDA support)"));
  }
  const int count = GpuDeviceCount();
  if (index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device ", Sv(device), ": this machine has ", count,
                     " GPU", count == 1 ? "" : "s"));
  }
  return index;
}

absl::StatusOr<int> TrainingGpu(std::string_view device,
                                const RankOnHost& where) {
  SLUICE_ASSIGN_OR_RETURN(const int index, GpuIndex(device));
  if (index < 0 || where.world_size == 1 || where.parameter_servers ||
      absl::StartsWith(Sv(device), "gpu:")) {
    return index;
  }
  return distributed::GpuForRank(-1, where.rank, where.local_rank,
                                 where.local_size, GpuDeviceCount());
}

absl::StatusOr<std::shared_ptr<const DeviceSet>> TrainingDeviceSet(
    int gpu_index) {
  if (gpu_index < 0) return DeviceSet::Local();
  return DeviceSet::WithGpus({gpu_index}, /*prefers_gpu=*/false);
}

}  // namespace sluice::train
