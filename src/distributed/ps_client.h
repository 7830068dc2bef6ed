#pragma once
// PsClient: a worker's side of the parameter servers (parameter_server.h).
// The worker keeps a local copy of every variable; each step it computes
// gradients from that copy, pushes them to the ps tasks that keep the
// variables (PsPlacement), and gets back the values after the update:
//
//   PsClient c(channel, cluster, placement, shapes, absl::Seconds(180));
//   SLUICE_RETURN_IF_ERROR(c.Pull(&values));            // the ps's values
//   while (...) {
//     grads = <session run on values>;
//     SLUICE_ASSIGN_OR_RETURN(PsStepResult r, c.PushPull(grads, rows, stop,
//     &values)); if (r.stop) break;
//   }
//   SLUICE_RETURN_IF_ERROR(c.Finish(&values));          // final values, job's
//   end
//
// Each ps task's reply carries its step: the token sent with the next push
// (synchronous mode drops a push whose token is behind, and says so).
// Finish returns when every worker has finished, with the final values, so
// every worker ends with the same parameters.
//
// State (the chief worker's checkpoints, see parameter_server.h): GetState
// gathers every ps task's variables, optimizer slots, non-slot variables
// and global step by name (names kept by several tasks, such as Adam's
// beta1_power and global_step, from the lowest task); SetState sends a
// checkpoint's tensors to every task, each keeping those it holds, so a
// checkpoint restores whatever the number of ps tasks it was saved with.
//
// Every wait is bounded: a reply that does not come within the stall
// timeout (the ps sends heartbeats while it holds a reply for a slow step)
// is DeadlineExceeded naming the ps task and rank; the caller ends the
// job. InvalidArgument when gradients or replies do not match the
// variables' sizes, or a variable is not float32.
// Not thread-safe: one worker thread.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

#include "core/status.h"
#include "core/tensor.h"
#include "distributed/cluster.h"
#include "distributed/ps_channel.h"
#include "distributed/ps_placement.h"

namespace sluice::distributed {

// Tensors by name (a checkpoint's variables).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct PsStepResult {
  bool stop = false;    // a stop was asked somewhere: end the job
  int64_t step = 0;     // ps task 0's step after this push
  int stale_tasks = 0;  // ps tasks that dropped this push as stale
};

class PsClient {
 public:
  // `shapes[i]`: variable i's shape (float32), placed by `placement`.
  // `channel` must outlive the client.
  PsClient(PsChannel* channel, PsPlacement placement,
           std::vector<TensorShape> shapes, absl::Duration stall_timeout);

  // Every variable's current value from its ps task.
  absl::Status Pull(std::vector<Tensor>* values);
  // Pushes `grads` (one per variable, from the values of the last reply)
  // over `samples` samples, `stop` to end the job; `values` gets the
  // values after the ps tasks' updates.
  absl::StatusOr<PsStepResult> PushPull(const std::vector<Tensor>& grads,
                                        int64_t samples, bool stop,
                                        std::vector<Tensor>* values);
  // This worker is done (`stop`: and asks the job to stop); returns with
  // the final values once every worker is. Whether the job was stopped.
  // With `state`: also every ps task's final state (as GetState).
  absl::StatusOr<bool> Finish(bool stop, std::vector<Tensor>* values,
                              NamedTensors* state = nullptr);

  // Every ps task's state now (see above). The tokens of later pushes are
  // the steps the tasks answered with.
  absl::StatusOr<NamedTensors> GetState();
  // Every ps task assigns the tensors of `state` it keeps and takes its
  // step from "global_step"; NotFound (from the ps) when `state` lacks one.
  absl::Status SetState(const NamedTensors& state);

  int64_t stale_pushes() const { return stale_pushes_; }

 private:
  absl::StatusOr<PsStepResult> Exchange(int32_t kind,
                                        const std::vector<Tensor>* grads,
                                        int64_t samples, bool stop,
                                        std::vector<Tensor>* values,
                                        int32_t flags = 0);
  // The next reply from ps task `t` that is not a heartbeat;
  // DeadlineExceeded after the stall timeout without one.
  absl::Status Await(int t, std::vector<char>* bytes);
  // The state reply `bytes` (after Await) merged into *state.
  absl::Status MergeState(int t, const std::vector<char>& bytes,
                          NamedTensors* state);

  PsChannel* channel_;
  PsPlacement placement_;
  std::vector<TensorShape> shapes_;
  absl::Duration stall_timeout_;
  std::vector<std::vector<int>> vars_of_;  // per ps task
  std::vector<int64_t> tokens_;  // per ps task: the step of its last reply
  int64_t stale_pushes_ = 0;
};

}  // namespace sluice::distributed
