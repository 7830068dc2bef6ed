#pragma once
// NcclGradientAllreducer: the data-parallel step's gradient sum on the
// GPUs (one GPU per rank), through NCCL (device/device_communicator.h)
// instead of MPI on the host. The NCCL id is made by rank 0 and
// broadcast over MPI (World); every rank then joins the communicator.
//
// A step has two parts:
//   * Agree(samples, stop): a 2-integer MPI_Allreduce on the host, under
//     World's stall watchdog, before the step's backward pass: every rank
//     learns the total sample count (so the loss can be weighted by
//     samples / total and the sum of the gradients is their average,
//     exact, with no rescaling on the device), whether the epoch has ended
//     everywhere (total 0) and whether any rank asked to stop. A rank that
//     stalls in its input never reaches it and is named by the others'
//     watchdog as on the MPI path.
//   * Sum(grads): the gradients (float32, device tensors as the session
//     computed them, or host tensors; none: zeros for a rank without a
//     batch) are copied on the GPU's compute stream into one device arena
//     (each slot on a 64-byte boundary), the arena is summed in place in
//     buckets of `bucket_bytes`, one ncclAllReduce each, queued on the
//     compute stream after the backward pass, and the call returns when
//     the stream has passed them: polled, with World's stall timeout, so
//     a hung NCCL collective aborts the communicator (ncclCommAbort) and
//     returns DeadlineExceeded instead of hanging. Before returning it, the
//     rank enters an MPI barrier under the watchdog, so a rank that
//     stalled after the agreement (in its backward pass) is named there
//     as on the MPI path, one more stall timeout later. `grads` then view the
//     arena (device memory; valid until the next Sum that finds the arena
//     free again).
// BroadcastVariables gives every rank rank 0's variables with one
// ncclBroadcast (through a device buffer; the variables stay where they
// are).
//
// Errors: Unimplemented in a build without NCCL (Create); InvalidArgument
// for non-float32 gradients or shapes that differ from the step's;
// DeadlineExceeded naming the step (NCCL, or World naming a stalled rank);
// Internal for NCCL, CUDA and MPI errors. After any error in Sum the
// communicator is aborted: the job must end (World::Abort).
// Not thread-safe (the caller's training loop).

#include <memory>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "core/status.h"
#include "core/tensor.h"
#include "device/device_communicator.h"
#include "device/device_context.h"
#include "distributed/gradient_allreducer.h"
#include "distributed/world.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice::distributed {

class NcclGradientAllreducer {
 public:
  // Joins the NCCL communicator of `world` on `gpu` (collective: every
  // rank calls it; waits at most the world's stall timeout).
  static absl::StatusOr<std::unique_ptr<NcclGradientAllreducer>> Create(
      World* world, DeviceContext* gpu, AllreduceOptions options);
  // With a communicator made otherwise (tests: one over MPI on a
  // simulated device, so this class's step logic runs on CPUs).
  static std::unique_ptr<NcclGradientAllreducer> CreateWithCommunicator(
      World* world, DeviceContext* gpu, AllreduceOptions options,
      std::unique_ptr<DeviceCommunicator> comm) {
    return std::unique_ptr<NcclGradientAllreducer>(
        new NcclGradientAllreducer(world, gpu, options, std::move(comm)));
  }

  absl::StatusOr<StepAgreement> Agree(int64_t samples, bool stop,
                                      std::string_view what);

  // Sums `grads` across ranks (see above). `grads` empty: this rank
  // brings zeros of `shapes`; else one gradient per shape.
  absl::Status Sum(const std::vector<TensorShape>& shapes,
                   std::vector<Tensor>* grads, std::string_view what);

  // Rank 0's values of `vars` to every rank (collective).
  absl::Status BroadcastVariables(Session* session,
                                  const std::vector<Variable>& vars);

  // Bytes of the arena (gradients and padding) reduced by the last Sum.
  int64_t last_bytes() const { return last_bytes_; }
  int num_buckets() const { return static_cast<int>(buckets_); }
  DeviceContext* gpu() const { return gpu_; }

  NcclGradientAllreducer(const NcclGradientAllreducer&) = delete;
  NcclGradientAllreducer& operator=(const NcclGradientAllreducer&) = delete;

 private:
  NcclGradientAllreducer(World* world, DeviceContext* gpu,
                         AllreduceOptions options,
                         std::unique_ptr<DeviceCommunicator> comm)
      : world_(world), gpu_(gpu), options_(options), comm_(std::move(comm)) {}
  absl::Status Prepare(const std::vector<TensorShape>& shapes);
  float* arena() const { return static_cast<float*>(arena_->data()); }

  World* world_;
  DeviceContext* gpu_;
  AllreduceOptions options_;
  std::unique_ptr<DeviceCommunicator> comm_;
  RefPtr arena_;  // device memory
  std::vector<TensorShape> shapes_;
  std::vector<int64_t> offsets_;  // of each slot, in floats
  std::vector<Tensor> slots_;
  std::vector<float> zeros_;  // host zeros the arena is cleared from
  int64_t floats_ = 0;
  int64_t buckets_ = 0;
  int64_t last_bytes_ = 0;
};

}  // namespace sluice::distributed
