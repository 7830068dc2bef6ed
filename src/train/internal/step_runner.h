#pragma once
// The training step of the job's mode (private to src/train):
//   * alone: Session::Run of the update (train_op) on the batch, unless
//     the step source runs no steps (StepSource::runs_steps);
//   * data-parallel: DataParallelStep (train/data_parallel.h), gradients
//     through NCCL on GPUs when TrainOptions::allreduce allows it, else
//     through MPI on the host; every rank starts from rank 0's variables
//     and epoch (Start broadcasts them);
//   * parameter-server worker: PsWorkerStep (train/ps_training.h), the
//     variables taken from the ps tasks at Start; every rank agrees on the
//     chief's resume epoch (ResumeEpoch), and the chief, which keeps the
//     checkpoints, holds copies of the ps tasks' state: sent to them at
//     Start after a restore, fetched before each checkpoint
//     (BeforeCheckpoint).
// In the distributed modes a stop asked through TrainOptions::stop on any
// rank is agreed on by all (Outcome::stop).
//
// Errors: those of the session, the allreducers and the ps client
// (DeadlineExceeded naming a stalled rank ends the job).
// Not thread-safe. The JobRoles and JobSession given to Start must outlive
// the runner.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/data_parallel.h"
#include "train/internal/job_setup.h"
#include "train/internal/logdir.h"
#include "train/ps_training.h"
#include "train/trainer.h"

namespace sluice::train::internal {

class StepRunner {
 public:
  struct Outcome {
    // Data-parallel: every rank was out of data; nothing ran, the epoch has
    // ended on every rank.
    bool all_out = false;
    bool stop = false;  // a stop was asked on some rank; the step ran
    // Parameter-server worker: the ps's global step after this step's
    // update (TF1's global_step, counting every worker's pushes); -1 in the
    // other modes, where the job's own step count is the global step.
    int64_t global_step = -1;
  };

  // `*first_epoch`: the epoch this rank resumes at; distributed ranks
  // take rank 0's (the chief's). `runs_steps`: whether a lone process runs
  // its steps. `logdir`: this rank's (the checkpoints it keeps, whether it
  // restored one). Logs the gradient allreduce's path on the reporting
  // rank.
  static absl::StatusOr<std::unique_ptr<StepRunner>> Start(
      const TrainOptions& o, const JobRoles& roles, const JobSession& js,
      const Logdir& logdir, bool runs_steps, int* first_epoch);

  // One step on `batch` ({images, labels, ...}; null: this data-parallel
  // rank is out of data, `rows` 0) of `rows` samples; with `fetch_loss` the
  // loss lands in (*out)[0].
  absl::StatusOr<Outcome> Run(const TensorTuple* batch, int64_t rows,
                              bool fetch_loss, std::vector<Tensor>* out);
  // After the device finished an epoch: a parameter-server worker that
  // ends the job here (`stopped`, or `last`: its last epoch) waits for
  // every worker and takes the final values. Whether the job was stopped.
  absl::StatusOr<bool> EndEpoch(bool stopped, bool last);
  // After the last epoch: a worker that has not finished (it resumed after
  // the last epoch) finishes now. Whether the job was stopped.
  absl::StatusOr<bool> EndJob(bool stopped);
  // Before a checkpoint: the chief worker fetches the ps tasks' state.
  absl::Status BeforeCheckpoint();

  // A rank out of data keeps joining steps (data-parallel).
  bool joins_when_out() const { return dp_.has_value(); }
  // Into `r`: allreduce, comm_seconds; a worker's global_step and
  // stale_gradients_dropped.
  void Report(TrainResult* r) const;

 private:
  StepRunner(const TrainOptions& o, const JobSession& js, bool runs_steps)
      : o_(o), js_(js), runs_steps_(runs_steps) {}
  absl::Status StartWorker(const JobRoles& roles, const Logdir& logdir,
                           int* first_epoch);
  absl::Status StartDataParallel(const JobRoles& roles, int* first_epoch);

  const TrainOptions& o_;
  const JobSession& js_;
  const bool runs_steps_;
  std::optional<DataParallelStep> dp_;
  std::optional<PsWorkerStep> ps_;
  std::string allreduce_path_;  // "nccl" / "mpi" in data parallelism
};

}  // namespace sluice::train::internal
