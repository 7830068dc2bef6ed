#pragma once
// The data-parallel training step of `sluice train` under mpirun: the
// model's gradients are fetched from the session, averaged across ranks
// (distributed::GradientAllreducer, weighted by each rank's samples) and
// fed to the optimizer's update op. Built by BuildDataParallelGraph in
// place of Optimizer::Minimize, so every optimizer works unchanged.
//
// A rank whose share of the epoch has run out still joins each step with
// no batch (zero gradients, weight 0) until every rank is out: Step then
// returns total_samples == 0, nothing is applied, and the epoch has ended
// on every rank at the same step. A stop asked on any rank is returned to
// all (StepAgreement::stop) with the step applied.
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
#include "distributed/world.h"
#include "graph/optimizers/optimizer.h"
#include "graph/scope.h"
#include "graph/session.h"

namespace sluice::train {

struct DataParallelGraph {
  std::vector<Output> grads;      // the loss's gradient per variable
  std::vector<Output> grad_feeds; // float placeholders the update reads
  std::vector<TensorShape> shapes;
  Operation apply;                // the optimizer's update (+ global_step)
};

absl::StatusOr<DataParallelGraph> BuildDataParallelGraph(const Scope& scope, Optimizer* opt,
                                                         const Output& loss,
                                                         const std::vector<Variable>& vars,
                                                         std::optional<Variable> global_step);

class DataParallelStep {
 public:
  DataParallelStep(distributed::World* world, Session* session, DataParallelGraph graph,
                   distributed::AllreduceOptions options)
      : world_(world), session_(session), graph_(std::move(graph)), reducer_(world, options) {}

  // One step. `feeds` null: this rank has no batch (samples must be 0).
  // `fetches` are run with the gradients (only when feeds is non-null) and
  // land in *out.
  absl::StatusOr<distributed::StepAgreement> Step(const FeedList* feeds, int64_t samples,
                                                  const std::vector<Output>& fetches,
                                                  bool stop, std::vector<Tensor>* out);

  double comm_seconds() const { return comm_seconds_; }
  int64_t steps() const { return steps_; }

 private:
  distributed::World* world_;
  Session* session_;
  DataParallelGraph graph_;
  distributed::GradientAllreducer reducer_;
  double comm_seconds_ = 0;
  int64_t steps_ = 0;
};

}  // namespace sluice::train
