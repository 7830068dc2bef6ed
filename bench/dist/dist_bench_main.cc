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
// --train      dist.train.mlp.cpu, three ways (average / after / overlap,
//              see TrainBench): train::Train data-parallel on the
//              converted Fashion-MNIST (--data DIR, default the cache of
//              `sluice train`), --steps steps per rank: samples/s per rank
//              and in total, and the fraction of step time in the
//              gradient allreduce (waiting for the slowest rank included).
//              With --ps-tasks K [--sync-replicas R]: the same training
//              with K parameter servers (dist.train.mlp.cpu.ps_async or
//              .ps_sync), samples/s per worker and in total, and the
//              fraction of a worker's time in push/pull.
// Rank 0 prints; --json prints one JSON line per figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "cli/convert.h"
#include "distributed/gradient_allreducer.h"
#include "distributed/world.h"
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

int TrainBench(distributed::World* w, const std::string& data, int64_t steps,
               bool json, int ps_tasks = 0, int replicas = 0) {
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
  if (ps_tasks > 0) {
    train::TrainOptions o;
    o.model = train::ModelKind::kMlp;
    o.device = "cpu";
    o.epochs = 1000;
    o.max_steps = steps;
    o.batch_size = 128;
    o.train = {split->files, split->records, split->compression};
    o.evaluate = false;
    o.world = w;
    o.ps_tasks = ps_tasks;
    o.replicas_to_aggregate = replicas;
    o.progress_seconds = 1e9;
    auto r = train::Train(o);
    if (!r.ok()) w->Abort(1, r.status().ToString());
    double v[3] = {r->samples_per_second,
                   r->comm_seconds / std::max(1e-9, r->seconds),
                   r->samples_per_second};
    double sum[3] = {v[0], v[1], v[2]};
    if (!w->AllreduceSum(sum, 3, "gather").ok()) return 1;
    if (w->rank() == 0) {
      // Parameter servers: the workers' figures (a ps rank contributes 0).
      const int workers = w->size() - ps_tasks;
      const char* mode = replicas > 0 ? "sync" : "async";
      if (json) {
        std::printf(
            "{\"name\":\"dist.train.mlp.cpu.ps_%s\",\"world_size\":%d,\"ps_"
            "tasks\":%d,"
            "\"replicas_to_aggregate\":%d,\"samples_per_second_per_worker\":%."
            "0f,"
            "\"samples_per_second_total\":%.0f,\"comm_wait_fraction\":%.3f,"
            "\"steps\":%ld}\n",
            mode, w->size(), ps_tasks, replicas, sum[0] / workers, sum[0],
            sum[1] / workers, static_cast<long>(r->steps));
      } else {
        std::printf(
            "dist.train.mlp.cpu.ps_%s N=%d (%d ps, %d workers%s): %.0f "
            "samples/s per worker, "
            "%.0f in total, %.1f%% of a worker's time in push/pull (%ld "
            "updates on ps task 0, "
            "batch 128)\n",
            mode, w->size(), ps_tasks, workers,
            replicas > 0
                ? absl::StrCat(", ", replicas, " replicas per update").c_str()
                : "",
            sum[0] / workers, sum[0], 100 * sum[1] / workers,
            static_cast<long>(r->steps));
      }
    }
    return 0;
  }
  // The same training three ways: "average" (gradients fetched, then
  // copied into the arena weighted and scaled after: the path before the
  // gradients were weighted in the graph), "after" (weighted in the graph,
  // staged and reduced after the backward pass), "overlap" (staged as the
  // backward pass produces them, buckets reduced meanwhile).
  struct Mode {
    const char* name;
    bool weighted_in_graph, overlap;
  };
  for (const Mode& mode :
       {Mode{"average", false, false}, Mode{"after", true, false},
        Mode{"overlap", true, true}}) {
    train::TrainOptions o;
    o.model = train::ModelKind::kMlp;
    o.device = "cpu";
    o.epochs = 1000;
    o.max_steps = steps;
    o.batch_size = 128;
    o.train = {split->files, split->records, split->compression};
    o.evaluate = false;
    o.world = w;
    o.progress_seconds = 1e9;
    o.allreduce_weighted_in_graph = mode.weighted_in_graph;
    o.allreduce_overlap = mode.overlap;
    auto r = train::Train(o);
    if (!r.ok()) w->Abort(1, r.status().ToString());
    double sum[2] = {r->samples_per_second,
                     r->comm_seconds / std::max(1e-9, r->seconds)};
    if (!w->AllreduceSum(sum, 2, "gather").ok()) return 1;
    if (w->rank() != 0) continue;
    const double per_rank = sum[0] / w->size(), comm = sum[1] / w->size();
    if (json) {
      std::printf(
          "{\"name\":\"dist.train.mlp.cpu\",\"mode\":\"%s\",\"world_size\":%d,"
          "\"samples_per_second_per_rank\":%.0f,\"samples_per_second_total\":%."
          "0f,"
          "\"comm_wait_fraction\":%.3f,\"steps\":%ld}\n",
          mode.name, w->size(), per_rank, sum[0], comm,
          static_cast<long>(r->steps));
    } else {
      std::printf(
          "dist.train.mlp.cpu N=%d %-8s %6.0f samples/s per rank, %6.0f in "
          "total, %5.1f%% of "
          "the time waiting on the gradient allreduce (%ld steps, batch 128 "
          "per rank)\n",
          mode.name[0] ? w->size() : 0, mode.name, per_rank, sum[0], 100 * comm,
          static_cast<long>(r->steps));
    }
  }
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  bool allreduce = false, train = false, smoke = false, json = false;
  int64_t steps = 300;
  int ps_tasks = 0, replicas = 0;
  double bucket_mb = 8;
  std::string data;
  if (const char* h = std::getenv("HOME"))
    data = std::string(h) + "/.cache/sluice/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: mpirun -np N sluice-dist-bench [--allreduce] [--train] "
          "[--smoke] [--json]\n"
          "       [--data DIR] [--steps N] [--bucket-mb MB]\n"
          "  --allreduce  bucketed gradient allreduce vs bare MPI_Allreduce, 4 "
          "KiB..64 MiB\n"
          "  --train      dist.train.mlp.cpu: samples/s per rank and total, "
          "comm fraction\n"
          "  --smoke      tiny sizes (ctest)\n"
          "  --ps-tasks K [--sync-replicas R]  --train with K parameter "
          "servers\n"
          "               (dist.train.mlp.cpu.ps_async / .ps_sync), figures "
          "per worker\n");
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
    else if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else if (a == "--steps" && i + 1 < argc &&
             absl::SimpleAtoi(argv[i + 1], &steps))
      ++i;
    else if (a == "--ps-tasks" && i + 1 < argc &&
             absl::SimpleAtoi(argv[i + 1], &ps_tasks))
      ++i;
    else if (a == "--sync-replicas" && i + 1 < argc &&
             absl::SimpleAtoi(argv[i + 1], &replicas))
      ++i;
    else if (a == "--bucket-mb" && i + 1 < argc &&
             absl::SimpleAtod(argv[i + 1], &bucket_mb))
      ++i;
    else {
      std::fprintf(stderr,
                   "sluice-dist-bench: unknown option '%s' (see --help)\n",
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
  if (train && !smoke)
    rc |= sluice::TrainBench(*w, data, steps, json, ps_tasks, replicas);
  return rc;
}
