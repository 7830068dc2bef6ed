#pragma once
// ParameterServer: one task of TF1's `ps` job. It keeps some of the model's
// variables (and their optimizer slots) in a Session of its own, applies the
// gradients workers push (ps_client.h), and sends the values back, over MPI
// point-to-point (PsChannel).
//
//   PsShard shard = *BuildPsShard(scope.WithDevice("/job:ps/task:0"), &adam,
//   my_vars, step); ParameterServer ps(channel, cluster, 0, session, shard,
//   {.replicas_to_aggregate = 2}); SLUICE_ASSIGN_OR_RETURN(PsServeStats s,
//   ps.Serve());   // returns when the job ends
//
// Asynchronous (replicas_to_aggregate 0, TF1's default): every push is
// applied when it arrives, whatever values it was computed from, and the
// pusher gets the values after it at once.
//
// Synchronous (replicas_to_aggregate R, SyncReplicasOptimizer): a push
// carries the step of the values it was computed from (its token). A push
// older than the current step is stale: it is dropped (counted in
// stale_dropped) and its worker gets the current values at once. Fresh
// pushes are held; when R have arrived, their sample-weighted average
//   g = sum_i(n_i * g_i) / sum_i n_i   (the plain mean for equal batches)
// is applied once, the step advances, and each of the R workers gets the
// new values (they wait for them: TF's token queue). When fewer than R
// workers are left unfinished (uneven shares at the end of the data), the
// step needs only as many as are left (TF1 waited forever there).
//
// Ending (TF1's servers never did: tensorflow#4713): a worker that is done
// sends Finish; when every worker has, each gets the final values and Serve
// returns OK, so the ps process exits with the job. A stop asked by any
// worker or by `stop` here is passed to every worker in its next reply;
// they finish and the job ends. A worker that sends nothing for the stall
// timeout while the ps is not holding its reply is named in a
// DeadlineExceeded status ("worker task 1 (rank 2) sent nothing for 2s"),
// after which the caller ends the job (World::Abort: non-zero exit).
// While a worker waits for a held reply, the ps sends it a heartbeat every
// quarter of the stall timeout, so the worker can tell a slow step from a
// dead ps.
//
// The chief worker (worker task 0) starts the job: requests of other
// workers that arrive before its first one are held (they wait, with
// heartbeats), so a state it restores from a checkpoint (kSetState) is
// what every worker starts from.
//
// State (checkpoints; only the chief asks): GetState answers with the
// task's PsShard::state (variables, their optimizer slots, the optimizer's
// non-slot variables, global_step) by name, at once; a Finish may ask for
// it after the final values. SetState assigns, by name, the tensors of
// PsShard::state from a checkpoint's tensors (any others are ignored, so a
// checkpoint saved with another number of ps tasks restores) and sets the
// step from global_step. Each task answers from its own state when it
// receives the request: in asynchronous training the tasks' states are
// snapshots of slightly different moments, as TF1's sharded save was.
//
// Errors: InvalidArgument for non-float32 variables or a malformed or
// mis-sized message (naming the worker); NotFound for a restored state
// that lacks a variable this task keeps, InvalidArgument for one of
// another dtype or shape (both naming the variable); DeadlineExceeded as
// above; the session's. Not thread-safe: Serve runs on one thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"

#include "core/status.h"
#include "distributed/cluster.h"
#include "distributed/ps_channel.h"
#include "graph/optimizers/optimizer.h"
#include "graph/scope.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice::distributed {
namespace internal {
struct RequestHeader;  // distributed/internal/ps_protocol.h
}  // namespace internal

// What one ps task keeps: its variables (in placement order, the order
// gradients arrive in), a float32 placeholder per variable for its
// gradient, and the update that applies them.
struct PsShard {
  std::vector<Variable> variables;
  std::vector<Output> gradient_feeds;
  Operation apply;
  // What a checkpoint holds of this task: `variables`, the optimizer
  // variables the update created for them (slots, non-slot state) and the
  // global step.
  std::vector<Variable> state;
  std::optional<Variable> global_step;
};

// The optimizer's update of `vars` from fed gradients, built in `scope`
// (give it the ps task's device, e.g. "/job:ps/task:1"). `global_step`, if
// given, is incremented by each update. InvalidArgument for a
// non-float32 variable; the optimizer's errors.
absl::StatusOr<PsShard> BuildPsShard(const Scope& scope, Optimizer* optimizer,
                                     const std::vector<Variable>& vars,
                                     std::optional<Variable> global_step);

struct PsServeOptions {
  int replicas_to_aggregate = 0;  // 0: asynchronous
  absl::Duration stall_timeout = absl::Seconds(180);
  const std::atomic<bool>* stop = nullptr;  // a stop asked on this rank
};

struct PsServeStats {
  int64_t step = 0;           // updates applied
  int64_t pushes = 0;         // gradients received
  int64_t applied = 0;        // of them, applied (alone or in an average)
  int64_t stale_dropped = 0;  // of them, dropped as stale (sync only)
  bool stopped = false;       // the job ended on a stop request
};

class ParameterServer {
 public:
  // Serves `shard` (its variables live in `session`, initialised) as task
  // `ps_task` of `cluster`'s "ps" job, to every task of its "worker" job.
  // `channel`, `session` must outlive the server.
  ParameterServer(PsChannel* channel, ClusterSpec cluster, int ps_task,
                  Session* session, PsShard shard, PsServeOptions options);

  // Serves until every worker has finished (OK) or an error; see above.
  absl::StatusOr<PsServeStats> Serve();

 private:
  struct State;
  absl::Status Handle(State* s, int worker, const std::vector<char>& bytes);
  absl::StatusOr<bool> Push(State* s, int worker,
                            const internal::RequestHeader& h, const float* g);
  absl::Status CheckSilentWorkers(
      const State& s, std::chrono::steady_clock::time_point now) const;
  absl::Status ApplyAverage(State* s);
  absl::Status Stop(State* s);
  absl::Status Reply(int worker, int32_t flags, int64_t step);
  absl::Status ReplyState(int worker, int32_t flags, int64_t step);
  absl::Status SetState(State* s, int worker, const std::vector<char>& bytes);
  absl::StatusOr<std::vector<float>> Values();
  std::string WorkerName(int worker) const;

  PsChannel* channel_;
  ClusterSpec cluster_;
  int ps_task_;
  Session* session_;
  PsShard shard_;
  PsServeOptions options_;
  std::vector<int64_t> sizes_;  // floats per variable
  int64_t total_ = 0;
  std::vector<int> worker_ranks_;
};

}  // namespace sluice::distributed
