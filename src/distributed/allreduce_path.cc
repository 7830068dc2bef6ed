#include "distributed/allreduce_path.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"

namespace sluice::distributed {
namespace {

constexpr int64_t kLineFloats = kTensorAlignment / sizeof(float);  // 16

}  // namespace

std::string_view AllreducePathName(AllreducePath path) {
  return path == AllreducePath::kNccl ? "nccl" : "mpi";
}

absl::StatusOr<AllreducePath> ChooseAllreducePath(std::string_view requested,
                                                  bool gpu, bool nccl_built) {
  if (requested == "mpi") return AllreducePath::kMpi;
  if (requested == "auto") {
    return gpu && nccl_built ? AllreducePath::kNccl : AllreducePath::kMpi;
  }
  if (requested == "nccl") {
    if (!gpu) {
      return absl::InvalidArgumentError(
          "--allreduce nccl: NCCL reduces GPU gradients; this run trains on "
          "the CPU "
          "(use --device gpu)");
    }
    if (!nccl_built) {
      return absl::FailedPreconditionError(
          "--allreduce nccl: no NCCL here (this build has none: configure "
          "with CUDA where nccl.h is found; or libnccl.so.2 could not be "
          "loaded); --allreduce mpi reduces on the host");
    }
    return AllreducePath::kNccl;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown --allreduce '", Sv(requested), "' (auto, mpi, nccl)"));
}

absl::StatusOr<int> GpuForRank(int explicit_index, int rank, int local_rank,
                               int local_size, int gpu_count) {
  if (explicit_index >= 0) {
    if (explicit_index >= gpu_count) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rank ", rank, ": --device gpu:", explicit_index,
          " but this host has ", gpu_count, " GPU", gpu_count == 1 ? "" : "s"));
    }
    return explicit_index;
  }
  if (local_rank >= gpu_count) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rank ", rank, " is local rank ", local_rank, " of ", local_size,
        " on its host, which has ", gpu_count, " GPU",
        gpu_count == 1 ? "" : "s", ": one GPU per rank (start at most ",
        gpu_count, " ranks per host, or name a GPU with --device gpu:N)"));
  }
  return local_rank;
}

std::vector<Bucket> PlanBuckets(int64_t floats, int64_t bucket_bytes) {
  const int64_t per = std::max<int64_t>(
      kLineFloats, bucket_bytes / static_cast<int64_t>(sizeof(float)));
  std::vector<Bucket> out;
  for (int64_t off = 0; off < floats; off += per)
    out.push_back({off, std::min(per, floats - off)});
  return out;
}

absl::StatusOr<SlotLayout> LayOutSlots(const std::vector<TensorShape>& shapes,
                                       int64_t header_floats) {
  if (header_floats < 0 || header_floats % kLineFloats != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LayOutSlots: header of ", header_floats,
                     " floats is not a multiple of ", kLineFloats));
  }
  SlotLayout layout;
  int64_t n = header_floats;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!shapes[i].IsFullyDefined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("gradient ", i, " has shape ", shapes[i].DebugString(),
                       ", not fully defined"));
    }
    layout.offsets.push_back(n);
    n = (n + shapes[i].num_elements() + kLineFloats - 1) / kLineFloats *
        kLineFloats;
  }
  layout.floats = n;
  return layout;
}

}  // namespace sluice::distributed
