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
// Every wait is bounded: a reply that does not come within the stall
// timeout (the ps sends heartbeats while it holds a reply for a slow step)
// is DeadlineExceeded naming the ps task and rank; the caller ends the
// job. InvalidArgument when gradients or replies do not match the
// variables' sizes, or a variable is not float32.
// Not thread-safe: one worker thread.

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

#include "core/status.h"
#include "core/tensor.h"
#include "distributed/cluster.h"
#include "distributed/ps_channel.h"
#include "distributed/ps_placement.h"

namespace sluice::distributed {

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
  absl::StatusOr<bool> Finish(bool stop, std::vector<Tensor>* values);

  int64_t stale_pushes() const { return stale_pushes_; }

 private:
  absl::StatusOr<PsStepResult> Exchange(int32_t kind,
                                        const std::vector<Tensor>* grads,
                                        int64_t samples, bool stop,
                                        std::vector<Tensor>* values);

  PsChannel* channel_;
  PsPlacement placement_;
  std::vector<TensorShape> shapes_;
  absl::Duration stall_timeout_;
  std::vector<std::vector<int>> vars_of_;  // per ps task
  std::vector<int64_t> tokens_;  // per ps task: the step of its last reply
  int64_t stale_pushes_ = 0;
};

}  // namespace sluice::distributed
