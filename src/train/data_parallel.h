#pragma once
// The data-parallel training step of `sluice train` under mpirun: the
// model's gradients are fetched from the session, averaged across ranks
// (distributed::GradientAllreducer, weighted by each rank's samples) and
// fed to the optimizer's update op. Built by BuildDataParallelGraph in
// place of Optimizer::Minimize, so every optimizer works unchanged.
//
// With DataParallelOptions::batch_size B (the per-rank batch), the loss
// whose gradients are taken is the model's loss times a fed weight
// samples / (B * N), so the gradients come out of the backward pass
// already weighted and their sum across ranks is the average (no scaling
// pass; an uneven step, such as an epoch's end, is rescaled). The
// gradients are fetched in reverse variable order (the order the backward
// pass produces them) and, with `overlap`, each is staged into the
// allreducer's arena as soon as the session computes it (RunOptions::
// fetch_ready) while the allreducer's thread reduces the buckets already
// complete, overlapping the communication with the rest of the backward
// pass. Without B (0) the gradients are averaged after the run (copied
// in weighted, scaled after: GradientAllreducer::Average).
//
// A rank whose share of the epoch has run out still joins each step with
// no batch (zero gradients, weight 0) until every rank is out: Step then
// returns total_samples == 0, nothing is applied, and the epoch has ended
// on every rank at the same step. A stop asked on any rank is returned to
// all (StepAgreement::stop) with the step applied.
//
// On GPUs with NCCL (UseNccl; distributed/nccl_allreducer.h) a step
// first agrees on [samples, stop] over MPI (so the loss weight is
// samples / total and the sum is the exact average), then runs the
// backward pass with the gradients kept on the GPU
// (RunOptions::fetch_device_tensors), sums them in a device arena with
// ncclAllReduce on the compute stream, and feeds the arena's device views
// to the update; nothing is copied to the host. Other fetches are copied
// to the host after the sum.
//
// Errors: the session's, the allreducer's (DeadlineExceeded naming a
// stalled rank; the job must then be aborted).
// Not thread-safe.

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "distributed/gradient_allreducer.h"
#include "distributed/nccl_allreducer.h"
#include "distributed/world.h"
#include "graph/optimizers/optimizer.h"
#include "graph/scope.h"
#include "graph/session.h"

namespace sluice::train {

struct DataParallelGraph {
  Output weight;              // float scalar the loss is scaled by (default 1)
  std::vector<Output> grads;  // the loss's gradient per variable
  std::vector<Output> grad_feeds;  // float placeholders the update reads
  std::vector<TensorShape> shapes;
  Operation apply;  // the optimizer's update (+ global_step)
};

absl::StatusOr<DataParallelGraph> BuildDataParallelGraph(
    const Scope& scope, Optimizer* opt, const Output& loss,
    const std::vector<Variable>& vars, std::optional<Variable> global_step);

struct DataParallelOptions {
  int64_t batch_size =
      0;                // per rank per step; 0: unknown (Average after the run)
  bool overlap = true;  // stage and reduce during the backward pass
};

class DataParallelStep {
 public:
  DataParallelStep(distributed::World* world, Session* session,
                   DataParallelGraph graph,
                   distributed::AllreduceOptions options,
                   DataParallelOptions dp = {})
      : world_(world),
        session_(session),
        graph_(std::move(graph)),
        reducer_(world, options),
        options_(dp) {}

  // One step. `feeds` null: this rank has no batch (samples must be 0).
  // `fetches` are run with the gradients (only when feeds is non-null) and
  // land in *out.
  absl::StatusOr<distributed::StepAgreement> Step(
      const FeedList* feeds, int64_t samples,
      const std::vector<Output>& fetches, bool stop, std::vector<Tensor>* out);

  // Reduces through NCCL on the GPU from now on (see above).
  void UseNccl(std::unique_ptr<distributed::NcclGradientAllreducer> nccl) {
    nccl_ = std::move(nccl);
  }
  bool uses_nccl() const { return nccl_ != nullptr; }

  // Seconds spent in the gradient allreduce after the backward pass
  // (waiting for buckets not finished behind it, the slowest rank
  // included), and copying gradients into the arena. With NCCL: the
  // agreement plus the wait for the GPU to finish the backward pass and
  // the allreduce (the host cannot tell them apart).
  double comm_seconds() const { return comm_seconds_; }
  double copy_seconds() const { return copy_seconds_; }
  // Gradients staged while the backward pass ran (overlap), all steps.
  int64_t gradients_staged_early() const { return reducer_.staged_early(); }
  int64_t steps() const { return steps_; }

 private:
  absl::StatusOr<distributed::StepAgreement> NcclStep(const FeedList* feeds, int64_t samples,
                                                      const std::vector<Output>& fetches,
                                                      bool stop, std::vector<Tensor>* out);

  distributed::World* world_;
  Session* session_;
  DataParallelGraph graph_;
  distributed::GradientAllreducer reducer_;
  std::unique_ptr<distributed::NcclGradientAllreducer> nccl_;
  DataParallelOptions options_;
  std::vector<Tensor> zeros_;  // a rank without a batch brings these
  double comm_seconds_ = 0;
  double copy_seconds_ = 0;
  int64_t steps_ = 0;
};

}  // namespace sluice::train
