// sluice-dist-bench: the distributed layer measured under mpirun, each
// figure beside its baseline in the same run.
//
//   mpirun -np N sluice-dist-bench [--allreduce] [--train] [--smoke] [--json]
//
// --allreduce  GradientAllreducer::Average (gradients split over 4 tensors,
//              packed into 8 MiB buckets, weighted, averaged) against one
//              bare blocking MPI_Allreduce of the same bytes, 4 KiB..64 MiB:
//              microseconds per call (median of repeats) and the ratio.
// --train      dist.train.mlp.cpu: train::Train data-parallel on the
//              converted Fashion-MNIST (--data DIR, default the cache of
//              `sluice train`), --steps steps per rank: samples/s per rank
//              and in total, and the fraction of step time in the
//              gradient allreduce (waiting for the slowest rank included).
// Rank 0 prints; --json prints one JSON line per figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
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

int Allreduce(distributed::World* w, bool smoke, bool json) {
  std::vector<int64_t> sizes;
  for (int64_t b = 4 << 10; b <= (smoke ? 64 << 10 : 64 << 20); b *= 4) sizes.push_back(b);
  if (w->rank() == 0 && !json) {
    std::printf("%-10s %12s %12s %8s   (N=%d, microseconds per call, median)\n", "bytes",
                "bucketed", "bare", "ratio", w->size());
  }
  for (int64_t bytes : sizes) {
    const int64_t n = bytes / 4;
    std::vector<Tensor> grads;
    for (int k = 0; k < 4; ++k) {
      grads.push_back(Tensor::Zeros(DType::kFloat32, TensorShape{n / 4}));
      for (int64_t i = 0; i < n / 4; ++i) grads[k].data<float>()[i] = 0.001f * (i % 97) + w->rank();
    }
    std::vector<float> flat(n, 1.0f);
    distributed::GradientAllreducer ar(w);
    // Repeats sized to ~0.1 s per measurement at the largest sizes.
    const int reps = smoke ? 3 : static_cast<int>(std::clamp<int64_t>((256 << 20) / bytes, 5, 400));
    std::vector<double> ours, bare;
    for (int round = 0; round < 2; ++round) {  // alternate, so drift hits both
      for (int i = 0; i < reps; ++i) {
        std::vector<Tensor> g = grads;
        (void)w->Barrier("sync");
        const auto t0 = Clock::now();
        auto a = ar.Average(&g, 1, false, "bench");
        const auto t1 = Clock::now();
        if (!a.ok()) {
          std::fprintf(stderr, "%s\n", a.status().ToString().c_str());
          return 1;
        }
        if (round) ours.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        (void)w->Barrier("sync");
        const auto t2 = Clock::now();
        if (!w->BlockingAllreduceSum(flat.data(), n).ok()) return 1;
        const auto t3 = Clock::now();
        if (round) bare.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
      }
    }
    // Slowest rank's median: a collective is as slow as its last rank.
    double m[2] = {Median(ours), Median(bare)};
    std::vector<double> all(2 * w->size(), 0);
    all[2 * w->rank()] = m[0];
    all[2 * w->rank() + 1] = m[1];
    if (!w->AllreduceSum(all.data(), all.size(), "gather").ok()) return 1;
    double o = 0, b = 0;
    for (int r = 0; r < w->size(); ++r) {
      o = std::max(o, all[2 * r]);
      b = std::max(b, all[2 * r + 1]);
    }
    if (w->rank() == 0) {
      if (json) {
        std::printf(
            "{\"name\":\"dist.allreduce\",\"world_size\":%d,\"bytes\":%ld,\"bucketed_us\":%.1f,"
            "\"bare_us\":%.1f,\"ratio\":%.3f}\n",
            w->size(), static_cast<long>(bytes), o, b, o / b);
      } else {
        std::printf("%-10ld %12.1f %12.1f %8.3f\n", static_cast<long>(bytes), o, b, o / b);
      }
    }
  }
  return 0;
}

int TrainBench(distributed::World* w, const std::string& data, int64_t steps, bool json) {
  auto split = cli::ReadConvertManifest(data, "train");
  if (!split.ok()) {
    if (w->rank() == 0) {
      std::fprintf(stderr, "no converted data in %s (run `sluice train` once, or --data): %s\n",
                   data.c_str(), split.status().ToString().c_str());
    }
    return 1;
  }
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
  auto r = train::Train(o);
  if (!r.ok()) w->Abort(1, r.status().ToString());
  double v[3] = {r->samples_per_second, r->comm_seconds / std::max(1e-9, r->seconds),
                 r->samples_per_second};
  double sum[3] = {v[0], v[1], v[2]};
  if (!w->AllreduceSum(sum, 3, "gather").ok()) return 1;
  if (w->rank() == 0) {
    const double per_rank = sum[0] / w->size(), comm = sum[1] / w->size();
    if (json) {
      std::printf(
          "{\"name\":\"dist.train.mlp.cpu\",\"world_size\":%d,\"samples_per_second_per_rank\":%.0f,"
          "\"samples_per_second_total\":%.0f,\"comm_wait_fraction\":%.3f,\"steps\":%ld}\n",
          w->size(), per_rank, sum[0], comm, static_cast<long>(r->steps));
    } else {
      std::printf(
          "dist.train.mlp.cpu N=%d: %.0f samples/s per rank, %.0f in total, %.1f%% of the time "
          "in the gradient allreduce (%ld steps, batch 128 per rank)\n",
          w->size(), per_rank, sum[0], 100 * comm, static_cast<long>(r->steps));
    }
  }
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  bool allreduce = false, train = false, smoke = false, json = false;
  int64_t steps = 300;
  std::string data;
  if (const char* h = std::getenv("HOME")) data = std::string(h) + "/.cache/sluice/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: mpirun -np N sluice-dist-bench [--allreduce] [--train] [--smoke] [--json]\n"
          "       [--data DIR] [--steps N]\n"
          "  --allreduce  bucketed gradient allreduce vs bare MPI_Allreduce, 4 KiB..64 MiB\n"
          "  --train      dist.train.mlp.cpu: samples/s per rank and total, comm fraction\n"
          "  --smoke      tiny sizes (ctest)\n");
      return 0;
    }
    if (a == "--allreduce") allreduce = true;
    else if (a == "--train") train = true;
    else if (a == "--smoke") smoke = true;
    else if (a == "--json") json = true;
    else if (a == "--data" && i + 1 < argc) data = argv[++i];
    else if (a == "--steps" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &steps)) ++i;
    else {
      std::fprintf(stderr, "sluice-dist-bench: unknown option '%s' (see --help)\n", a.c_str());
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
  if (allreduce) rc |= sluice::Allreduce(*w, smoke, json);
  if (train && !smoke) rc |= sluice::TrainBench(*w, data, steps, json);
  return rc;
}
