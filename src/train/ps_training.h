#pragma once
// Parameter-server training for `sluice train --ps-tasks K` under mpirun:
// the first K ranks are TF1's `ps` job, the others its `worker` job
// (distributed::ClusterSpec::FromWorld). The model's trainable variables
// are placed round-robin over the ps tasks (ReplicaDeviceSetter); each ps
// task keeps its variables and their optimizer slots and applies the
// gradients workers push (distributed::ParameterServer); each worker
// trains on its share of every epoch (sharded by worker task, not rank),
// computing gradients from its local copy of the variables and pushing
// them (distributed::PsClient). Asynchronous unless
// TrainOptions::replicas_to_aggregate > 0 (SyncReplicasOptimizer).
//
// ServeParameters is a ps rank's whole job: it returns when every worker
// has finished (or the job was stopped), so the process exits with the
// job. PsWorkerStep is a worker's step, used by Train.
//
// Checkpoints: the chief worker (worker task 0) writes them with the same
// Saver and names as the other modes. Its graph has the optimizer's slots
// and non-slot variables too (never updated there): before a save it
// fetches every ps task's state into them (FetchState), and after a
// restore it sends them to the ps tasks (RestoreState), each keeping the
// variables it now holds, so a run resumes with other numbers of ps tasks
// and workers. Every rank takes part in one collective before the ps
// serve (the epoch the chief resumes from: ResumeEpoch).
//
// Errors: those of the graph, the session, ParameterServer and PsClient
// (DeadlineExceeded naming a stalled rank: the caller ends the job).
// Not thread-safe.

#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "distributed/cluster.h"
#include "distributed/ps_channel.h"
#include "distributed/ps_client.h"
#include "distributed/world.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "train/trainer.h"

namespace sluice::train {

// The ps rank's job: builds the model (same seed as the workers), keeps the
// variables `server`'s task is given, serves until the job ends.
// TrainResult: rank, world_size, job "ps", task, global_step (updates
// applied), stale_gradients_dropped, params_sha256 of its variables,
// stopped.
absl::StatusOr<TrainResult> ServeParameters(const TrainOptions& o,
                                            const distributed::Server& server,
                                            distributed::PsChannel* channel);

// The placement of `vars` over the cluster's ps tasks (round-robin).
absl::StatusOr<distributed::PsPlacement> PlaceVariables(
    const distributed::ClusterSpec& cluster, const std::vector<Variable>& vars);

// The chief's `first_epoch` on every rank of the world (ps ranks pass 0, as
// do the other workers). A collective: every rank calls it once.
absl::StatusOr<int> ResumeEpoch(distributed::World* world, int first_epoch);

class PsWorkerStep {
 public:
  // `grads[i]`: the loss's gradient for `vars[i]` in `session`'s graph.
  PsWorkerStep(Session* session, std::vector<Variable> vars,
               std::vector<Output> grads,
               std::unique_ptr<distributed::PsClient> client)
      : session_(session),
        vars_(std::move(vars)),
        grads_(std::move(grads)),
        client_(std::move(client)) {}

  // The ps tasks' values into the session's variables (before the first step).
  absl::Status Start();
  // Gradients of the batch in `feeds` (with `fetches` into *out), pushed;
  // the values after the update assigned to the session's variables.
  absl::StatusOr<distributed::PsStepResult> Step(
      const FeedList& feeds, int64_t samples,
      const std::vector<Output>& fetches, bool stop, std::vector<Tensor>* out);
  // This worker is done: waits for every worker, then the final values into
  // the session. Whether the job was stopped.
  absl::StatusOr<bool> Finish(bool stop);

  // The chief's copies of the ps tasks' state (weights, optimizer slots,
  // non-slot variables, global step) in `session`, for checkpoints.
  void set_state_variables(std::vector<Variable> vars) {
    state_vars_ = std::move(vars);
  }
  // Every ps task's state into the state variables (and the weights);
  // after Finish, the final state Finish fetched. Internal when a state
  // variable was not in the ps tasks' state (naming it).
  absl::Status FetchState();
  // The state variables (as restored from a checkpoint) to the ps tasks,
  // before Start.
  absl::Status RestoreState();
  bool finished() const { return finished_; }

  int64_t stale_pushes() const { return client_->stale_pushes(); }
  int64_t global_step() const { return global_step_; }
  double comm_seconds() const { return comm_seconds_; }

 private:
  absl::Status Assign(const std::vector<Tensor>& values);
  absl::Status AssignState(const distributed::NamedTensors& state);

  Session* session_;
  std::vector<Variable> vars_;
  std::vector<Output> grads_;
  std::unique_ptr<distributed::PsClient> client_;
  int64_t global_step_ = 0;
  double comm_seconds_ = 0;
  std::vector<Variable> state_vars_;
  bool finished_ = false;
};

}  // namespace sluice::train
