#include "train/trainer.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "distributed/variable_sync.h"
#include "train/internal/epoch_loop.h"
#include "train/internal/evaluation.h"
#include "train/internal/job_setup.h"
#include "train/internal/logdir.h"
#include "train/internal/progress.h"
#include "train/internal/step_runner.h"
#include "train/internal/summaries.h"
#include "train/internal/train_input.h"
#include "train/ps_training.h"

// Train, in the order it runs: the job's roles and device
// (internal/job_setup.h), its graph in a session, the logdir and resume
// (internal/logdir.h), the mode's step (internal/step_runner.h), the
// input (internal/train_input.h); then per epoch the steps
// (internal/epoch_loop.h), the test accuracy (internal/evaluation.h), the
// progress line (internal/progress.h), the summaries
// (internal/summaries.h) and the checkpoint; last the result.
namespace sluice::train {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// One Train call's parts, declared in the order they are built (and
// destroyed in reverse: everything before the session it uses).
class TrainJob {
 public:
  // `roles` (not a parameter server's) must outlive the job.
  static absl::StatusOr<std::unique_ptr<TrainJob>> Create(
      const TrainOptions& o, int gpu_index, internal::JobRoles* roles);
  absl::StatusOr<TrainResult> Run();

 private:
  TrainJob(const TrainOptions& o, internal::JobRoles* roles)
      : o_(o), roles_(*roles) {}
  absl::Status RunEpochs();
  // After epoch `epoch`'s steps: test accuracy, epoch line, summaries and
  // checkpoint.
  absl::Status EndEpoch(int epoch, EpochStats es,
                        const PipelineMetrics& metrics);
  absl::StatusOr<TrainResult> Finish();

  const TrainOptions& o_;
  const internal::JobRoles& roles_;
  std::unique_ptr<internal::JobSession> js_;
  int64_t steps_per_epoch_ = 0;
  std::unique_ptr<internal::Logdir> logdir_;
  int first_epoch_ = 0;
  std::unique_ptr<internal::StepRunner> runner_;
  std::optional<internal::TrainInputs> inputs_;
  std::optional<internal::Evaluator> evaluator_;
  internal::EveryBatch every_batch_;
  internal::StepTotals totals_;
  TrainResult result_;
  bool stopped_ = false;
  Clock::time_point start_;
};

absl::StatusOr<std::unique_ptr<TrainJob>> TrainJob::Create(
    const TrainOptions& o, int gpu_index, internal::JobRoles* roles) {
  std::unique_ptr<TrainJob> job(new TrainJob(o, roles));
  SLUICE_ASSIGN_OR_RETURN(job->js_,
                          internal::StartSession(o, gpu_index, roles->log));
  internal::JobSession& js = *job->js_;
  SLUICE_ASSIGN_OR_RETURN(job->steps_per_epoch_,
                          internal::StepsPerEpoch(o, *roles));
  SLUICE_ASSIGN_OR_RETURN(
      job->logdir_,
      internal::Logdir::Open(o, *roles, &js, job->steps_per_epoch_));
  job->first_epoch_ = job->logdir_->first_epoch();
  StepSource& source =
      o.step_source != nullptr ? *o.step_source : job->every_batch_;
  SLUICE_ASSIGN_OR_RETURN(
      job->runner_,
      internal::StepRunner::Start(o, *roles, js, *job->logdir_,
                                  source.runs_steps(), &job->first_epoch_));
  const bool sum_test = roles->world != nullptr && !roles->ps_mode;
  SLUICE_ASSIGN_OR_RETURN(
      job->inputs_,
      internal::TrainInputs::Create(
          o, js.gpu() ? js.device : nullptr,
          internal::InputShares{.train_sharded = roles->world != nullptr,
                                .train_index = roles->shard_rank,
                                .train_count = roles->shard_size,
                                .test_sharded = sum_test,
                                .test_index = roles->rank,
                                .test_count = roles->world_size,
                                .holder = roles->ps_mode ? "worker" : "rank"},
          roles->shard_rank == 0 && o.notices != nullptr ? o.notices
                                                         : roles->log,
          job->first_epoch_));
  job->evaluator_.emplace(o, js.session.get(), js.parts, *job->inputs_,
                          sum_test ? roles->world : nullptr,
                          job->logdir_->events());
  return job;
}

absl::StatusOr<TrainResult> TrainJob::Run() {
  result_.model = ModelKindName(o_.model);
  result_.device = js_->gpu() ? "gpu" : "cpu";
  result_.epochs = first_epoch_;
  result_.rank = roles_.rank;
  result_.world_size = roles_.world_size;
  if (roles_.ps_mode) {
    result_.job = "worker";
    result_.task = roles_.shard_rank;
  }
  start_ = Clock::now();
  SLUICE_RETURN_IF_ERROR(RunEpochs());
  SLUICE_ASSIGN_OR_RETURN(stopped_, runner_->EndJob(stopped_));
  return Finish();
}

absl::Status TrainJob::RunEpochs() {
  const internal::EpochLoop loop{.o = &o_,
                                 .device = js_->device,
                                 .runner = runner_.get(),
                                 .source = o_.step_source != nullptr
                                               ? o_.step_source.get()
                                               : &every_batch_,
                                 .events = logdir_->events(),
                                 .log = roles_.log,
                                 .steps_per_epoch = steps_per_epoch_,
                                 .gpu = js_->gpu()};
  // Each epoch's input (its own shuffle order) is started while the epoch
  // before it trains, so its shuffle buffer and prefetch are full when the
  // epoch begins instead of the first steps waiting for them.
  std::unique_ptr<internal::EpochInput> next_input;
  for (int epoch = first_epoch_; epoch < o_.epochs; ++epoch) {
    std::unique_ptr<internal::EpochInput> input = std::move(next_input);
    if (input == nullptr) {
      SLUICE_ASSIGN_OR_RETURN(input, inputs_->StartEpoch(epoch));
    }
    const bool last_epoch =
        epoch + 1 >= o_.epochs ||
        (o_.max_steps > 0 && totals_.steps + steps_per_epoch_ >= o_.max_steps);
    if (!last_epoch) {
      SLUICE_ASSIGN_OR_RETURN(next_input, inputs_->StartEpoch(epoch + 1));
    }
    // Dropped before the epoch's input (declared after it).
    internal::EpochTrainer trainer(loop, epoch, input->prefetch.get(),
                                   &input->metrics, &totals_);
    SLUICE_ASSIGN_OR_RETURN(internal::EpochOutcome outcome, trainer.Run());
    if (outcome.stopped) {
      stopped_ = true;
      break;
    }
    SLUICE_RETURN_IF_ERROR(EndEpoch(epoch, outcome.stats, input->metrics));
    if (o_.max_steps > 0 && totals_.steps >= o_.max_steps) break;
  }
  return absl::OkStatus();
}

absl::Status TrainJob::EndEpoch(int epoch, EpochStats es,
                                const PipelineMetrics& metrics) {
  if (evaluator_->enabled()) {
    SLUICE_ASSIGN_OR_RETURN(es.test_accuracy, evaluator_->Accuracy());
    result_.test_accuracy = es.test_accuracy;
  }
  result_.epochs = epoch + 1;
  result_.per_epoch.push_back(es);
  if (roles_.log != nullptr)
    *roles_.log << internal::EpochDoneLine(o_.epochs, es, metrics)
                << std::flush;
  FileWriter* events = logdir_->events();
  if (events == nullptr) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(runner_->BeforeCheckpoint());  // the state to save
  SLUICE_ASSIGN_OR_RETURN(const int64_t step, logdir_->EpochEndStep(epoch));
  SLUICE_RETURN_IF_ERROR(internal::WriteEpochSummary(
      events, js_->session.get(), js_->parts.weights, es, metrics, step));
  return logdir_->Save(step);
}

absl::StatusOr<TrainResult> TrainJob::Finish() {
  TrainResult& r = result_;
  r.seconds = Seconds(Clock::now() - start_);
  r.steps = totals_.steps;
  r.records_seen = totals_.records_seen;
  r.measured_steps = totals_.measured_steps;
  runner_->Report(&r);
  SLUICE_ASSIGN_OR_RETURN(
      r.params_sha256,
      distributed::VariablesSha256(js_->session.get(), js_->parts.weights));
  r.measured_seconds = totals_.measured_seconds;
  r.run_seconds = totals_.run_seconds;
  const CaptureStats cs = js_->session->capture_stats();
  r.captured_runs = cs.replays;
  if (cs.failures > 0) r.capture_failure = cs.last_failure;
  if (roles_.log != nullptr && js_->capture_steps) {
    *roles_.log << internal::CaptureLine(cs, r.steps, evaluator_->runs());
  }
  r.samples_per_second =
      totals_.measured_seconds > 0
          ? r.measured_steps * o_.batch_size / totals_.measured_seconds
          : 0;
  r.input_wait_fraction = totals_.measured_seconds > 0
                              ? totals_.measured_wait / totals_.measured_seconds
                              : 0;
  SLUICE_RETURN_IF_ERROR(logdir_->Close());
  r.stopped = stopped_;
  return std::move(r);
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& o) {
  if (o.batch_size < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("batch size must be positive, got ", o.batch_size));
  if (o.train.files.empty())
    return absl::InvalidArgumentError("no training files");
  SLUICE_ASSIGN_OR_RETURN(const int gpu_index, internal::RankGpuIndex(o));
  // Parameter-server mode: ps ranks serve and return; workers shard the
  // data by worker task and talk to the ps tasks (train/ps_training.h).
  SLUICE_ASSIGN_OR_RETURN(internal::JobRoles roles, internal::AssignRoles(o));
  if (roles.serves_parameters())
    return ServeParameters(o, *roles.server, roles.ps_channel.get());
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<TrainJob> job,
                          TrainJob::Create(o, gpu_index, &roles));
  return job->Run();
}

std::string TrainResultJson(const TrainResult& r) {
  std::string json = absl::StrFormat(
      "{\"model\":\"%s\",\"device\":\"%s\",\"epochs\":%d,\"test_accuracy\":%."
      "4f,"
      "\"samples_per_second\":%.1f,\"input_wait_fraction\":%.4f,\"rank\":%d,"
      "\"world_size\":%d,"
      "\"records_seen\":%d,\"params_sha256\":\"%s\"",
      r.model, r.device, r.epochs, r.test_accuracy, r.samples_per_second,
      r.input_wait_fraction, r.rank, r.world_size, r.records_seen,
      r.params_sha256);
  if (!r.allreduce.empty())
    absl::StrAppendFormat(&json, ",\"allreduce\":\"%s\"", r.allreduce);
  if (!r.job.empty()) {
    absl::StrAppendFormat(&json,
                          ",\"job\":\"%s\",\"task\":%d,\"global_step\":%d,"
                          "\"stale_gradients_dropped\":%d,\"stopped\":%s",
                          r.job, r.task, r.global_step,
                          r.stale_gradients_dropped,
                          r.stopped ? "true" : "false");
  }
  return json + "}";
}

}  // namespace sluice::train
