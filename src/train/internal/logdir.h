#pragma once
// The training job's logdir (TrainOptions::logdir; private to src/train):
// the TensorBoard event file and the checkpoints, kept by rank 0 (with
// parameter servers, the chief worker: worker task 0; elsewhere the Logdir
// is inactive: no events, no checkpoints).
//
// Open creates the directory and, with TrainOptions::resume, restores the
// latest checkpoint in it (Saver over every global variable, 3 kept):
// first_epoch() is then the epochs it completed (global_step / steps per
// epoch; with a world, the recorded "epochs_done"), else 0. After each
// epoch the caller asks EpochEndStep for the step the epoch's summaries
// and checkpoint carry and calls Save: logdir/model.ckpt-STEP (on the GPU
// the variables are first staged back as host tensors). Close flushes and
// closes the event file.
//
// Errors: the Saver's and the event file's, unchanged; the session's.
// Not thread-safe. The JobSession must outlive the Logdir.

#include <cstdint>
#include <memory>

#include "core/status.h"
#include "graph/saver.h"
#include "graph/summary_writer.h"
#include "train/internal/job_setup.h"
#include "train/trainer.h"

namespace sluice::train::internal {

class Logdir {
 public:
  static absl::StatusOr<std::unique_ptr<Logdir>> Open(const TrainOptions& o,
                                                      const JobRoles& roles,
                                                      JobSession* js,
                                                      int64_t steps_per_epoch);

  // The event file; null when inactive.
  FileWriter* events() const { return events_.get(); }
  int first_epoch() const { return first_epoch_; }
  // Whether Open restored a checkpoint.
  bool restored() const { return restored_; }

  // The global step after epoch `epoch` (0-based): (epoch + 1) * steps per
  // epoch alone; with a world (whose epochs have as many steps as the
  // largest share) the global_step variable, and "epochs_done" is set to
  // epoch + 1 for a resume.
  absl::StatusOr<int64_t> EpochEndStep(int epoch);
  // logdir/model.ckpt-`step`. Active Logdir only.
  absl::Status Save(int64_t step);
  absl::Status Close();

 private:
  Logdir(const TrainOptions& o, JobSession* js, int64_t steps_per_epoch,
         bool world)
      : o_(o),
        js_(js),
        steps_per_epoch_(steps_per_epoch),
        world_(world),
        saver_(js->globals, SaverOptions{.max_to_keep = 3}) {}
  // With TrainOptions::resume: the latest checkpoint restored, first_epoch_
  // set.
  absl::Status Resume(std::ostream* log);

  const TrainOptions& o_;
  JobSession* js_;
  const int64_t steps_per_epoch_;
  const bool world_;
  Saver saver_;
  std::unique_ptr<FileWriter> events_;
  int first_epoch_ = 0;
  bool restored_ = false;
};

}  // namespace sluice::train::internal
