#pragma once
// How a data-parallel job reduces its gradients, decided before training:
// which path (NCCL on the GPUs, or MPI on the host), which GPU each rank
// takes, and how a gradient arena is cut into buckets. Pure functions of
// their arguments (no MPI, no device), so they are unit-tested on CPUs.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice::distributed {

enum class AllreducePath { kMpi, kNccl };

// "mpi" / "nccl" (the value of "allreduce" in `sluice train --json`).
std::string_view AllreducePathName(AllreducePath path);

// The path for `requested` ("auto", "mpi" or "nccl"; --allreduce):
//   auto: NCCL when training on a GPU and the build has NCCL, else MPI;
//   mpi:  MPI (GPU gradients are copied to the host);
//   nccl: NCCL, or an error saying why it cannot be: InvalidArgument when
//         not training on a GPU, FailedPrecondition when NCCL is not
//         available (`nccl_built`: CommunicatorsAvailable()).
// Any other `requested` is InvalidArgument naming it.
absl::StatusOr<AllreducePath> ChooseAllreducePath(std::string_view requested,
                                                  bool gpu, bool nccl_built);

// The GPU rank `rank` trains on: `explicit_index` when the user named one
// (--device gpu:N, >= 0), else its local rank (one GPU per rank on each
// host; NCCL refuses two ranks on one GPU). FailedPrecondition naming the
// rank, its host's rank count and the GPUs when the host has fewer GPUs
// than ranks; InvalidArgument for an explicit index out of range.
absl::StatusOr<int> GpuForRank(int explicit_index, int rank, int local_rank,
                               int local_size, int gpu_count);

// A range of an arena, in floats.
struct Bucket {
  int64_t offset = 0;
  int64_t count = 0;
  bool operator==(const Bucket&) const = default;
};

// Cuts `floats` into consecutive buckets of bucket_bytes (at least one
// 64-byte line each; the last may be shorter). Empty for 0 floats.
std::vector<Bucket> PlanBuckets(int64_t floats, int64_t bucket_bytes);

// Slots for float32 tensors of `shapes` laid end to end, each starting on
// a 64-byte boundary after `header_floats` (a multiple of 16): each slot's
// offset and the arena's size, in floats. InvalidArgument for a shape
// that is not fully defined.
struct SlotLayout {
  std::vector<int64_t> offsets;
  int64_t floats = 0;
};
absl::StatusOr<SlotLayout> LayOutSlots(const std::vector<TensorShape>& shapes,
                                       int64_t header_floats);

}  // namespace sluice::distributed
