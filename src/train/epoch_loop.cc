#include "train/internal/epoch_loop.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

#include "train/internal/progress.h"
#include "train/internal/summaries.h"

namespace sluice::train::internal {
namespace {

constexpr int64_t kSummarySteps = 100;
constexpr int64_t kLossSteps = 50;  // on an asynchronous device

double Seconds(EpochTrainer::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

class FromInput final : public StepSource::Epoch {
 public:
  explicit FromInput(DevicePrefetcher* input) : input_(input) {}
  absl::StatusOr<DeviceBatch> Next() override { return input_->Next(); }

 private:
  DevicePrefetcher* input_;
};

}  // namespace

std::unique_ptr<StepSource::Epoch> EveryBatch::StartEpoch(
    DevicePrefetcher* input, int64_t) {
  return std::make_unique<FromInput>(input);
}

absl::StatusOr<EpochOutcome> EpochTrainer::Run() {
  EpochOutcome outcome;
  outcome.stats.epoch = epoch_ + 1;
  start_ = last_progress_ = Clock::now();
  batches_ = loop_.source->StartEpoch(input_, loop_.steps_per_epoch);
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool more, Step());
    if (!more) break;
  }
  // The last steps may still be running on the device.
  const auto sync_start = Clock::now();
  SLUICE_RETURN_IF_ERROR(loop_.device->Sync());
  const bool last = epoch_ + 1 >= o_.epochs ||
                    (o_.max_steps > 0 && totals_->steps >= o_.max_steps);
  SLUICE_ASSIGN_OR_RETURN(stopped_, loop_.runner->EndEpoch(stopped_, last));
  // A stop ends the job at this step on every rank: no evaluation or
  // checkpoint of the unfinished epoch.
  if (stopped_) {
    outcome.stopped = true;
    return outcome;
  }
  if (totals_->steps > o_.warmup_steps)
    totals_->measured_seconds += Seconds(Clock::now() - sync_start);
  EpochStats& es = outcome.stats;
  es.seconds = Seconds(Clock::now() - start_);
  es.mean_loss = loss_n_ ? loss_sum_ / loss_n_ : 0;
  es.samples_per_second = steps_ * o_.batch_size / std::max(1e-9, es.seconds);
  es.input_wait_fraction = input_wait_ / std::max(1e-9, es.seconds);
  return outcome;
}

absl::StatusOr<bool> EpochTrainer::Step() {
  const double fill = input_->fill_fraction();
  const int64_t device_bound0 = input_->consumer_bound_wait_ns();
  const auto t0 = Clock::now();
  absl::StatusOr<DeviceBatch> next =
      out_of_data_
          ? absl::StatusOr<DeviceBatch>(absl::OutOfRangeError("share done"))
          : batches_->Next();
  const auto t1 = Clock::now();
  // Waiting because the device has not freed a staging slot is waiting for
  // the device, not for input.
  const double input_wait = std::max(
      0.0, Seconds(t1 - t0) -
               1e-9 * static_cast<double>(input_->consumer_bound_wait_ns() -
                                          device_bound0));
  if (absl::IsOutOfRange(next.status())) {
    if (!loop_.runner->joins_when_out()) return false;
    out_of_data_ = true;  // keep joining the steps until every rank is out
  } else {
    SLUICE_RETURN_IF_ERROR(next.status());
    // The step's kernels wait for the batch's copy on the device only.
    if (next->ready != nullptr)
      SLUICE_RETURN_IF_ERROR(loop_.device->WaitFor(*next->ready));
  }
  const TensorTuple* batch = out_of_data_ ? nullptr : &next->tensors;
  const int64_t rows = out_of_data_ ? 0 : (*batch)[0].dim(0);
  input_wait_ += input_wait;
  // Fetching the loss waits for the step; do it only now and then so that
  // the host runs ahead of an asynchronous device. Summaries every
  // kSummarySteps global steps and at each epoch's first step (short
  // epochs get a loss point too); a ps worker counts its own steps here.
  const int64_t global_step = epoch_ * loop_.steps_per_epoch + steps_ + 1;
  const bool summarize = loop_.events != nullptr &&
                         (global_step % kSummarySteps == 0 || steps_ == 0);
  const bool fetch_loss =
      (steps_ % kLossSteps == 0 || !loop_.gpu || summarize) &&
      loop_.source->runs_steps() && !out_of_data_;
  SLUICE_ASSIGN_OR_RETURN(const StepRunner::Outcome ran,
                          loop_.runner->Run(batch, rows, fetch_loss, &out_));
  if (ran.all_out)
    return false;  // every rank is out: the epoch ended everywhere
  stopped_ = ran.stop;
  const auto t2 = Clock::now();
  ++steps_;
  ++totals_->steps;
  totals_->records_seen += rows;
  SLUICE_RETURN_IF_ERROR(Measure(t0, t1, t2, input_wait));
  // A ps worker's summary carries the ps's step, as its epoch summaries
  // and checkpoints do (this worker's count is only its share of it).
  if (fetch_loss)
    SLUICE_RETURN_IF_ERROR(RecordLoss(
        summarize, fill, ran.global_step >= 0 ? ran.global_step : global_step));
  ReportProgress();
  if (o_.max_steps > 0 && totals_->steps >= o_.max_steps) return false;
  return !stopped_;
}

absl::Status EpochTrainer::Measure(Clock::time_point t0, Clock::time_point t1,
                                   Clock::time_point t2, double input_wait) {
  if (totals_->steps > o_.warmup_steps) {
    // A source that measures the step alone leaves out the wait for its
    // batches.
    const bool with_input = loop_.source->measures_input();
    totals_->measured_seconds += Seconds(t2 - (with_input ? t0 : t1));
    totals_->run_seconds += Seconds(t2 - t1);
    if (with_input) totals_->measured_wait += input_wait;
    ++totals_->measured_steps;
  } else if (totals_->steps == o_.warmup_steps) {
    // Warm-up work still queued on an asynchronous device is not measured.
    SLUICE_RETURN_IF_ERROR(loop_.device->Sync());
  }
  return absl::OkStatus();
}

absl::Status EpochTrainer::RecordLoss(bool summarize, double fill,
                                      int64_t global_step) {
  const float l = out_[0].scalar<float>();
  if (!std::isfinite(l)) {
    return absl::InternalError(
        absl::StrCat("loss is ", l, " at step ", totals_->steps));
  }
  loss_sum_ += l;
  ++loss_n_;
  if (summarize)
    WriteStepSummary(loop_.events, l, fill, o_.prefetch_depth, global_step);
  return absl::OkStatus();
}

void EpochTrainer::ReportProgress() {
  const auto now = Clock::now();
  if (loop_.log == nullptr ||
      Seconds(now - last_progress_) < o_.progress_seconds)
    return;
  last_progress_ = now;
  *loop_.log << ProgressLine(epoch_, o_.epochs, steps_, loop_.steps_per_epoch,
                             o_.batch_size, loss_n_ ? loss_sum_ / loss_n_ : 0.0,
                             Seconds(now - start_), input_wait_, *metrics_)
             << std::flush;
}

}  // namespace sluice::train::internal
