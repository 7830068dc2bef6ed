#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "device/device_registry.h"
#include "distributed/sharding.h"
#include "distributed/variable_sync.h"
#include "device/device_communicator.h"
#include "distributed/allreduce_path.h"
#include "distributed/nccl_allreducer.h"
#include "distributed/world.h"
#include "graph/checkpoint_state.h"
#include "graph/png_encoder.h"
#include "graph/saver.h"
#include "graph/session.h"
#include "graph/summary_writer.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "pipeline/stage_metrics.h"
#include "train/data_parallel.h"
#include "train/internal/progress.h"
#include "train/internal/train_graph.h"
#include "train/internal/train_input.h"
#include "train/ps_training.h"
#if SLUICE_TRAIN_HAVE_GPU
#include "graph/cuda/gpu_device.h"
#endif

namespace sluice::train {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kSummarySteps = 100;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The training job's batches: every batch of the epoch's input.
class EveryBatch final : public StepSource {
 public:
  std::unique_ptr<Epoch> StartEpoch(DevicePrefetcher* input, int64_t) override {
    return std::make_unique<FromInput>(input);
  }

 private:
  class FromInput final : public Epoch {
   public:
    explicit FromInput(DevicePrefetcher* input) : input_(input) {}
    absl::StatusOr<DeviceBatch> Next() override { return input_->Next(); }

   private:
    DevicePrefetcher* input_;
  };
};

// Stores each variable's value back as a host tensor (fetching copies it
// off the device), so the Saver can read it. GPU kernels take host inputs
// and copy them on their next use.
absl::Status StageVariablesOnHost(Session* s, const std::vector<Variable>& vars) {
  std::vector<Output> fetch;
  for (const Variable& v : vars) fetch.push_back(v.value());
  std::vector<Tensor> values;
  SLUICE_RETURN_IF_ERROR(s->Run({}, fetch, &values));
  for (size_t i = 0; i < vars.size(); ++i) SLUICE_RETURN_IF_ERROR(s->AssignVariable(vars[i], values[i]));
  return absl::OkStatus();
}

}  // namespace

namespace {

// Under mpirun, allreduce data parallelism on GPUs takes one GPU per rank:
// the GPU of its local rank, unless --device names one (gpu:N).
absl::StatusOr<int> RankGpuIndex(const TrainOptions& o) {
  SLUICE_ASSIGN_OR_RETURN(const int index, GpuIndex(o.device));
  if (index < 0 || o.world == nullptr || o.world->size() == 1 || o.ps_tasks > 0 ||
      absl::StartsWith(o.device, "gpu:")) {
    return index;
  }
  return distributed::GpuForRank(-1, o.world->rank(), o.world->local_rank(),
                                 o.world->local_size(), GpuDeviceCount());
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& o) {
  if (o.batch_size < 1) return absl::InvalidArgumentError("batch size must be positive");
  if (o.train.files.empty()) return absl::InvalidArgumentError("no training files");
  SLUICE_ASSIGN_OR_RETURN(const int gpu_index, RankGpuIndex(o));
  const bool gpu = gpu_index >= 0;
  distributed::World* world = o.world;
  const int rank = world ? world->rank() : 0;
  const int world_size = world ? world->size() : 1;
  // Parameter-server mode: ps ranks serve and return; workers shard the
  // data by worker task and talk to the ps tasks (train/ps_training.h).
  const bool ps_mode = world != nullptr && o.ps_tasks > 0;
  std::optional<distributed::Server> server;
  std::unique_ptr<distributed::PsChannel> ps_channel;
  if (ps_mode) {
    SLUICE_ASSIGN_OR_RETURN(server, distributed::Server::FromWorld(*world, o.ps_tasks));
    SLUICE_ASSIGN_OR_RETURN(ps_channel, distributed::PsChannel::Create(world, world->stall_timeout()));
    if (server->job() == "ps") return ServeParameters(o, *server, ps_channel.get());
  }
  const int shard_rank = ps_mode ? server->task() : rank;
  const int shard_size = ps_mode ? server->cluster().num_tasks("worker") : world_size;
  // Rank 0 (worker task 0 with parameter servers) alone reports.
  std::ostream* log = shard_rank == 0 ? o.progress : nullptr;

  Graph g("train");
  SLUICE_ASSIGN_OR_RETURN(internal::TrainGraph gr, internal::BuildTrainGraph(&g, o, gpu_index));
  SessionOptions so;
  so.allow_soft_placement = true;
  so.capture_device_steps = gpu && o.capture_steps;
  so.capture_feeds_in_place = o.capture_feeds_in_place;
  so.log_device_placement = o.log_device_placement;
  if (log != nullptr) so.log_sink = [log](std::string_view line) { *log << line << "\n"; };
  DeviceContext* device = CpuDeviceContext::Get();
#if SLUICE_TRAIN_HAVE_GPU
  if (gpu) {
    SLUICE_RETURN_IF_ERROR(RegisterGpuKernels());
    SLUICE_ASSIGN_OR_RETURN(so.devices, GpuDeviceSet());
    device = so.devices->devices()[1 + gpu_index]->context();  // [0] is the CPU
  }
#endif
  Session session(&g, so);
  std::vector<Variable> globals = GlobalVariables(g);
  SLUICE_RETURN_IF_ERROR(session.Run({}, {}, {GlobalVariablesInitializer(Scope::Root(&g))}, nullptr));

  // Data-parallel epochs end when every rank is out of data (a rank's
  // share may be uneven); this is their length with even shares.
  const int64_t steps_per_epoch =
      world ? (o.train.records + o.batch_size * shard_size - 1) / (o.batch_size * shard_size)
            : o.train.records / o.batch_size;
  if (steps_per_epoch < 1) return absl::InvalidArgumentError("fewer records than one batch");
  Saver saver(globals, SaverOptions{.max_to_keep = 3});
  std::unique_ptr<FileWriter> events;
  int first_epoch = 0;
  bool restored = false;
  // Rank 0 writes events and checkpoints; with parameter servers, the
  // chief worker (worker task 0).
  if (!o.logdir.empty() && shard_rank == 0) {
    std::error_code ec;
    std::filesystem::create_directories(o.logdir, ec);
    if (o.resume) {
      if (std::optional<std::string> last = LatestCheckpoint(o.logdir)) {
        SLUICE_RETURN_IF_ERROR(saver.Restore(&session, *last));
        restored = true;
        SLUICE_ASSIGN_OR_RETURN(Tensor step, session.ReadVariable(gr.global_step));
        first_epoch = static_cast<int>(step.scalar<int64_t>() / steps_per_epoch);
        if (world) {
          SLUICE_ASSIGN_OR_RETURN(Tensor done, session.ReadVariable(gr.epochs_done));
          first_epoch = static_cast<int>(done.scalar<int64_t>());
        }
        if (log) *log << "resumed from " << *last << " (epoch " << first_epoch << " done)\n";
      } else if (log) {
        *log << "no checkpoint in " << o.logdir << "; starting fresh\n";
      }
    }
    SLUICE_ASSIGN_OR_RETURN(events, FileWriter::Create(o.logdir));
  }
  std::optional<DataParallelStep> dp;
  std::optional<PsWorkerStep> ps;
  std::string allreduce_path;  // "nccl" / "mpi" in allreduce data parallelism
  if (ps_mode) {
    SLUICE_ASSIGN_OR_RETURN(distributed::PsPlacement placement,
                            PlaceVariables(server->cluster(), gr.weights));
    std::vector<TensorShape> shapes;
    for (const Variable& v : gr.weights) shapes.push_back(v.shape());
    ps.emplace(&session, gr.weights, gr.ps_grads,
               std::make_unique<distributed::PsClient>(ps_channel.get(), std::move(placement),
                                                       std::move(shapes), world->stall_timeout()));
    SLUICE_ASSIGN_OR_RETURN(first_epoch, ResumeEpoch(world, first_epoch));
    if (events != nullptr) {  // the chief checkpoints the ps tasks' state
      std::vector<Variable> state;
      for (const Variable& v : globals) {
        if (v.op_name() != gr.epochs_done.op_name()) state.push_back(v);
      }
      ps->set_state_variables(std::move(state));
      if (restored) SLUICE_RETURN_IF_ERROR(ps->RestoreState());
    }
    SLUICE_RETURN_IF_ERROR(ps->Start());
  } else if (world) {
    // GPU gradients through NCCL when the build has it (its id sent over
    // MPI), else through MPI on the host.
    SLUICE_ASSIGN_OR_RETURN(
        const distributed::AllreducePath path,
        distributed::ChooseAllreducePath(o.allreduce, gpu, CommunicatorsAvailable()));
    allreduce_path = std::string(distributed::AllreducePathName(path));
    std::unique_ptr<distributed::NcclGradientAllreducer> nccl;
    if (path == distributed::AllreducePath::kNccl) {
      SLUICE_ASSIGN_OR_RETURN(
          nccl, distributed::NcclGradientAllreducer::Create(
                    world, device, distributed::AllreduceOptions{.bucket_bytes = o.allreduce_bucket_bytes}));
    }
    if (log != nullptr) {
      *log << "gradient allreduce: " << allreduce_path
           << (nccl ? " (GPU to GPU, NCCL id sent over MPI)" : gpu ? " (GPU gradients copied to the host" : "")
           << (!nccl && gpu && !CommunicatorsAvailable() ? "; NCCL: " + CommunicatorsUnavailableReason() : "")
           << (!nccl && gpu ? ")" : "") << "\n";
    }
    // Every rank starts from rank 0's variables (its initialisation, or
    // the checkpoint it resumed), and from its epoch.
    if (nccl) {
      SLUICE_RETURN_IF_ERROR(nccl->BroadcastVariables(&session, globals));
    } else {
      SLUICE_RETURN_IF_ERROR(distributed::BroadcastVariables(world, &session, globals));
    }
    int64_t fe = first_epoch;
    SLUICE_RETURN_IF_ERROR(world->Broadcast(&fe, sizeof(fe), "first epoch"));
    first_epoch = static_cast<int>(fe);
    dp.emplace(world, &session, *gr.dp,
               distributed::AllreduceOptions{.bucket_bytes = o.allreduce_bucket_bytes},
               DataParallelOptions{
                   .batch_size = o.allreduce_weighted_in_graph ? o.batch_size : 0,
                   .overlap = o.allreduce_overlap});
    if (nccl) dp->UseNccl(std::move(nccl));
  }
  bool stopped = false;

  SLUICE_ASSIGN_OR_RETURN(
      const internal::TrainInputs inputs,
      internal::TrainInputs::Create(o, gpu ? device : nullptr,
                                    internal::InputShares{.train_sharded = world != nullptr,
                                                          .train_index = shard_rank,
                                                          .train_count = shard_size,
                                                          .test_sharded = world && !ps_mode,
                                                          .test_index = rank,
                                                          .test_count = world_size},
                                    shard_rank == 0 && o.notices != nullptr ? o.notices : log,
                                    first_epoch));
  TrainResult result;
  result.model = ModelKindName(o.model);
  result.device = gpu ? "gpu" : "cpu";
  result.epochs = first_epoch;
  result.rank = rank;
  result.world_size = world_size;
  result.allreduce = allreduce_path;
  if (ps_mode) {
    result.job = "worker";
    result.task = shard_rank;
  }
  double measured_seconds = 0, measured_wait = 0, run_seconds = 0;
  int64_t eval_runs = 0;
  const auto start = Clock::now();
  bool images_logged = false;

  // Each epoch's input (its own shuffle order) is started while the epoch
  // before it trains, so its shuffle buffer and prefetch are full when the
  // epoch begins instead of the first steps waiting for them.
  EveryBatch every_batch;
  StepSource& step_source = o.step_source != nullptr ? *o.step_source : every_batch;
  std::unique_ptr<internal::EpochInput> next_input;
  for (int epoch = first_epoch; epoch < o.epochs; ++epoch) {
    std::unique_ptr<internal::EpochInput> input = std::move(next_input);
    if (input == nullptr) {
      SLUICE_ASSIGN_OR_RETURN(input, inputs.StartEpoch(epoch));
    }
    const bool last_epoch =
        epoch + 1 >= o.epochs || (o.max_steps > 0 && result.steps + steps_per_epoch >= o.max_steps);
    if (!last_epoch) {
      SLUICE_ASSIGN_OR_RETURN(next_input, inputs.StartEpoch(epoch + 1));
    }
    PipelineMetrics& metrics = input->metrics;
    DevicePrefetcher& prefetch = *input->prefetch;
    EpochStats es;
    es.epoch = epoch + 1;
    double loss_sum = 0, epoch_wait = 0;
    int64_t loss_n = 0, epoch_steps = 0;
    const auto epoch_start = Clock::now();
    auto last_progress = epoch_start;
    std::vector<Tensor> out;
    // Dropped before the epoch's input (declared after it).
    std::unique_ptr<StepSource::Epoch> batches = step_source.StartEpoch(&prefetch, steps_per_epoch);
    bool out_of_data = false;  // data-parallel: this rank's share is done
    while (true) {
      const double fill = prefetch.fill_fraction();
      const int64_t device_bound0 = prefetch.consumer_bound_wait_ns();
      const auto t0 = Clock::now();
      absl::StatusOr<DeviceBatch> next =
          out_of_data ? absl::StatusOr<DeviceBatch>(absl::OutOfRangeError("share done"))
                      : batches->Next();
      const auto t1 = Clock::now();
      // Waiting because the device has not freed a staging slot is waiting
      // for the device, not for input.
      const double input_wait =
          std::max(0.0, Seconds(t1 - t0) -
                            1e-9 * static_cast<double>(prefetch.consumer_bound_wait_ns() - device_bound0));
      if (absl::IsOutOfRange(next.status())) {
        if (!dp) break;
        out_of_data = true;  // keep joining the steps until every rank is out
      } else {
        SLUICE_RETURN_IF_ERROR(next.status());
        // The step's kernels wait for the batch's copy on the device only.
        if (next->ready != nullptr) SLUICE_RETURN_IF_ERROR(device->WaitFor(*next->ready));
      }
      static const TensorTuple kNoBatch;
      const TensorTuple& batch = out_of_data ? kNoBatch : next->tensors;
      const int64_t rows = out_of_data ? 0 : batch[0].dim(0);
      epoch_wait += input_wait;
      // Fetching the loss waits for the step; do it only now and then so
      // that the host runs ahead of an asynchronous device.
      // Summaries every kSummarySteps global steps and at each epoch's
      // first step (short epochs get a loss point too).
      const int64_t global_step = epoch * steps_per_epoch + epoch_steps + 1;
      const bool summarize =
          events != nullptr && (global_step % kSummarySteps == 0 || epoch_steps == 0);
      const bool fetch_loss = (epoch_steps % 50 == 0 || !gpu || summarize) &&
                              step_source.runs_steps() && !out_of_data;
      if (ps) {
        const bool stop_here = o.stop != nullptr && o.stop->load(std::memory_order_relaxed);
        SLUICE_ASSIGN_OR_RETURN(
            distributed::PsStepResult r,
            ps->Step({{gr.images, batch[0]}, {gr.labels, batch[1]}}, rows,
                     fetch_loss ? std::vector<Output>{gr.loss} : std::vector<Output>{}, stop_here,
                     &out));
        stopped = r.stop;
      } else if (dp) {
        const FeedList feeds = out_of_data ? FeedList{}
                                           : FeedList{{gr.images, batch[0]}, {gr.labels, batch[1]}};
        const bool stop_here = o.stop != nullptr && o.stop->load(std::memory_order_relaxed);
        SLUICE_ASSIGN_OR_RETURN(
            distributed::StepAgreement agreed,
            dp->Step(out_of_data ? nullptr : &feeds, rows,
                     fetch_loss ? std::vector<Output>{gr.loss} : std::vector<Output>{}, stop_here,
                     &out));
        if (agreed.total_samples == 0) break;  // every rank is out: the epoch ended everywhere
        stopped = agreed.stop;
      } else if (step_source.runs_steps()) {
        SLUICE_RETURN_IF_ERROR(session.Run({{gr.images, batch[0]}, {gr.labels, batch[1]}},
                                           fetch_loss ? std::vector<Output>{gr.loss}
                                                      : std::vector<Output>{},
                                           {gr.train_op}, &out));
      }
      const auto t2 = Clock::now();
      ++epoch_steps;
      ++result.steps;
      result.records_seen += rows;
      if (result.steps > o.warmup_steps) {
        // A source that measures the step alone leaves out the wait for
        // its batches.
        const bool with_input = step_source.measures_input();
        measured_seconds += Seconds(t2 - (with_input ? t0 : t1));
        run_seconds += Seconds(t2 - t1);
        if (with_input) measured_wait += input_wait;
        ++result.measured_steps;
      } else if (result.steps == o.warmup_steps) {
        // Warm-up work still queued on an asynchronous device is not measured.
        SLUICE_RETURN_IF_ERROR(device->Sync());
      }
      if (fetch_loss) {
        const float l = out[0].scalar<float>();
        if (!std::isfinite(l)) {
          return absl::InternalError(absl::StrCat("loss is ", l, " at step ", result.steps));
        }
        loss_sum += l;
        ++loss_n;
        if (summarize) {
          SummaryBuilder sb;
          sb.AddScalar("loss", l);
          sb.AddScalar(absl::StrCat("queue/device_prefetch/fraction_of_", o.prefetch_depth, "_full"),
                       static_cast<float>(fill));
          (void)events->AddSummary(sb.bytes(), global_step);
        }
      }
      const auto now = Clock::now();
      if (log != nullptr && Seconds(now - last_progress) >= o.progress_seconds) {
        last_progress = now;
        const double el = Seconds(now - epoch_start);
        *log << internal::ProgressLine(epoch, o.epochs, epoch_steps, steps_per_epoch, o.batch_size,
                                       loss_n ? loss_sum / loss_n : 0.0, el, epoch_wait, metrics)
             << std::flush;
      }
      if (o.max_steps > 0 && result.steps >= o.max_steps) break;
      if (stopped) break;
    }
    // The last steps may still be running on the device.
    const auto sync_start = Clock::now();
    SLUICE_RETURN_IF_ERROR(device->Sync());
    // Parameter servers: after the last step, every worker waits for the
    // others and takes the final values (evaluated below).
    if (ps && (stopped || epoch + 1 >= o.epochs || (o.max_steps > 0 && result.steps >= o.max_steps))) {
      SLUICE_ASSIGN_OR_RETURN(bool job_stopped, ps->Finish(stopped));
      stopped = stopped || job_stopped;
    }
    // A stop ends the job at this step on every rank: no evaluation or
    // checkpoint of the unfinished epoch.
    if (stopped) break;
    if (result.steps > o.warmup_steps) measured_seconds += Seconds(Clock::now() - sync_start);
    es.seconds = Seconds(Clock::now() - epoch_start);
    es.mean_loss = loss_n ? loss_sum / loss_n : 0;
    es.samples_per_second = epoch_steps * o.batch_size / std::max(1e-9, es.seconds);
    es.input_wait_fraction = epoch_wait / std::max(1e-9, es.seconds);

    if (o.evaluate && !o.test.files.empty()) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Iterator> tit, inputs.TestBatches());
      int64_t correct = 0, total = 0;
      while (true) {
        absl::StatusOr<TensorTuple> b = tit->GetNext();
        if (absl::IsOutOfRange(b.status())) break;
        SLUICE_RETURN_IF_ERROR(b.status());
        if (events && !images_logged) {
          images_logged = true;
          SummaryBuilder sb;
          for (int i = 0; i < 3 && i < (*b)[0].dim(0); ++i) {
            auto png = EncodePng(absl::Span<const uint8_t>((*b)[0].data<uint8_t>() +
                                                               i * o.height * o.width,
                                                           o.height * o.width),
                                 o.height, o.width, 1);
            if (png.ok()) sb.AddImage(absl::StrCat("input/image/", i), o.height, o.width, 1, *png);
          }
          (void)events->AddSummary(sb.bytes(), 0);
        }
        SLUICE_RETURN_IF_ERROR(session.Run({{gr.images, (*b)[0]}}, {gr.predictions}, &out));
        ++eval_runs;
        const int64_t* p = out[0].data<int64_t>();
        const int64_t* y = (*b)[1].data<int64_t>();
        for (int64_t i = 0; i < out[0].NumElements(); ++i) correct += p[i] == y[i];
        total += out[0].NumElements();
      }
      if (world && !ps_mode) {
        int64_t counts[2] = {correct, total};
        SLUICE_RETURN_IF_ERROR(world->AllreduceSum(counts, 2, "evaluation counts"));
        correct = counts[0];
        total = counts[1];
      }
      es.test_accuracy = total ? static_cast<double>(correct) / total : 0;
      result.test_accuracy = es.test_accuracy;
    }
    result.epochs = epoch + 1;
    result.per_epoch.push_back(es);
    if (log != nullptr) {
      *log << internal::EpochDoneLine(o.epochs, es, metrics) << std::flush;
    }
    if (events) {
      if (ps) SLUICE_RETURN_IF_ERROR(ps->FetchState());  // the state to save
      SummaryBuilder sb;
      int64_t step = (epoch + 1) * steps_per_epoch;
      if (world) {
        // Epochs have as many steps as the largest share: count them.
        SLUICE_ASSIGN_OR_RETURN(Tensor gs, session.ReadVariable(gr.global_step));
        step = gs.scalar<int64_t>();
        SLUICE_RETURN_IF_ERROR(
            session.AssignVariable(gr.epochs_done, Tensor::Scalar<int64_t>(epoch + 1)));
      }
      if (es.test_accuracy >= 0) sb.AddScalar("accuracy", es.test_accuracy);
      sb.AddScalar("samples_per_second", es.samples_per_second);
      sb.AddScalar("input_wait_fraction", es.input_wait_fraction);
      for (const StageSnapshot& st : metrics.Snapshot()) {
        if (st.threads < 1 || st.wall_ns <= 0) continue;
        const double total = static_cast<double>(st.wall_ns) * st.threads;
        sb.AddScalar(absl::StrCat("pipeline/", st.name, "/busy_fraction"), st.busy_ns / total);
        sb.AddScalar(absl::StrCat("pipeline/", st.name, "/input_wait_fraction"),
                     st.input_wait_ns / total);
      }
      std::vector<Output> wf;
      for (const Variable& v : gr.weights) wf.push_back(v.value());
      std::vector<Tensor> wv;
      SLUICE_RETURN_IF_ERROR(session.Run({}, wf, &wv));
      for (size_t i = 0; i < wv.size(); ++i) {
        std::vector<double> vals(wv[i].flat<float>().begin(), wv[i].flat<float>().end());
        (void)sb.AddHistogram(gr.weights[i].op_name(), vals);
      }
      SLUICE_RETURN_IF_ERROR(events->AddSummary(sb.bytes(), step));
      SLUICE_RETURN_IF_ERROR(events->Flush());
      if (gpu) SLUICE_RETURN_IF_ERROR(StageVariablesOnHost(&session, globals));
      SLUICE_RETURN_IF_ERROR(
          saver.Save(&session, (std::filesystem::path(o.logdir) / "model.ckpt").string(), step)
              .status());
    }
    if (o.max_steps > 0 && result.steps >= o.max_steps) break;
    if (stopped) break;
  }
  if (ps && !ps->finished()) {  // resumed after the last epoch: nothing to train
    SLUICE_ASSIGN_OR_RETURN(bool job_stopped, ps->Finish(stopped));
    stopped = stopped || job_stopped;
  }
  result.seconds = Seconds(Clock::now() - start);
  if (dp) result.comm_seconds = dp->comm_seconds();
  if (ps) {
    result.comm_seconds = ps->comm_seconds();
    result.global_step = ps->global_step();
    result.stale_gradients_dropped = ps->stale_pushes();
  }
  SLUICE_ASSIGN_OR_RETURN(result.params_sha256, distributed::VariablesSha256(&session, gr.weights));
  result.measured_seconds = measured_seconds;
  result.run_seconds = run_seconds;
  const CaptureStats cs = session.capture_stats();
  result.captured_runs = cs.replays;
  if (cs.failures > 0) result.capture_failure = cs.last_failure;
  if (log != nullptr && so.capture_device_steps) {
    *log << internal::CaptureLine(cs, result.steps, eval_runs);
  }
  result.samples_per_second =
      measured_seconds > 0 ? result.measured_steps * o.batch_size / measured_seconds : 0;
  result.input_wait_fraction = measured_seconds > 0 ? measured_wait / measured_seconds : 0;
  if (events) SLUICE_RETURN_IF_ERROR(events->Close());
  result.stopped = stopped;
  return result;
}

std::string TrainResultJson(const TrainResult& r) {
  std::string json = absl::StrFormat(
      "{\"model\":\"%s\",\"device\":\"%s\",\"epochs\":%d,\"test_accuracy\":%.4f,"
      "\"samples_per_second\":%.1f,\"input_wait_fraction\":%.4f,\"rank\":%d,\"world_size\":%d,"
      "\"records_seen\":%d,\"params_sha256\":\"%s\"",
      r.model, r.device, r.epochs, r.test_accuracy, r.samples_per_second, r.input_wait_fraction,
      r.rank, r.world_size, r.records_seen, r.params_sha256);
  if (!r.allreduce.empty()) absl::StrAppendFormat(&json, ",\"allreduce\":\"%s\"", r.allreduce);
  if (!r.job.empty()) {
    absl::StrAppendFormat(&json,
                          ",\"job\":\"%s\",\"task\":%d,\"global_step\":%d,"
                          "\"stale_gradients_dropped\":%d,\"stopped\":%s",
                          r.job, r.task, r.global_step, r.stale_gradients_dropped,
                          r.stopped ? "true" : "false");
  }
  return json + "}";
}

}  // namespace sluice::train
