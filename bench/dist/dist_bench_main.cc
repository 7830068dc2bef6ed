// sluice-dist-bench: the distributed layer measured under mpirun, each
// figure beside its baseline in the same run.
//
//   mpirun -np N sluice-dist-bench [--allreduce] [--train] [--smoke] [--json]
//
// --allreduce  the gradient allreduce of 4 tensors against one bare
//              blocking MPI_Allreduce of the same bytes, 4 KiB..64 MiB,
//              microseconds per call (median of repeats, slowest rank):
//              "arena": GradientAllreducer::SumWeighted with the gradients
//              in the arena's slots (training's path: the backward pass
//              stages them), ratio = arena / bare; "tensors": Average() of
//              4 separate tensors (copied in weighted, scaled after),
//              ratio_t = tensors / bare. --bucket-mb sets the bucket.
// --train      dist.train.MODEL.cpu (--model mlp (default) | cnn |
//              softmax), the ways --modes lists (average, after, overlap;
//              default all three, see TrainBench): train::Train
//              data-parallel on the converted Fashion-MNIST (--data DIR,
//              default the cache of `sluice train`), --steps measured
//              steps per rank after --warmup steps, batch --batch-size
//              per rank (default the model's CPU default): samples/s per
//              rank and in total, and the fraction of step time in the
//              gradient allreduce (waiting for the slowest rank included).
//              With --ps-tasks K [--sync-replicas R]: the same training
//              with K parameter servers (dist.train.mlp.cpu.ps_async or
//              .ps_sync), samples/s per worker and in total, and the
//              fraction of a worker's time in push/pull.
// --smoke      tiny sizes for ctest: --allreduce up to 64 KiB; --train on
//              256 synthetic 28x28 records (bar images, written and
//              converted into a temporary directory by each rank, unless
//              --data is given), 4 steps of batch 32 unless --steps /
//              --batch-size say otherwise.
// Rank 0 prints; --json prints one JSON line per figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include <unistd.h>

#include "cli/convert.h"
#include "distributed/gradient_allreducer.h"
#include "distributed/world.h"
#include "readers/idx.h"
#include "tests/support/synthetic_idx.h"
#include "train/models.h"
#include "train/trainer.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Allreduce(distributed::World* w, bool smoke, bool json,
              int64_t bucket_bytes) {
  std::vector<int64_t> sizes;
  for (int64_t b = 4 << 10; b <= (smoke ? 64 << 10 : 64 << 20); b *= 4)
    sizes.push_back(b);
  if (w->rank() == 0 && !json) {
    std::printf(
        "%-10s %10s %10s %10s %8s %8s   (N=%d, microseconds per call, median, "
        "slowest rank)\n",
        "bytes", "arena", "tensors", "bare", "ratio", "ratio_t", w->size());
  }
  for (int64_t bytes : sizes) {
    const int64_t n = bytes / 4;
    // The same 4 gradients, held as separate tensors (copied into the
    // arena by each call) and in the arena's slots (where training's
    // backward pass stages them as they are produced).
    std::vector<Tensor> grads;
    std::vector<TensorShape> shapes;
    for (int k = 0; k < 4; ++k) {
      grads.push_back(Tensor::Zeros(DType::kFloat32, TensorShape{n / 4}));
      for (int64_t i = 0; i < n / 4; ++i)
        grads[k].data<float>()[i] = 0.001f * (i % 97) + w->rank();
      shapes.push_back(grads[k].shape());
    }
    std::vector<float> flat(n, 1.0f);
    distributed::GradientAllreducer in_arena(w, {.bucket_bytes = bucket_bytes});
    distributed::GradientAllreducer from_tensors(
        w, {.bucket_bytes = bucket_bytes});
    auto slots = in_arena.Prepare(shapes);
    if (!slots.ok()) return 1;
    for (int k = 0; k < 4; ++k) {
      if (!in_arena.Stage(k, grads[k]).ok()) return 1;
    }
    // Repeats sized to ~0.1 s per measurement at the largest sizes.
    const int reps = smoke ? 3
                           : static_cast<int>(std::clamp<int64_t>(
                                 (256 << 20) / bytes, 7, 400));
    std::vector<double> arena_us, tensors_us, bare_us;
    auto timed = [&](std::vector<double>* out, bool keep, auto&& fn) -> bool {
      (void)w->Barrier("sync");
      const auto t0 = Clock::now();
      const bool ok = fn();
      if (keep)
        out->push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - t0)
                .count());
      return ok;
    };
    for (int round = 0; round < 2;
         ++round) {  // round 0 warms up; interleaved, so drift hits all
      for (int i = 0; i < reps; ++i) {
        std::vector<Tensor> g = *slots;
        bool ok = timed(&arena_us, round, [&] {
          auto a = in_arena.SumWeighted(&g, 1, false, w->size(), "bench");
          return a.ok();
        });
        std::vector<Tensor> t = grads;
        ok = ok && timed(&tensors_us, round, [&] {
               auto a = from_tensors.Average(&t, 1, false, "bench");
               return a.ok();
             });
        ok = ok && timed(&bare_us, round, [&] {
               return w->BlockingAllreduceSum(flat.data(), n).ok();
             });
        if (!ok) return 1;
      }
    }
    // Slowest rank's median: a collective is as slow as its last rank.
    std::vector<double> all(3 * w->size(), 0);
    all[3 * w->rank()] = Median(arena_us);
    all[3 * w->rank() + 1] = Median(tensors_us);
    all[3 * w->rank() + 2] = Median(bare_us);
    if (!w->AllreduceSum(all.data(), all.size(), "gather").ok()) return 1;
    double m[3] = {0, 0, 0};
    for (int r = 0; r < w->size(); ++r) {
      for (int k = 0; k < 3; ++k) m[k] = std::max(m[k], all[3 * r + k]);
    }
    if (w->rank() == 0) {
      if (json) {
        std::printf(
            "{\"name\":\"dist.allreduce\",\"world_size\":%d,\"bytes\":%ld,"
            "\"arena_us\":%.1f,"
            "\"tensors_us\":%.1f,\"bare_us\":%.1f,\"ratio\":%.3f,\"tensors_"
            "ratio\":%.3f}\n",
            w->size(), static_cast<long>(bytes), m[0], m[1], m[2], m[0] / m[2],
            m[1] / m[2]);
      } else {
        std::printf("%-10ld %10.1f %10.1f %10.1f %8.3f %8.3f\n",
                    static_cast<long>(bytes), m[0], m[1], m[2], m[0] / m[2],
                    m[1] / m[2]);
      }
    }
  }
  return 0;
}

// What --train measures: `model` (batch `batch_size` per rank, 0: the
// model's CPU default) for `steps` steps per rank after `warmup` steps
// left out of the figures.
struct TrainFlags {
  train::ModelKind model = train::ModelKind::kMlp;
  int64_t steps = 300;
  int64_t warmup = 0;
  int64_t batch_size = 0;
  // The data-parallel ways to run, in this order (see TrainBench).
  std::vector<std::string> modes = {"average", "after", "overlap"};
  int ps_tasks = 0;
  int replicas = 0;
};

// The training every --train figure runs: the CPU, no evaluation, no
// progress lines, as many epochs as `steps` needs.
train::TrainOptions BenchTrainOptions(distributed::World* w,
                                      const cli::ConvertedDataset& split,
                                      const TrainFlags& f) {
  train::TrainOptions o;
  o.model = f.model;
  o.device = "cpu";
  o.epochs = 1000;
  o.max_steps = f.warmup + f.steps;
  o.warmup_steps = f.warmup;
  o.batch_size = f.batch_size > 0
                     ? f.batch_size
                     : train::DefaultBatchSize(f.model, /*gpu=*/false);
  o.train = {split.files, split.records, split.compression};
  o.evaluate = false;
  o.world = w;
  o.progress_seconds = 1e9;
  return o;
}

// --ps-tasks: one run with parameter servers; rank 0 prints the workers'
// figures (a ps rank contributes 0).
int PsTrainBench(distributed::World* w, const cli::ConvertedDataset& split,
                 const TrainFlags& f, bool json) {
  const std::string model = train::ModelKindName(f.model);
  train::TrainOptions o = BenchTrainOptions(w, split, f);
  o.ps_tasks = f.ps_tasks;
  o.replicas_to_aggregate = f.replicas;
  auto r = train::Train(o);
  if (!r.ok()) w->Abort(1, r.status().ToString());
  double sum[2] = {r->samples_per_second,
                   r->comm_seconds / std::max(1e-9, r->seconds)};
  if (!w->AllreduceSum(sum, 2, "gather").ok()) return 1;
  if (w->rank() == 0) {
    const int workers = w->size() - f.ps_tasks;
    const char* mode = f.replicas > 0 ? "sync" : "async";
    if (json) {
      std::printf(
          "{\"name\":\"dist.train.%s.cpu.ps_%s\",\"world_size\":%d,"
          "\"ps_tasks\":%d,\"replicas_to_aggregate\":%d,"
          "\"samples_per_second_per_worker\":%.0f,"
          "\"samples_per_second_total\":%.0f,\"comm_wait_fraction\":%.3f,"
          "\"steps\":%ld,\"batch_size\":%ld}\n",
          model.c_str(), mode, w->size(), f.ps_tasks, f.replicas,
          sum[0] / workers, sum[0], sum[1] / workers,
          static_cast<long>(r->steps), static_cast<long>(o.batch_size));
    } else {
      std::printf(
          "dist.train.%s.cpu.ps_%s N=%d (%d ps, %d workers%s): %.0f "
          "samples/s per worker, %.0f in total, %.1f%% of a worker's time "
          "in push/pull (%ld updates on ps task 0, batch %ld)\n",
          model.c_str(), mode, w->size(), f.ps_tasks, workers,
          f.replicas > 0
              ? absl::StrCat(", ", f.replicas, " replicas per update").c_str()
              : "",
          sum[0] / workers, sum[0], 100 * sum[1] / workers,
          static_cast<long>(r->steps), static_cast<long>(o.batch_size));
    }
  }
  return 0;
}

int TrainBench(distributed::World* w, const std::string& data,
               const TrainFlags& f, bool json) {
  auto split = cli::ReadConvertManifest(data, "train");
  if (!split.ok()) {
    if (w->rank() == 0) {
      std::fprintf(
          stderr,
          "no converted data in %s (run `sluice train` once, or --data): %s\n",
          data.c_str(), split.status().ToString().c_str());
    }
    return 1;
  }
  if (f.ps_tasks > 0) return PsTrainBench(w, *split, f, json);
  const std::string model = train::ModelKindName(f.model);
  // The same training up to three ways: "average" (gradients fetched,
  // then copied into the arena weighted and scaled after: the path before
  // the gradients were weighted in the graph), "after" (weighted in the
  // graph, staged and reduced after the backward pass), "overlap" (staged
  // as the backward pass produces them, buckets reduced meanwhile).
  for (const std::string& mode : f.modes) {
    train::TrainOptions o = BenchTrainOptions(w, *split, f);
    o.allreduce_weighted_in_graph = mode != "average";
    o.allreduce_overlap = mode == "overlap";
    auto r = train::Train(o);
    if (!r.ok()) w->Abort(1, r.status().ToString());
    double sum[2] = {r->samples_per_second,
                     r->comm_seconds / std::max(1e-9, r->seconds)};
    if (!w->AllreduceSum(sum, 2, "gather").ok()) return 1;
    if (w->rank() != 0) continue;
    const double per_rank = sum[0] / w->size(), comm = sum[1] / w->size();
    if (json) {
      std::printf(
          "{\"name\":\"dist.train.%s.cpu\",\"mode\":\"%s\",\"world_size\":%d,"
          "\"samples_per_second_per_rank\":%.0f,"
          "\"samples_per_second_total\":%.0f,\"comm_wait_fraction\":%.3f,"
          "\"steps\":%ld,\"warmup_steps\":%ld,\"batch_size\":%ld}\n",
          model.c_str(), mode.c_str(), w->size(), per_rank, sum[0], comm,
          static_cast<long>(r->measured_steps), static_cast<long>(f.warmup),
          static_cast<long>(o.batch_size));
    } else {
      std::printf(
          "dist.train.%s.cpu N=%d %-8s %6.0f samples/s per rank, %6.0f in "
          "total, %5.1f%% of the time waiting on the gradient allreduce (%ld "
          "steps after %ld warm-up, batch %ld per rank)\n",
          model.c_str(), w->size(), mode.c_str(), per_rank, sum[0], 100 * comm,
          static_cast<long>(r->measured_steps), static_cast<long>(f.warmup),
          static_cast<long>(o.batch_size));
    }
  }
  return 0;
}

// --train --smoke's data: `n` learnable 28x28 images (the training tests'
// bar images, tests/support/synthetic_idx.h), converted as the "train"
// split into `dir` as `sluice convert idx` would. Returns the error naming
// the file.
absl::Status WriteSyntheticSplit(const std::filesystem::path& dir, int64_t n) {
  const testing::IdxPair idx = testing::WriteBarIdx(dir.string(), "train", n, /*seed=*/7);
  cli::ConvertIdxOptions o;
  o.images = idx.images;
  o.labels = idx.labels;
  o.out_dir = dir.string();
  o.compression = Compression::kNone;
  o.prefix = "train";
  return cli::ConvertIdx(o).status();
}

// --help's text.
void PrintHelp() {
  std::printf(
      "usage: mpirun -np N sluice-dist-bench [--allreduce] [--train] "
      "[--smoke] [--json]\n"
      "       [--data DIR] [--steps N] [--bucket-mb MB] [--model M]\n"
      "       [--modes LIST] [--warmup N] [--batch-size B]\n"
      "  --allreduce  bucketed gradient allreduce vs bare MPI_Allreduce, 4 "
      "KiB..64 MiB\n"
      "  --train      dist.train.MODEL.cpu: samples/s per rank and total, "
      "comm fraction\n"
      "  --model M    mlp (default), cnn or softmax\n"
      "  --modes L    comma-separated ways of averaging the gradients:\n"
      "               average (after the run, copied in), after (weighted "
      "in the graph,\n"
      "               reduced after the backward pass), overlap (reduced "
      "during it);\n"
      "               default average,after,overlap\n"
      "  --steps N    measured steps per rank (default 300), after the\n"
      "               warm-up\n"
      "  --warmup N   steps left out of the figures (default 0)\n"
      "  --batch-size B  per rank (default: the model's CPU default)\n"
      "  --smoke      tiny sizes (ctest); with --train: 256 synthetic "
      "records\n"
      "               (unless --data), 4 steps of batch 32\n"
      "  --ps-tasks K [--sync-replicas R]  --train with K parameter "
      "servers\n"
      "               (dist.train.MODEL.cpu.ps_async / .ps_sync), figures "
      "per worker\n");
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  bool allreduce = false, train = false, smoke = false, json = false;
  sluice::TrainFlags flags;
  double bucket_mb = 8;
  std::string data;
  bool data_given = false, steps_given = false, batch_given = false;
  if (const char* h = std::getenv("HOME"))
    data = std::string(h) + "/.cache/sluice/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      sluice::PrintHelp();
      return 0;
    }
    if (a == "--allreduce")
      allreduce = true;
    else if (a == "--train")
      train = true;
    else if (a == "--smoke")
      smoke = true;
    else if (a == "--json")
      json = true;
    else if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
      data_given = true;
    } else if (a == "--steps" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.steps) && flags.steps > 0) {
      ++i;
      steps_given = true;
    } else if (a == "--warmup" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.warmup) &&
               flags.warmup >= 0)
      ++i;
    else if (a == "--batch-size" && i + 1 < argc &&
             absl::SimpleAtoi(argv[i + 1], &flags.batch_size) &&
             flags.batch_size > 0) {
      ++i;
      batch_given = true;
    } else if (a == "--model" && i + 1 < argc &&
               sluice::train::ParseModelKind(argv[i + 1]).ok())
      flags.model = *sluice::train::ParseModelKind(argv[++i]);
    else if (a == "--modes" && i + 1 < argc) {
      flags.modes = absl::StrSplit(argv[++i], ',');
      for (const std::string& m : flags.modes) {
        if (m != "average" && m != "after" && m != "overlap") {
          std::fprintf(stderr,
                       "sluice-dist-bench: unknown mode '%s' in --modes "
                       "(average, after, overlap)\n",
                       m.c_str());
          return 2;
        }
      }
    } else if (a == "--ps-tasks" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.ps_tasks))
      ++i;
    else if (a == "--sync-replicas" && i + 1 < argc &&
             absl::SimpleAtoi(argv[i + 1], &flags.replicas))
      ++i;
    else if (a == "--bucket-mb" && i + 1 < argc &&
             absl::SimpleAtod(argv[i + 1], &bucket_mb))
      ++i;
    else {
      std::fprintf(stderr,
                   "sluice-dist-bench: unknown option '%s', or a missing or "
                   "bad value after it (see --help)\n",
                   a.c_str());
      return 2;
    }
  }
  if (!allreduce && !train) allreduce = true;
  auto w = sluice::distributed::World::Init({.force_mpi = true});
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    return 1;
  }
  int rc = 0;
  if (allreduce) {
    rc |= sluice::Allreduce(*w, smoke, json,
                            static_cast<int64_t>(bucket_mb * (1 << 20)));
  }
  if (train && smoke) {
    if (!steps_given) flags.steps = 4;
    if (!batch_given) flags.batch_size = 32;
  }
  std::filesystem::path synthetic;
  if (train && smoke && !data_given) {
    synthetic = std::filesystem::temp_directory_path() /
                absl::StrCat("sluice-dist-bench-", getpid());
    data = synthetic.string();
    if (absl::Status s = sluice::WriteSyntheticSplit(synthetic, 256); !s.ok()) {
      std::fprintf(stderr, "sluice-dist-bench: synthetic data in %s: %s\n",
                   data.c_str(), s.ToString().c_str());
      (*w)->Abort(1, "no synthetic data");
    }
  }
  if (train) rc |= sluice::TrainBench(*w, data, flags, json);
  if (!synthetic.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(synthetic, ec);
  }
  return rc;
}
