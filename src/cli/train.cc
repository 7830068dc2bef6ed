#include "cli/train.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/convert.h"
#include "core/status.h"
#include "distributed/world.h"
#include "train/trainer.h"

namespace sluice::cli {
namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: sluice train [options]\n"
         "\n"
         "Trains on Fashion-MNIST and reports test accuracy after each epoch.\n"
         "  --model M          mlp (784-256-10, default), softmax, cnn\n"
         "  --device D         auto (GPU 0 when present, default), cpu, gpu, gpu:N\n"
         "  --epochs N         default: softmax 25, mlp 20, cnn 5 (8 on the "
         "gpu;\n"
         "                     12 on the cpu with --augment)\n"
         "  --batch-size N     default: 128 (cnn on the cpu: 64)\n"
         "  --seed N           default 1\n"
         "  --deterministic    same results for the same seed (sequential "
         "pipeline order)\n"
         "  --optimizer O      sgd, momentum (0.9), nesterov, adam, adagrad, "
         "rmsprop,\n"
         "                     adadelta, adagradda, ftrl (TensorFlow's update "
         "rules);\n"
         "                     default: adam; momentum on the gpu (cnn: adam)\n"
         "  --lr X             learning rate (default: adam 5e-4, cnn on the "
         "cpu 1e-3;\n"
         "                     momentum/nesterov 0.05, cnn 0.02; rmsprop "
         "5e-4;\n"
         "                     adadelta 1.0; adagrad, adagradda, ftrl 0.1)\n"
         "  --data DIR         converted TFRecords (default $SLUICE_CACHE_DIR "
         "or\n"
         "                     ~/.cache/sluice/fashion-mnist); converted from "
         "--idx-dir once\n"
         "  --idx-dir DIR      IDX files (default "
         "/usr/share/datasets/fashion-mnist); the\n"
         "                     cache is keyed by them, and a given DIR must "
         "hold them\n"
         "  --encoding E       raw (default), jpeg or png: records hold "
         "encoded images,\n"
         "                     decoded in the input pipeline\n"
         "  --augment          with --encoding jpeg|png: pad 2, random crop "
         "28x28 and\n"
         "                     random left-right flip of training images\n"
         "  --logdir DIR       events and checkpoints (default "
         "sluice-runs/MODEL; '' for none)\n"
         "  --resume           continue from the latest checkpoint in "
         "--logdir\n"
         "  --max-steps N      stop after N training steps\n"
         "  --json             end with one JSON line\n"
         "  --quiet            no progress lines\n"
         "  --log-device-placement  print where each op runs\n"
         "  --no-capture       on the GPU, run every step op by op instead of\n"
         "                     replaying it as a recorded CUDA graph\n"
         "\n"
         "Data-parallel under Open MPI: `mpirun -np N sluice train ...` trains on N\n"
         "ranks (each reads its share of every epoch; gradients are averaged each\n"
         "step; rank 0 prints, writes events and checkpoints; --json prints one line\n"
         "per rank). SIGUSR1 or SIGINT on any rank stops every rank after the step.\n"
         "  --stall-timeout S  seconds a rank waits in a collective before naming the\n"
         "                     ranks that did not arrive and ending the job (default 180)\n"
         "  --bucket-mb X      gradient allreduce bucket size in MiB (default 8)\n"
         "  --allreduce P      auto (default: NCCL for GPU gradients when built with\n"
         "                     NCCL, else MPI), mpi (GPU gradients via the host) or\n"
         "                     nccl; each rank takes the GPU of its local rank unless\n"
         "                     --device gpu:N names one\n"
         "  --ps-tasks K       the first K ranks are parameter servers (TF1's ps job):\n"
         "                     variables live there, the other ranks (workers) push\n"
         "                     gradients and pull values; worker task 0 (rank K) prints\n"
         "                     and checkpoints the ps tasks' state (--resume restores it,\n"
         "                     also with other K and N); asynchronous updates unless\n"
         "  --sync-replicas R  each update averages R fresh gradients; stale ones\n"
         "                     are dropped (SyncReplicasOptimizer; R <= workers)\n";
}

std::atomic<bool> g_stop{false};
extern "C" void RequestStop(int) { g_stop.store(true, std::memory_order_relaxed); }

std::string DefaultDataDir() {
  if (const char* c = std::getenv("SLUICE_CACHE_DIR"); c != nullptr && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x) {
    return (std::filesystem::path(x) / "sluice" / "fashion-mnist").string();
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h) {
    return (std::filesystem::path(h) / ".cache" / "sluice" / "fashion-mnist").string();
  }
  return "sluice-cache/fashion-mnist";
}

// The converted split `prefix` in `dir`, converting it from `idx_dir` first
// when there is none, or when the one there was converted from other IDX
// files (the cache is keyed by its source: path, size and modification
// time, kept in the manifest). An --idx-dir given on the command line must
// hold the IDX files: a missing source is an error naming it, never a
// reason to fall back on what the cache holds. Encoded splits are cached
// beside the raw ones (prefix "train-jpeg", ...).
absl::StatusOr<ConvertedDataset> EnsureSplit(
    const std::string& dir, const std::string& idx_dir,
    const std::string& prefix, const std::string& idx_name, int shards,
    std::ostream& out, bool quiet, bool idx_dir_given = false,
    ImageEncoding encoding = ImageEncoding::kRaw) {
  ConvertIdxOptions o;
  for (const char* ext : {"-images-idx3-ubyte.gz", "-images-idx3-ubyte"}) {
    const std::string p = (std::filesystem::path(idx_dir) / (idx_name + ext)).string();
    if (std::filesystem::exists(p)) o.images = p;
  }
  for (const char* ext : {"-labels-idx1-ubyte.gz", "-labels-idx1-ubyte"}) {
    const std::string p = (std::filesystem::path(idx_dir) / (idx_name + ext)).string();
    if (std::filesystem::exists(p)) o.labels = p;
  }
  const bool have_idx = !o.images.empty() && !o.labels.empty();
  if (idx_dir_given && !have_idx) {
    std::error_code ec;
    return absl::NotFoundError(absl::StrCat(
        "--idx-dir ", idx_dir,
        std::filesystem::is_directory(idx_dir, ec) ? ": no IDX files '"
                                                   : " does not exist: no '",
        idx_name,
        "-*-idx?-ubyte[.gz]' to read (apt-get install dataset-fashion-mnist, "
        "or pass "
        "--data / --idx-dir)"));
  }
  const std::string split =
      encoding == ImageEncoding::kRaw
          ? prefix
          : absl::StrCat(prefix, "-", ImageEncodingName(encoding));
  absl::StatusOr<ConvertedDataset> d = ReadConvertManifest(dir, split);
  if (!d.ok() && !absl::IsNotFound(d.status())) return d;
  if (d.ok()) {
    if (!have_idx) return d;  // nothing to compare the cache with
    SLUICE_ASSIGN_OR_RETURN(std::string source,
                            IdxSourceKey(o.images, o.labels));
    if (d->source == source && d->encoding == encoding) return d;
    if (!quiet)
      out << dir
          << " holds data converted from other files; converting again\n";
  }
  if (!have_idx) {
    return absl::NotFoundError(absl::StrCat(
        "no converted data in ", dir, " and no IDX files '", idx_name, "-*-idx?-ubyte[.gz]' in ",
        idx_dir, " (apt-get install dataset-fashion-mnist, or pass --data / --idx-dir)"));
  }
  o.out_dir = dir;
  o.prefix = split;
  o.shards = shards;
  o.encoding = encoding;
  if (!quiet) out << "converting " << o.images << " into " << dir << " (once)\n" << std::flush;
  return ConvertIdx(o);
}

// The command line, as parsed; defaults applied by ApplyDefaults.
struct TrainArgs {
  train::TrainOptions o;
  std::string model = "mlp";
  std::string data = DefaultDataDir();
  std::string idx_dir = "/usr/share/datasets/fashion-mnist";
  bool idx_dir_given = false;
  std::optional<std::string> logdir;
  int epochs = 0;          // 0: the model's default
  int64_t batch_size = 0;  // 0: the model's default
  bool json = false;
  bool quiet = false;
  double stall_timeout = 180;
  double bucket_mb = 8;
  ImageEncoding encoding = ImageEncoding::kRaw;
  bool gpu = false;  // the device asked for is a GPU
};

// An option without a value; false when `arg` is not one.
bool ParseSwitch(const std::string& arg, TrainArgs* a) {
  train::TrainOptions& o = a->o;
  if (arg == "--deterministic") {
    o.deterministic = true;
  } else if (arg == "--resume") {
    o.resume = true;
  } else if (arg == "--json") {
    a->json = true;
  } else if (arg == "--quiet") {
    a->quiet = true;
  } else if (arg == "--log-device-placement") {
    o.log_device_placement = true;
  } else if (arg == "--augment") {
    o.augment = true;
  } else if (arg == "--no-capture") {
    o.capture_steps = false;
  } else {
    return false;
  }
  return true;
}

enum class ValueParse { kOk, kBad, kUnknown };

// The data, model and device options' value `v` of `arg`.
ValueParse ParseJobValue(const std::string& arg, const std::string& v, TrainArgs* a) {
  train::TrainOptions& o = a->o;
  if (arg == "--model") {
    a->model = v;
  } else if (arg == "--device") {
    // Spelling here; whether GPU N exists is checked later (GpuIndex).
    int n = 0;
    if (v != "auto" && v != "cpu" && v != "gpu" &&
        !(absl::StartsWith(v, "gpu:") && absl::SimpleAtoi(v.substr(4), &n) && n >= 0)) {
      return ValueParse::kBad;
    }
    o.device = v;
  } else if (arg == "--data") {
    a->data = v;
  } else if (arg == "--idx-dir") {
    a->idx_dir = v;
    a->idx_dir_given = true;
  } else if (arg == "--encoding") {
    absl::StatusOr<ImageEncoding> e = ParseImageEncoding(v);
    if (!e.ok()) return ValueParse::kBad;
    a->encoding = *e;
  } else if (arg == "--logdir") {
    a->logdir = v;
  } else {
    return ValueParse::kUnknown;
  }
  return ValueParse::kOk;
}

// The training and MPI options' value `v` of `arg`.
ValueParse ParseNumberValue(const std::string& arg, const std::string& v, TrainArgs* a) {
  train::TrainOptions& o = a->o;
  bool ok = true;
  if (arg == "--epochs") {
    ok = absl::SimpleAtoi(v, &a->epochs) && a->epochs >= 1;
  } else if (arg == "--batch-size") {
    ok = absl::SimpleAtoi(v, &a->batch_size) && a->batch_size >= 1;
  } else if (arg == "--seed") {
    ok = absl::SimpleAtoi(v, &o.seed);
  } else if (arg == "--optimizer") {
    absl::StatusOr<train::OptimizerKind> k = train::ParseOptimizerKind(v);
    ok = k.ok();
    if (ok) o.optimizer = *k;
  } else if (arg == "--lr") {
    ok = absl::SimpleAtod(v, &o.learning_rate) && o.learning_rate > 0;
  } else if (arg == "--max-steps") {
    ok = absl::SimpleAtoi(v, &o.max_steps) && o.max_steps >= 1;
  } else if (arg == "--stall-timeout") {
    ok = absl::SimpleAtod(v, &a->stall_timeout) && a->stall_timeout > 0;
  } else if (arg == "--ps-tasks") {
    ok = absl::SimpleAtoi(v, &o.ps_tasks) && o.ps_tasks >= 1;
  } else if (arg == "--sync-replicas") {
    ok = absl::SimpleAtoi(v, &o.replicas_to_aggregate) && o.replicas_to_aggregate >= 1;
  } else if (arg == "--allreduce") {
    ok = v == "auto" || v == "mpi" || v == "nccl";
    if (ok) o.allreduce = v;
  } else if (arg == "--bucket-mb") {
    ok = absl::SimpleAtod(v, &a->bucket_mb) && a->bucket_mb > 0;
  } else {
    return ValueParse::kUnknown;
  }
  return ok ? ValueParse::kOk : ValueParse::kBad;
}

// The command line into *a; an exit status when the command ends here
// (--help: 0, a usage error: 2, said on `err`).
std::optional<int> ParseArgs(int argc, char** argv, std::ostream& out, std::ostream& err,
                             TrainArgs* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(out);
      return 0;
    }
    if (ParseSwitch(arg, a)) continue;
    if (i + 1 >= argc) {
      err << "sluice train: " << arg << " needs a value (or is unknown; see --help)\n";
      return 2;
    }
    const std::string v = argv[++i];
    ValueParse p = ParseJobValue(arg, v, a);
    if (p == ValueParse::kUnknown) p = ParseNumberValue(arg, v, a);
    if (p == ValueParse::kBad) {
      err << "sluice train: bad value '" << v << "' for " << arg << "\n";
      return 2;
    }
    if (p == ValueParse::kUnknown) {
      err << "sluice train: unknown option '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  return std::nullopt;
}

// The model's defaults and the options that need no MPI world checked; 2
// (said on `err`) for a usage error.
std::optional<int> ApplyDefaults(std::ostream& out, std::ostream& err, TrainArgs* a) {
  train::TrainOptions& o = a->o;
  absl::StatusOr<train::ModelKind> kind = train::ParseModelKind(a->model);
  if (!kind.ok()) {
    err << "sluice train: " << kind.status().message() << "\n";
    return 2;
  }
  o.model = *kind;
  absl::StatusOr<int> gpu_index = train::GpuIndex(o.device);
  if (!gpu_index.ok()) {
    err << "sluice train: " << gpu_index.status().message() << "\n";
    return 2;
  }
  a->gpu = *gpu_index >= 0;
  o.epochs = a->epochs > 0 ? a->epochs : train::DefaultEpochs(o.model, a->gpu, o.augment);
  if (a->batch_size == 0) a->batch_size = train::DefaultBatchSize(o.model, a->gpu);
  o.batch_size = a->batch_size;
  o.logdir = a->logdir.has_value() ? *a->logdir
                                   : (std::filesystem::path("sluice-runs") / a->model).string();
  if (o.deterministic) o.parse_threads = 1;
  o.progress = a->quiet ? nullptr : &out;
  o.notices = &err;  // record sharding is said even with --quiet

  if (o.augment && a->encoding == ImageEncoding::kRaw) {
    err << "sluice train: --augment needs --encoding jpeg or png\n";
    return 2;
  }
  o.encoded_images = a->encoding != ImageEncoding::kRaw;
  if (o.replicas_to_aggregate > 0 && o.ps_tasks == 0) {
    err << "sluice train: --sync-replicas needs --ps-tasks\n";
    return 2;
  }
  if (o.ps_tasks > 0 && !distributed::World::LaunchedByMpirun()) {
    err << "sluice train: --ps-tasks needs several ranks: run it under mpirun -np N\n";
    return 2;
  }
  return std::nullopt;
}

// Under mpirun: data-parallel (or parameter servers) over the MPI world,
// into a->o.world; ranks that do not report go quiet. An exit status when
// the command ends here (1: no world; 2: a usage error), said on `err`.
std::optional<int> JoinWorld(std::ostream& err, TrainArgs* a) {
  if (!distributed::World::LaunchedByMpirun()) return std::nullopt;
  train::TrainOptions& o = a->o;
  absl::StatusOr<distributed::World*> w =
      distributed::World::Init({.stall_timeout = absl::Seconds(a->stall_timeout)});
  if (!w.ok()) {
    err << "sluice train: " << w.status() << "\n";
    return 1;
  }
  distributed::World* world = *w;
  o.world = world;
  o.allreduce_bucket_bytes = static_cast<int64_t>(a->bucket_mb * (1 << 20));
  // Rank 0 reports; with parameter servers, worker task 0 (rank K).
  if (world->rank() != o.ps_tasks) a->quiet = true;
  const int workers = world->size() - o.ps_tasks;
  if (o.ps_tasks > 0 && (workers < 1 || o.replicas_to_aggregate > workers)) {
    err << "sluice train: --ps-tasks " << o.ps_tasks << " --sync-replicas "
        << o.replicas_to_aggregate << " over " << world->size()
        << " ranks: needs at least one worker and at most as many replicas as workers\n";
    return 2;
  }
  return std::nullopt;
}

// The converted training and test splits into a->o (rank 0 converts them
// once; the other ranks read what it wrote).
absl::Status PrepareData(std::ostream& out, TrainArgs* a) {
  train::TrainOptions& o = a->o;
  distributed::World* world = o.world;
  if (world != nullptr && world->rank() != 0) {
    SLUICE_RETURN_IF_ERROR(world->Barrier("data conversion"));
  }
  SLUICE_ASSIGN_OR_RETURN(ConvertedDataset train_split,
                          EnsureSplit(a->data, a->idx_dir, "train", "train", 4, out, a->quiet,
                                      a->idx_dir_given, a->encoding));
  SLUICE_ASSIGN_OR_RETURN(ConvertedDataset test_split,
                          EnsureSplit(a->data, a->idx_dir, "test", "t10k", 1, out, a->quiet,
                                      a->idx_dir_given, a->encoding));
  if (world != nullptr && world->rank() == 0) {
    SLUICE_RETURN_IF_ERROR(world->Barrier("data conversion"));
  }
  o.train = {train_split.files, train_split.records, train_split.compression};
  o.test = {test_split.files, test_split.records, test_split.compression};
  o.height = train_split.height;
  o.width = train_split.width;
  return absl::OkStatus();
}

// "data-parallel over N MPI ranks" (or the parameter servers' shape) and
// "training MODEL on N images (DIR), ...".
void PrintPlan(std::ostream& out, const TrainArgs& a) {
  const train::TrainOptions& o = a.o;
  if (o.world != nullptr && o.ps_tasks > 0) {
    out << "parameter servers: " << o.ps_tasks << " ps tasks, " << o.world->size() - o.ps_tasks
        << " workers, "
        << (o.replicas_to_aggregate > 0
                ? absl::StrCat("synchronous (", o.replicas_to_aggregate, " gradients per update)")
                : std::string("asynchronous"))
        << "\n";
  } else if (o.world != nullptr) {
    out << "data-parallel over " << o.world->size() << " MPI ranks\n";
  }
  out << "training " << a.model << " on " << o.train.records << " images (" << a.data << "), "
      << o.epochs << " epochs, batch " << o.batch_size << ", "
      << train::OptimizerKindName(o.optimizer.value_or(train::DefaultOptimizer(o.model, a.gpu)))
      << ", device " << o.device << "\n"
      << std::flush;
}

void PrintResult(std::ostream& out, const TrainArgs& a, const train::TrainResult& r) {
  if (r.stopped && !a.quiet) out << "stopped on request after " << r.steps << " steps\n";
  if (!a.quiet) {
    out << "finished: " << r.epochs << " epochs on " << r.device << ", test accuracy "
        << r.test_accuracy << ", " << static_cast<int64_t>(r.samples_per_second)
        << " samples/s, input wait " << 100 * r.input_wait_fraction << "%, " << r.seconds
        << " s\n";
  }
  if (a.json) out << train::TrainResultJson(r) << "\n";
}

}  // namespace

int RunTrain(int argc, char** argv, std::ostream& out, std::ostream& err) {
  TrainArgs a;
  if (std::optional<int> exit = ParseArgs(argc, argv, out, err, &a)) return *exit;
  if (std::optional<int> exit = ApplyDefaults(out, err, &a)) return *exit;
  if (std::optional<int> exit = JoinWorld(err, &a)) return *exit;
  // An error on one rank ends the whole job (the others would wait for it
  // in the next step).
  distributed::World* world = a.o.world;
  auto fail = [&](const absl::Status& st) {
    if (world != nullptr && world->size() > 1) {
      world->Abort(1, absl::StrCat("sluice train: ", st.ToString()));
    }
    err << "sluice train: " << st.message() << "\n";
    return 1;
  };
  a.o.stop = &g_stop;
  std::signal(SIGUSR1, RequestStop);
  std::signal(SIGINT, RequestStop);
  if (absl::Status st = PrepareData(out, &a); !st.ok()) return fail(st);
  if (!a.quiet) PrintPlan(out, a);
  absl::StatusOr<train::TrainResult> r = train::Train(a.o);
  if (!r.ok()) return fail(r.status());
  PrintResult(out, a, *r);
  return 0;
}

}  // namespace sluice::cli
