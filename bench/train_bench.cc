// train.mlp.cpu.end_to_end / train.mlp.gpu.end_to_end (and .no_capture,
// the same without replaying a recorded step: its baseline; .input_only and
// .step_only, the two halves measured apart): the job behind
// `sluice train --model mlp` (train::Train, the same code), from TFRecord
// shards on disk through the whole input pipeline (read, shuffle, batch,
// parse, prefetch, device copy) to the momentum/Adam step, with the test
// evaluation and checkpoints switched off. Items are training samples;
// time is the trainer's own measure over a fixed number of steps after a
// warm-up (graph build, first allocations and the pipeline start-up are
// left out), reported as manual time.
//
// Data: synthetic MNIST-like Examples (pipeline/synthetic_records.h,
// 784-byte images, labels in [0, 10)) written once per process into a
// temporary folder: uncompressed for the CPU result, gzip for the GPU one.
// The GPU result needs a CUDA device; without one it is skipped
// (sluice::bench::Skip), so a CPU-only run stays green.
//
// Counters: input_wait_fraction (the share of step time spent waiting for
// the next batch) and session_run_fraction (the share inside Session::Run:
// on the GPU, the host's time to queue a step; the rest is the device
// syncs at epoch ends).

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "bench/harness.h"
#include "bench/train_measure.h"
#include "benchmark/benchmark.h"
#include "pipeline/synthetic_records.h"
#include "train/trainer.h"

namespace sluice {
namespace {

constexpr int64_t kRecords = 16384;
constexpr int kShards = 4;
constexpr int64_t kWarmupSteps = 10;
constexpr int64_t kMeasuredSteps = 120;

// The shards for `compression`, written on first use; removed at exit.
class BenchData {
 public:
  ~BenchData() {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  absl::StatusOr<train::RecordFiles> Files(Compression compression) {
    auto it = made_.find(compression);
    if (it != made_.end()) return it->second;
    if (root_.empty()) {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "sluice_train_bench_XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
      root_ = tmpl;
    }
    SyntheticOptions so;
    so.out_dir = (std::filesystem::path(root_) / CompressionName(compression)).string();
    so.records = kRecords;
    so.shards = kShards;
    so.record_bytes = 28 * 28;
    so.compression = compression;
    so.seed = 7;
    SLUICE_ASSIGN_OR_RETURN(Manifest m, GenerateSynthetic(so));
    train::RecordFiles f{m.files(), m.records, compression};
    made_.emplace(compression, f);
    return f;
  }

 private:
  std::string root_;
  std::map<Compression, train::RecordFiles> made_;
};

// What a benchmark times: the whole step, or one half of it
// (bench/train_measure.h).
enum class Measure { kEndToEnd, kInputOnly, kStepOnly };

BenchData& Data() {
  static BenchData d;
  return d;
}

void RunEndToEnd(benchmark::State& state, const char* device, int64_t batch,
                 Compression compression, bool capture = true,
                 Measure measure = Measure::kEndToEnd, bool feeds_in_place = true) {
  if (std::string(device) == "gpu" && !train::GpuAvailable()) {
    bench::Skip(state, "no CUDA device");
    return;
  }
  absl::StatusOr<train::RecordFiles> files = Data().Files(compression);
  if (!files.ok()) {
    state.SkipWithError(std::string(files.status().message()).c_str());
    return;
  }
  train::TrainOptions o;
  o.model = train::ModelKind::kMlp;
  o.device = device;
  o.batch_size = batch;
  o.train = *files;
  o.epochs = 1000;  // max_steps ends the run
  o.warmup_steps = kWarmupSteps;
  o.max_steps = kWarmupSteps + kMeasuredSteps;
  o.evaluate = false;
  o.capture_steps = capture;
  o.capture_feeds_in_place = feeds_in_place;
  if (measure == Measure::kInputOnly) o.step_source = bench::InputOnly();
  if (measure == Measure::kStepOnly) o.step_source = bench::StepOnly();
  int64_t samples = 0;
  double wait = 0, run = 0;
  for (auto _ : state) {
    absl::StatusOr<train::TrainResult> r = train::Train(o);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    if (r->measured_steps != kMeasuredSteps || r->measured_seconds <= 0) {
      state.SkipWithError("the trainer did not run the measured steps");
      return;
    }
    state.SetIterationTime(r->measured_seconds);
    samples += r->measured_steps * batch;
    wait = r->input_wait_fraction;
    run = r->run_seconds / r->measured_seconds;
  }
  state.SetItemsProcessed(samples);
  state.counters["input_wait_fraction"] = wait;
  state.counters["session_run_fraction"] = run;
}


struct TrainBench {
  const char* name;
  const char* device;
  int64_t batch;
  Compression compression;
  bool capture;
  Measure measure;
  bool feeds_in_place = true;
};

// The GPU halves: the input alone (read, shuffle, parse, copy to the GPU;
// no step) and the step alone (with and without capture). Input wait
// matters where input_only is faster than step_only.
constexpr TrainBench kTrainBenches[] = {
    {"train.mlp.cpu.end_to_end", "cpu", 128, Compression::kNone, true, Measure::kEndToEnd},
    {"train.mlp.gpu.end_to_end", "gpu", 256, Compression::kGzip, true, Measure::kEndToEnd},
    {"train.mlp.gpu.end_to_end.no_capture", "gpu", 256, Compression::kGzip, false, Measure::kEndToEnd},
    {"train.mlp.gpu.input_only", "gpu", 256, Compression::kGzip, true, Measure::kInputOnly},
    {"train.mlp.gpu.step_only", "gpu", 256, Compression::kGzip, true, Measure::kStepOnly},
    {"train.mlp.gpu.step_only.no_capture", "gpu", 256, Compression::kGzip, false, Measure::kStepOnly},
    // The captured step's feed copy, before/after the staging op: the same
    // runs with each batch copied device to device into the recording's
    // input slot (as before) instead of read in its staging slot.
    {"train.mlp.gpu.step_only.feed_copy", "gpu", 256, Compression::kGzip, true, Measure::kStepOnly,
     false},
    {"train.mlp.gpu.end_to_end.feed_copy", "gpu", 256, Compression::kGzip, true,
     Measure::kEndToEnd, false},
};

// One Train per iteration (a few seconds each): the repetitions give the spread.
const bool kRegistered = [] {
  for (const TrainBench& b : kTrainBenches) {
    benchmark::RegisterBenchmark(b.name,
                                 [b](benchmark::State& state) {
                                   RunEndToEnd(state, b.device, b.batch, b.compression, b.capture,
                                               b.measure, b.feeds_in_place);
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace sluice

// The gain of replaying the recorded step (CUDA graph) over op-by-op runs.
SLUICE_BENCH_BASELINE("train.mlp.gpu.end_to_end", "train.mlp.gpu.end_to_end.no_capture");
SLUICE_BENCH_BASELINE("train.mlp.gpu.step_only", "train.mlp.gpu.step_only.no_capture");
// The staging op: the captured step with its feed copied device to device
// (before) against the same step reading the staging slot in place
// (after); a ratio below 1 is the share of the step the copy cost.
SLUICE_BENCH_BASELINE("train.mlp.gpu.step_only.feed_copy", "train.mlp.gpu.step_only");
SLUICE_BENCH_BASELINE("train.mlp.gpu.end_to_end.feed_copy", "train.mlp.gpu.end_to_end");
