// The parallel Dataset stages under load: parallel Map (fixed and AUTOTUNE)
// over shuffled batches, nested parallel Maps whose calls run inside each
// other's pool tasks, Prefetch(AUTOTUNE), and iterators destroyed with
// calls in flight. Every check is an aggregate: each element exactly once
// (count and sum), the deterministic order where one is promised. Each
// scenario runs under a deadline (a hang fails the test instead of
// blocking ctest).
//
// Environment: SLUICE_STRESS_CYCLES (default 200; the TSan pass sets it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/internal/worker_pool.h"
#include "pipeline/stage_metrics.h"
#include "readers/record_writer.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

int64_t Cycles() {
  const char* v = std::getenv("SLUICE_STRESS_CYCLES");
  return v == nullptr || *v == '\0'
             ? 200
             : std::max<int64_t>(1, std::strtoll(v, nullptr, 10));
}

// Runs `fn` on its own thread and fails (ending the process: a hung
// pipeline cannot be cleaned up) if it has not returned within `limit`.
void WithDeadline(const char* what, std::chrono::seconds limit,
                  std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  std::thread([fn = std::move(fn), done] {
    fn();
    done->set_value();
  }).detach();
  if (f.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not finish within " << limit.count() << " s";
    std::fprintf(stderr, "%s: deadline passed, aborting\n", what);
    std::_Exit(1);
  }
}

// Sum and count of the int64 values of every element (batched or not).
struct Tally {
  int64_t count = 0, sum = 0;
  std::vector<int64_t> order;
};

absl::Status Drain(Iterator* it, Tally* t, int64_t stop_after = -1) {
  while (stop_after < 0 || t->count < stop_after) {
    absl::StatusOr<TensorTuple> e = it->GetNext();
    if (absl::IsOutOfRange(e.status())) return absl::OkStatus();
    if (!e.ok()) return e.status();
    for (int64_t v : (*e)[0].flat<int64_t>()) {
      ++t->count;
      t->sum += v;
      t->order.push_back(v);
    }
  }
  return absl::OkStatus();
}

// x -> x, after a little work that varies by element (so calls finish out
// of order).
absl::StatusOr<TensorTuple> Busy(TensorTuple t) {
  const int64_t* p = t[0].data<int64_t>();
  volatile int64_t sink = 0;
  for (int64_t i = 0; i < 200 + (p[0] % 7) * 300; ++i) sink = sink + i;
  return t;
}

constexpr int64_t kN = 20000;
constexpr int64_t kSum = kN * (kN - 1) / 2;

TEST(DatasetParallelStressTest,
     ParallelMapOverShuffledBatchesDeliversEachElementOnce) {
  WithDeadline("parallel map", std::chrono::seconds(120), [] {
    // The sequential order is the reference for deterministic runs.
    Tally want;
    {
      auto it = Dataset::Range(kN)
                    .Shuffle(1000, uint64_t{7})
                    .Batch(64)
                    .Map(Busy)
                    .MakeIterator();
      ASSERT_TRUE(it.ok());
      ASSERT_TRUE(Drain(it->get(), &want).ok());
    }
    ASSERT_EQ(want.count, kN);
    ASSERT_EQ(want.sum, kSum);
    for (int par : {1, 2, 3, 8, kAutotune}) {
      for (int64_t prefetch :
           {int64_t{0}, int64_t{1}, int64_t{4}, int64_t{kAutotune}}) {
        for (bool deterministic : {true, false}) {
          MapOptions o;
          o.num_parallel_calls = par;
          o.deterministic = deterministic;
          Dataset ds = Dataset::Range(kN)
                           .Shuffle(1000, uint64_t{7})
                           .Batch(64)
                           .Map(Busy, o);
          if (prefetch != 0) ds = ds.Prefetch(prefetch);
          auto it = ds.MakeIterator();
          ASSERT_TRUE(it.ok());
          Tally got;
          ASSERT_TRUE(Drain(it->get(), &got).ok());
          const std::string where = absl::StrCat(
              "par ", par, " prefetch ", prefetch, " det ", deterministic);
          EXPECT_EQ(got.count, kN) << where;
          EXPECT_EQ(got.sum, kSum) << where;
          if (deterministic) {
            EXPECT_EQ(got.order, want.order) << where;
          } else {
            std::vector<int64_t> a = got.order, b = want.order;
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            EXPECT_EQ(a, b) << where;
          }
        }
      }
    }
  });
}

TEST(DatasetParallelStressTest,
     NestedParallelMapsMakeProgressWhenThePoolIsBusy) {
  // Each outer call (on a pool thread) iterates an inner dataset with its
  // own parallel Map: the inner calls queue behind the outer ones on the
  // same pool, so the inner consumer must run them itself.
  WithDeadline("nested maps", std::chrono::seconds(120), [] {
    const int outer_calls = internal::CpuBudget() + 2;
    auto inner_sum = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
      const int64_t base = t[0].scalar<int64_t>();
      auto it = Dataset::Range(base * 100, base * 100 + 100)
                    .Map(Busy, 3)
                    .Prefetch(2)
                    .MakeIterator();
      SLUICE_RETURN_IF_ERROR(it.status());
      Tally tally;
      SLUICE_RETURN_IF_ERROR(Drain(it->get(), &tally));
      Tensor out(DType::kInt64, TensorShape{});
      out.scalar<int64_t>() = tally.sum;
      return TensorTuple{out};
    };
    auto it = Dataset::Range(200).Map(inner_sum, outer_calls).MakeIterator();
    ASSERT_TRUE(it.ok());
    Tally got;
    ASSERT_TRUE(Drain(it->get(), &got).ok());
    EXPECT_EQ(got.count, 200);
    EXPECT_EQ(got.sum, 20000 * 19999 / 2);  // every inner element once
  });
}

TEST(DatasetParallelStressTest,
     IteratorsDestroyedWithCallsInFlightLoseNothingTheyDelivered) {
  WithDeadline("destroy mid-stream", std::chrono::seconds(180), [] {
    const int64_t cycles = Cycles();
    std::atomic<int64_t> started{0}, finished{0};
    auto counted = [&](TensorTuple t) -> absl::StatusOr<TensorTuple> {
      ++started;
      auto r = Busy(std::move(t));
      ++finished;
      return r;
    };
    for (int64_t c = 0; c < cycles; ++c) {
      MapOptions o;
      o.num_parallel_calls =
          (c % 3 == 0) ? kAutotune : static_cast<int>(1 + c % 4);
      o.deterministic = c % 2 == 0;
      auto it = Dataset::Range(1000000)
                    .Map(counted, o)
                    .Prefetch(c % 5 == 0 ? kAutotune : 2)
                    .MakeIterator();
      ASSERT_TRUE(it.ok());
      Tally got;
      ASSERT_TRUE(Drain(it->get(), &got, /*stop_after=*/c % 37).ok());
      ASSERT_EQ(got.count, c % 37);
      if (o.deterministic) {  // the first elements, in order
        std::vector<int64_t> want(got.order.size());
        std::iota(want.begin(), want.end(), 0);
        ASSERT_EQ(got.order, want) << "cycle " << c;
      }
      it->reset();  // calls in flight finish before this returns
      ASSERT_EQ(started.load(), finished.load()) << "cycle " << c;
    }
  });
}

TEST(DatasetParallelStressTest,
     AutotuneReadsShuffleAndMapDeliverEveryRecordOnce) {
  // TFRecordDataset(AUTOTUNE reads) -> Shuffle -> Batch -> Map(AUTOTUNE)
  // -> Prefetch(AUTOTUNE), with a consumer that pauses now and then (the
  // readers' read-ahead grows while it runs).
  testing::TempDir dir;
  constexpr int kFiles = 5, kPerFile = 3000;
  std::vector<std::string> files;
  for (int f = 0; f < kFiles; ++f) {
    files.push_back(dir.Sub(absl::StrCat("f", f)));
    auto w = RecordWriter::Open(files.back(), {});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < kPerFile; ++i) {
      ASSERT_TRUE((*w)->Write(absl::StrCat(f * kPerFile + i)).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  WithDeadline("autotune reads", std::chrono::seconds(120), [&] {
    auto to_ids = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
      const int64_t k = t[0].dim(0);
      Tensor ids(DType::kInt64, TensorShape{k});
      for (int64_t i = 0; i < k; ++i) {
        ids.data<int64_t>()[i] =
            std::strtoll(std::string(t[0].string(i)).c_str(), nullptr, 10);
      }
      return TensorTuple{ids};
    };
    StageMetrics read("read");
    TFRecordDatasetOptions ro;
    ro.num_parallel_reads = kAutotune;
    ro.metrics = &read;
    Dataset ds = TFRecordDataset(files, ro)
                     .Shuffle(2000, uint64_t{3})
                     .Batch(100)
                     .Map(to_ids, kAutotune)
                     .Prefetch(kAutotune);
    const int64_t n = int64_t{kFiles} * kPerFile;
    for (int epoch = 0; epoch < 3; ++epoch) {
      auto it = ds.MakeIterator();
      ASSERT_TRUE(it.ok());
      Tally got;
      int64_t batches = 0;
      while (true) {
        absl::StatusOr<TensorTuple> e = (*it)->GetNext();
        if (absl::IsOutOfRange(e.status())) break;
        ASSERT_TRUE(e.ok()) << e.status();
        for (int64_t v : (*e)[0].flat<int64_t>()) {
          ++got.count;
          got.sum += v;
        }
        if (++batches % 40 == 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      EXPECT_EQ(got.count, n) << "epoch " << epoch;
      EXPECT_EQ(got.sum, n * (n - 1) / 2) << "epoch " << epoch;
    }
    EXPECT_THAT(read.SummaryLine(), HasSubstr("read_ahead_blocks"));
  });
}

// The record of id i: "i:" then bytes derived from i, 1..3000 bytes in all
// (sizes vary so records straddle reader chunks and pool size classes).
std::string PatternRecord(int64_t id) {
  std::string r = absl::StrCat(id, ":");
  const size_t n = static_cast<size_t>(1 + (id * 7919) % 3000);
  for (size_t j = r.size(); j < n; ++j)
    r.push_back(static_cast<char>('a' + (id + j) % 26));
  return r;
}

// A Map function over batches of PatternRecords: the ids, after checking
// every byte (a record read before its deferred copy finished, or after its
// slot was reused, fails the check).
absl::StatusOr<TensorTuple> CheckedIds(TensorTuple t) {
  const int64_t k = t[0].dim(0);
  Tensor ids(DType::kInt64, TensorShape{k});
  for (int64_t i = 0; i < k; ++i) {
    const std::string_view r = t[0].string(i);
    const int64_t id = std::strtoll(
        std::string(r.substr(0, r.find(':'))).c_str(), nullptr, 10);
    if (r != PatternRecord(id)) {
      return absl::DataLossError(
          absl::StrCat("record ", id, " has wrong bytes"));
    }
    ids.data<int64_t>()[i] = id;
  }
  return TensorTuple{ids};
}

TEST(DatasetParallelStressTest,
     ShuffleCopiesDeferredToMapThreadsAreCompleteAndOrdered) {
  // The Shuffle's copies run on the parallel Map's threads, after its input
  // lock (DeferredWork): every record arrives whole, once, in the order of
  // the sequential Map when deterministic; iterators destroyed mid-stream
  // (copies pending) deliver what they delivered and free nothing twice.
  testing::TempDir dir;
  constexpr int kFiles = 4, kPerFile = 1500;
  constexpr int64_t n = int64_t{kFiles} * kPerFile;
  std::vector<std::string> files;
  for (int f = 0; f < kFiles; ++f) {
    files.push_back(dir.Sub(absl::StrCat("f", f)));
    auto w = RecordWriter::Open(files.back(), {});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < kPerFile; ++i) {
      ASSERT_TRUE((*w)->Write(PatternRecord(int64_t{f} * kPerFile + i)).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  WithDeadline("deferred shuffle copies", std::chrono::seconds(150), [&] {
    auto make = [&](int reads, std::optional<int> par, bool deterministic,
                    int64_t prefetch) {
      TFRecordDatasetOptions ro;
      ro.num_parallel_reads = reads;
      MapOptions mo;
      mo.num_parallel_calls = par;
      mo.deterministic = deterministic;
      Dataset ds = TFRecordDataset(files, ro)
                       .Shuffle(700, uint64_t{11})
                       .Repeat(2)
                       .Batch(50)
                       .Map(CheckedIds, mo);
      return prefetch != 0 ? ds.Prefetch(prefetch) : ds;
    };
    for (int reads : {1, 2}) {
      Tally want;
      {
        auto it = make(reads, std::nullopt, true, 0).MakeIterator();
        ASSERT_TRUE(it.ok());
        ASSERT_TRUE(Drain(it->get(), &want).ok());
      }
      ASSERT_EQ(want.count, 2 * n);
      ASSERT_EQ(want.sum, n * (n - 1));
      for (int par : {2, 3, kAutotune}) {
        for (bool deterministic : {true, false}) {
          auto it =
              make(reads, par, deterministic, par == 3 ? 2 : 0).MakeIterator();
          ASSERT_TRUE(it.ok());
          Tally got;
          const absl::Status s = Drain(it->get(), &got);
          const std::string where = absl::StrCat("reads ", reads, " par ", par,
                                                 " det ", deterministic);
          ASSERT_TRUE(s.ok()) << where << ": " << s;
          EXPECT_EQ(got.count, 2 * n) << where;
          EXPECT_EQ(got.sum, n * (n - 1)) << where;
          if (deterministic) EXPECT_EQ(got.order, want.order) << where;
        }
      }
    }
    const int64_t cycles = std::min<int64_t>(Cycles(), 60);
    for (int64_t c = 0; c < cycles; ++c) {
      auto it =
          make(2, 1 + static_cast<int>(c % 3), c % 2 == 0, c % 4 == 0 ? 2 : 0)
              .MakeIterator();
      ASSERT_TRUE(it.ok());
      Tally got;
      const absl::Status s =
          Drain(it->get(), &got, /*stop_after=*/(c % 7) * 50);
      ASSERT_TRUE(s.ok()) << "cycle " << c << ": " << s;
      ASSERT_EQ(got.count, (c % 7) * 50) << "cycle " << c;
      it->reset();  // with copies and calls in flight
    }
  });
}

TEST(DatasetParallelStressTest, AutotuneChoicesAreInTheStageReport) {
  WithDeadline("autotune report", std::chrono::seconds(120), [] {
    StageMetrics map_metrics("map"), prefetch_metrics("prefetch");
    auto slow = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      return t;
    };
    MapOptions o;
    o.num_parallel_calls = kAutotune;
    o.metrics = &map_metrics;
    // 600 elements of >= 0.5 ms: several 50 ms tuning periods.
    Dataset ds =
        Dataset::Range(600).Map(slow, o).Prefetch(kAutotune, &prefetch_metrics);
    auto it = ds.MakeIterator();
    ASSERT_TRUE(it.ok());
    Tally got;
    ASSERT_TRUE(Drain(it->get(), &got).ok());
    EXPECT_EQ(got.count, 600);
    EXPECT_EQ(got.sum, 600 * 599 / 2);
    const StageSnapshot s = map_metrics.Snapshot();
    int64_t parallelism = -1, buffer = -1;
    for (const auto& [name, value] : s.parameters) {
      if (name == "parallelism") parallelism = value;
      if (name == "buffer") buffer = value;
    }
    // Calls that sleep are on a CPU a small share of their time: the CPU
    // budget allows more of them than CPUs, up to the ceiling (4 per CPU).
    EXPECT_GT(parallelism, internal::CpuBudget());
    EXPECT_LE(parallelism, 4 * internal::CpuBudget());
    EXPECT_GE(buffer, 0);
    EXPECT_THAT(map_metrics.SummaryLine(), HasSubstr("parallelism "));
    EXPECT_THAT(map_metrics.SummaryLine(), HasSubstr("call_cpu_pct "));
    EXPECT_THAT(map_metrics.SummaryLine(), HasSubstr("memory_budget_mb 256"));
    // A Prefetch(AUTOTUNE) over a sequential input tunes its own buffer.
    StageMetrics alone("prefetch");
    auto it2 = Dataset::Range(5000)
                   .Map(Busy)
                   .Prefetch(kAutotune, &alone)
                   .MakeIterator();
    ASSERT_TRUE(it2.ok());
    Tally got2;
    ASSERT_TRUE(Drain(it2->get(), &got2).ok());
    EXPECT_EQ(got2.count, 5000);
    EXPECT_EQ(got2.sum, 5000 * 4999 / 2);
    EXPECT_THAT(alone.SummaryLine(), HasSubstr("buffer "));
  });
}

TEST(DatasetParallelStressTest, AutotuneKeepsResultsWithinTheMemoryBudget) {
  WithDeadline("autotune memory budget", std::chrono::seconds(120), [] {
    StageMetrics map_metrics("map");
    // Results of 4 MiB from calls that sleep (so the CPU budget would allow
    // 4 calls per CPU): a 10 MiB budget holds 2 of them.
    auto big = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      Tensor x(DType::kFloat32, TensorShape{1 << 20});
      x.data<float>()[0] = static_cast<float>(t[0].scalar<int64_t>());
      return TensorTuple{std::move(x)};
    };
    MapOptions o;
    o.num_parallel_calls = kAutotune;
    o.metrics = &map_metrics;
    o.autotune_memory_budget_bytes = 10 << 20;
    auto it = Dataset::Range(400).Map(big, o).Prefetch(kAutotune).MakeIterator();
    ASSERT_TRUE(it.ok());
    int64_t count = 0, sum = 0;
    while (true) {
      absl::StatusOr<TensorTuple> b = (*it)->GetNext();
      if (absl::IsOutOfRange(b.status())) break;
      ASSERT_TRUE(b.ok()) << b.status();
      sum += static_cast<int64_t>((*b)[0].data<float>()[0]);
      ++count;
    }
    EXPECT_EQ(count, 400);
    EXPECT_EQ(sum, 400 * 399 / 2);
    const StageSnapshot snap = map_metrics.Snapshot();
    std::map<std::string, int64_t> p(snap.parameters.begin(), snap.parameters.end());
    EXPECT_EQ(p["result_kb"], 4096);
    EXPECT_EQ(p["memory_budget_mb"], 10);
    EXPECT_GE(p["parallelism"], 1);
    EXPECT_LE(p["parallelism"] + p["buffer"], 2) << map_metrics.SummaryLine();
  });
}

}  // namespace
}  // namespace sluice
