#pragma once
// The training job behind `sluice train`: an input pipeline over TFRecord
// shards of MNIST-like Examples (TFRecordDataset -> Shuffle -> Batch ->
// parse Map -> Prefetch -> DevicePrefetcher), a model (models.h) trained by
// a graph/optimizers optimizer (momentum SGD, Adam, ...) through a Session
// placed on the CPU or /gpu:0 (soft placement: ops without a GPU kernel run
// on the CPU), test accuracy after every epoch, TensorBoard events,
// checkpoints and resume.
//
// Progress: every `progress_seconds` a line such as
//   "epoch 2/10 step 812 loss 0.3712 | 41.2k samples/s | input wait 1.3% |
//    read 12% busy ... | parse 35% busy ..."
// and one line per epoch with the test accuracy.
//
// Events (logdir/events.out.tfevents.*): scalars "loss" and
// "queue/device_prefetch/fraction_of_N_full" (TensorFlow's queue fill tag)
// every 100 steps and at each epoch's first step; per epoch "accuracy",
// "samples_per_second", "input_wait_fraction",
// "pipeline/<stage>/busy_fraction" and ".../input_wait_fraction" for the
// read, parse, prefetch and device_copy stages, and a histogram per
// weight; three test images once. Checkpoints: logdir/model.ckpt-STEP
// after every epoch (Saver over every global variable: weights, optimizer slots,
// global_step). With `resume`, the latest checkpoint in logdir is restored
// and training continues with the epoch after the one it ended.
//
// Errors: those of GpuIndex(device) (NotFound when no GPU is present and
// a GPU is asked for); those of
// the pipeline, the session (kernel errors name the op) and the files.
// Thread-safety: Train is reentrant (each call has its own graph and
// session).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/device.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "readers/compression.h"
#include "train/models.h"

namespace sluice {
class Optimizer;
class Variable;
}  // namespace sluice

namespace sluice::distributed {
class World;
}  // namespace sluice::distributed

namespace sluice::train {

// The update rule (graph/optimizers): plain gradient descent, momentum,
// Nesterov momentum, Adam, Adagrad, RMSProp, Adadelta, AdagradDA (driven
// by the global step), or FTRL-proximal.
enum class OptimizerKind {
  kSgd,
  kMomentum,
  kNesterov,
  kAdam,
  kAdagrad,
  kRMSProp,
  kAdadelta,
  kAdagradDA,
  kFtrl,
};

// "sgd", "momentum", "nesterov", "adam", "adagrad", "rmsprop", "adadelta",
// "adagradda", "ftrl"; InvalidArgument otherwise.
absl::StatusOr<OptimizerKind> ParseOptimizerKind(std::string_view name);
const char* OptimizerKindName(OptimizerKind kind);

// The defaults `sluice train` uses per model (tuned on Fashion-MNIST so
// each default run reaches the accuracy with a margin): Adam on the
// CPU; on the GPU momentum (its fused update kernel) except for the CNN,
// which keeps Adam, at batch 128 for 8 epochs (figures in optimizer_choice.cc).
OptimizerKind DefaultOptimizer(ModelKind model, bool gpu);
double DefaultLearningRate(ModelKind model, OptimizerKind kind, bool gpu);
// `augment`: training images are randomly cropped and flipped (encoded
// records with --augment), which slows convergence: the CNN on the CPU
// then trains 12 epochs instead of 5.
int DefaultEpochs(ModelKind model, bool gpu, bool augment = false);
int64_t DefaultBatchSize(ModelKind model, bool gpu);

// How the training loop takes its batches (TrainOptions::step_source).
// The training job takes every batch from the epoch's input and runs one
// step on each; a benchmark replaces that to time one half of a step.
class StepSource {
 public:
  // One epoch's batches.
  class Epoch {
   public:
    virtual ~Epoch() = default;
    // The next step's batch; OutOfRange ends the epoch.
    virtual absl::StatusOr<DeviceBatch> Next() = 0;
  };
  virtual ~StepSource() = default;
  // Batches from `input` (the epoch's prefetcher, which outlives the
  // result; the result is destroyed before it) for an epoch of
  // `steps_per_epoch` steps.
  virtual std::unique_ptr<Epoch> StartEpoch(DevicePrefetcher* input, int64_t steps_per_epoch) = 0;
  // Whether the loop runs the training step on each batch.
  virtual bool runs_steps() const { return true; }
  // Whether the wait for a batch is measured (step time and input wait);
  // false measures the step alone.
  virtual bool measures_input() const { return true; }
};

struct RecordFiles {
  std::vector<std::string> files;
  int64_t records = 0;
  Compression compression = Compression::kGzip;
};

struct TrainOptions {
  ModelKind model = ModelKind::kMlp;
  // auto (GPU 0 when present) | cpu | gpu (GPU 0) | gpu:N: the graph is
  // placed on /gpu:N and the input prefetched to that device.
  std::string device = "auto";
  int epochs = 10;
  int64_t batch_size = 128;
  int64_t seed = 1;
  bool deterministic = false;
  RecordFiles train;
  RecordFiles test;
  int64_t height = 28;
  int64_t width = 28;
  int64_t num_classes = 10;
  std::optional<OptimizerKind> optimizer;  // unset: DefaultOptimizer(model, on GPU)
  double learning_rate = 0;  // 0: DefaultLearningRate(model, optimizer)
  double momentum = 0.9;     // momentum and nesterov
  std::string logdir;        // empty: no events, no checkpoints
  bool resume = false;
  int64_t max_steps = 0;     // > 0: stop after this many steps (benchmarks)
  // The first `warmup_steps` steps (graph and pipeline start-up, first
  // allocations) are left out of samples_per_second and input_wait_fraction.
  int64_t warmup_steps = 0;
  bool evaluate = true;      // test accuracy after each epoch
  // Where each step's batch comes from and whether the step runs; null:
  // every batch from the input, one step each (the training job).
  // sluice-bench's measurement modes (bench/train_measure.h) set it.
  std::shared_ptr<StepSource> step_source;
  double progress_seconds = 5;
  // > 1: a parallel parse Map on oneTBB (see train_input.cc before raising it).
  int parse_threads = 1;
  int prefetch_depth = 3;
  // The records' "image" holds an encoded (JPEG / PNG) image, decoded in
  // the parse stage into height x width grayscale pixels.
  bool encoded_images = false;
  // With encoded images, training batches (not evaluation) are augmented:
  // zero-padded by augment_pad pixels, randomly cropped back to height x
  // width, and randomly flipped left-right.
  bool augment = false;
  int64_t augment_pad = 2;
  bool log_device_placement = false;
  // On the GPU: record the training step once as a CUDA graph and replay
  // it (SessionOptions::capture_device_steps).
  bool capture_steps = true;
  // With capture: the recorded step reads each batch in its staging slot
  // (SessionOptions::capture_feeds_in_place); false copies it into the
  // recording's input slot first (sluice-bench's *.feed_copy baselines).
  bool capture_feeds_in_place = true;
  std::ostream* progress = nullptr;  // null: silent
  // What the user must hear of even without progress lines: an input
  // sharded by record because it has fewer files than ranks (workers).
  // Rank 0 (the chief worker) writes it; null: to `progress`.
  std::ostream* notices = nullptr;
  // Data-parallel training over an MPI world (src/distributed), when set
  // (null: this process alone). Each rank reads its share of every epoch
  // (distributed/sharding.h: from rank, world size, epoch and seed; all
  // records once per epoch, uneven shares allowed, no final batch
  // dropped); gradients are averaged over all ranks' samples each step
  // (train/data_parallel.h); every variable starts as rank 0's (after its
  // resume). Only rank 0 writes progress, events and checkpoints; every
  // rank evaluates its share of the test set and the counts are summed.
  distributed::World* world = nullptr;
  int64_t allreduce_bucket_bytes = 8 << 20;
  // How GPU gradients are reduced (distributed/allreduce_path.h): "auto"
  // (NCCL when training on a GPU in a build with NCCL, else MPI), "mpi"
  // (copied to the host) or "nccl". Under mpirun with --device gpu (or
  // auto finding GPUs) each rank trains on the GPU of its local rank.
  std::string allreduce = "auto";
  // With a world: the first `ps_tasks` ranks are parameter servers and the
  // others workers (train/ps_training.h) instead of allreduce data
  // parallelism. `replicas_to_aggregate` > 0: synchronous updates of that
  // many gradients each, stale ones dropped; 0: asynchronous. Each worker
  // evaluates the whole test set on its copy; worker task 0 (the chief)
  // writes events and checkpoints of the ps tasks' state (train/ps_training.h).
  int ps_tasks = 0;
  int replicas_to_aggregate = 0;
  // Gradients are staged and reduced while the backward pass runs
  // (train/data_parallel.h); false: after it. `allreduce_weighted_in_graph`
  // false averages after the run instead (GradientAllreducer::Average:
  // copy in weighted, scale after), the baseline of sluice-dist-bench.
  bool allreduce_overlap = true;
  bool allreduce_weighted_in_graph = true;
  // Set (on any rank) to stop every rank after the current step (without
  // evaluating or checkpointing the unfinished epoch); every rank's result
  // then says `stopped`.
  const std::atomic<bool>* stop = nullptr;
};

struct EpochStats {
  int epoch = 0;  // 1-based
  double test_accuracy = -1;
  double mean_loss = 0;
  double samples_per_second = 0;
  double input_wait_fraction = 0;
  double seconds = 0;
};

struct TrainResult {
  std::string model;
  std::string device;  // "cpu" or "gpu"
  int epochs = 0;      // epochs completed, resumed ones included
  int64_t steps = 0;   // steps run by this call
  double test_accuracy = -1;
  // Over this call's training steps after the warm-up: samples / (time
  // from asking for each batch to its step's return, plus the device
  // syncs at epoch ends); evaluation and checkpoints are not counted.
  double samples_per_second = 0;
  // Time waiting for the next batch / that time. On the GPU a wait while
  // the device prefetch itself waited for the device to free a staging
  // slot is the device being behind, and is left out.
  double input_wait_fraction = 0;
  int64_t measured_steps = 0;      // steps behind samples_per_second
  double measured_seconds = 0;
  // Of measured_seconds: time inside Session::Run (on an asynchronous
  // device, the host's time to queue the step, plus the waits of the
  // steps that fetch the loss).
  double run_seconds = 0;
  double seconds = 0;
  // Session runs (training steps and evaluation batches) served by a
  // recorded (captured) step, and why recording stopped for a run
  // signature if it did (empty otherwise).
  int64_t captured_runs = 0;
  std::string capture_failure;
  std::vector<EpochStats> per_epoch;
  int rank = 0;
  int world_size = 1;
  int64_t records_seen = 0;   // records this rank trained on, all epochs of this call
  std::string params_sha256;  // SHA-256 of the trainable variables' bytes at the end
  // Data-parallel: seconds in the gradient allreduce after the backward
  // pass (waiting for the slowest rank included; with overlap, what the
  // backward pass did not hide).
  double comm_seconds = 0;
  // Data-parallel: "nccl" or "mpi" (how gradients were reduced); empty
  // otherwise.
  std::string allreduce;
  bool stopped = false;  // ended by TrainOptions::stop (on some rank)
  // Parameter-server mode: this rank's job ("ps" or "worker") and task,
  // the global step (ps task 0's updates) and the gradients dropped as
  // stale (a worker: its pushes dropped; a ps: the pushes it dropped).
  std::string job;
  int task = 0;
  int64_t global_step = 0;
  int64_t stale_gradients_dropped = 0;
};

// The update rule TrainOptions asks for (optimizer, learning rate, their
// per-model defaults); `global_step` drives AdagradDA.
absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const TrainOptions& o, bool gpu,
                                                          const Variable& global_step);

// Whether a GPU is usable by this build (false without CUDA).
bool GpuAvailable();
// TrainOptions::device as a GPU ordinal: -1 for the CPU ("cpu", or "auto"
// without a GPU), N for "gpu:N" ("gpu" and "auto" with a GPU: 0).
// InvalidArgument for another spelling or a GPU the machine does not have,
// NotFound when a GPU is asked for and none is usable.
absl::StatusOr<int> GpuIndex(std::string_view device);

// Where a training process stands in its job (distributed::World's rank,
// size, local rank and local size; the defaults are a single process).
struct RankOnHost {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_size = 1;
  bool parameter_servers = false;  // --ps-tasks > 0
};
// The GPU a training process uses (-1: the CPU): GpuIndex(device), except
// under allreduce data parallelism (world_size > 1, no parameter servers)
// with "gpu" or "auto" finding GPUs: the GPU of its local rank
// (distributed::GpuForRank, whose errors name the rank). "gpu:N" is N.
absl::StatusOr<int> TrainingGpu(std::string_view device,
                                const RankOnHost& where);
// The devices a training process sets up for `gpu_index` (TrainingGpu):
// CPU:0 alone for -1, else CPU:0 and that one GPU
// (DeviceSet::WithGpus({gpu_index})): no other GPU of the host gets a CUDA
// context, streams, a cuBLAS handle or a memory pool, so N ranks on an
// N-GPU host make one context per GPU, not N. Errors: WithGpus's.
absl::StatusOr<std::shared_ptr<const DeviceSet>> TrainingDeviceSet(
    int gpu_index);

absl::StatusOr<TrainResult> Train(const TrainOptions& options);

// {"model","device","epochs","test_accuracy","samples_per_second","input_wait_fraction",
//  "rank","world_size","records_seen","params_sha256"}, and in parameter-server
//  mode "job","task","global_step","stale_gradients_dropped","stopped"
std::string TrainResultJson(const TrainResult& r);

}  // namespace sluice::train
