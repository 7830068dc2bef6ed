#pragma once
// One epoch of training steps (private to src/train).
//
// EpochTrainer::Run takes the epoch's batches from the step source
// (TrainOptions::step_source; the job's own takes every batch of the
// epoch's input) and runs a step on each through the StepRunner, until
// the source ends the epoch (OutOfRange; a data-parallel rank out of data
// keeps joining steps with no batch until every rank is out), max_steps is
// reached or a stop is agreed. A step waits on the device only for its
// batch's copy; the loss is fetched every 50 steps, every step on the CPU,
// and at the steps that write a summary (every 100 global steps and each
// epoch's first). Then Run waits for the device (the last steps may still
// be running) and lets the runner end the job (parameter servers).
//
// Measured into StepTotals, for the steps after TrainOptions::warmup_steps
// (the device is synced at the end of the warm-up): the time from asking
// for each batch to the step's return (from the batch's arrival when the
// source measures the step alone), the time inside the step, the input
// wait (a wait while the device prefetch waited for the device to free a
// staging slot is the device being behind, and is left out), and the
// epoch's final device sync. Progress lines go to `log` every
// TrainOptions::progress_seconds.
//
// Errors: the input's, the runner's, the device's; Internal "loss is nan
// at step N" when a fetched loss is not finite.
// Not thread-safe. Everything in EpochLoop must outlive the trainer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

#include "core/status.h"
#include "device/device_context.h"
#include "graph/summary_writer.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "pipeline/stage_metrics.h"
#include "train/internal/step_runner.h"
#include "train/trainer.h"

namespace sluice::train::internal {

// The training job's batches: every batch of the epoch's input.
class EveryBatch final : public StepSource {
 public:
  std::unique_ptr<Epoch> StartEpoch(DevicePrefetcher* input, int64_t) override;
};

// Over all epochs of one Train call.
struct StepTotals {
  int64_t steps = 0;
  int64_t records_seen = 0;
  int64_t measured_steps = 0;  // after the warm-up
  double measured_seconds = 0;
  double measured_wait = 0;  // input wait within measured_seconds
  double run_seconds = 0;    // in the step within measured_seconds
};

// What every epoch shares.
struct EpochLoop {
  const TrainOptions* o;
  DeviceContext* device;  // the session's
  StepRunner* runner;
  StepSource* source;
  FileWriter* events;  // null: no summaries
  std::ostream* log;   // null: no progress lines
  int64_t steps_per_epoch;
  bool gpu;
};

struct EpochOutcome {
  // epoch, mean_loss, samples_per_second, input_wait_fraction, seconds;
  // not test_accuracy. Unset when stopped.
  EpochStats stats;
  bool stopped = false;  // a stop ended the job within this epoch
};

class EpochTrainer {
 public:
  using Clock = std::chrono::steady_clock;

  // `epoch` is 0-based; `input`'s prefetcher and metrics feed it.
  EpochTrainer(const EpochLoop& loop, int epoch, DevicePrefetcher* input,
               const PipelineMetrics* metrics, StepTotals* totals)
      : loop_(loop),
        o_(*loop.o),
        epoch_(epoch),
        input_(input),
        metrics_(metrics),
        totals_(totals) {}

  absl::StatusOr<EpochOutcome> Run();

 private:
  // One step; false when the epoch is over (or the job stopped).
  absl::StatusOr<bool> Step();
  // The step's times into StepTotals (see the header comment).
  absl::Status Measure(Clock::time_point t0, Clock::time_point t1,
                       Clock::time_point t2, double input_wait);
  absl::Status RecordLoss(bool summarize, double fill, int64_t global_step);
  void ReportProgress();

  const EpochLoop& loop_;
  const TrainOptions& o_;
  const int epoch_;
  DevicePrefetcher* input_;
  const PipelineMetrics* metrics_;
  StepTotals* totals_;
  std::unique_ptr<StepSource::Epoch> batches_;
  std::vector<Tensor> out_;
  double loss_sum_ = 0;
  int64_t loss_n_ = 0;
  double input_wait_ = 0;
  int64_t steps_ = 0;
  bool out_of_data_ = false;  // data-parallel: this rank's share is done
  bool stopped_ = false;
  Clock::time_point start_;
  Clock::time_point last_progress_;
};

}  // namespace sluice::train::internal
