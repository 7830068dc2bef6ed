// Dataset API behaviour: spec §5 and checklist items 109–117.
#include "pipeline/dataset/dataset.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tbb/task_arena.h"
#include "tbb/task_group.h"

#include "pipeline/internal/worker_pool.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every element's int64 scalar, until the end; fails on an error.
std::vector<int64_t> Drain(const Dataset& ds) {
  std::vector<int64_t> out;
  auto it = ds.MakeIterator();
  EXPECT_TRUE(it.ok()) << it.status();
  if (!it.ok()) return out;
  for (int guard = 0; guard < 100000; ++guard) {
    absl::StatusOr<TensorTuple> e = (*it)->GetNext();
    if (absl::IsOutOfRange(e.status())) break;
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) break;
    out.push_back((*e)[0].scalar<int64_t>());
  }
  return out;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(DatasetIteratorTest, EndOfSequenceIsStickyAndReinitializeRestarts) {
  auto it = Dataset::Range(3).MakeIterator();
  ASSERT_TRUE(it.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*it)->GetNext().ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<TensorTuple> e = (*it)->GetNext();
    EXPECT_TRUE(absl::IsOutOfRange(e.status()));
    EXPECT_THAT(e.status().message(), HasSubstr("End of sequence"));
  }
  ASSERT_TRUE((*it)->Reinitialize().ok());
  absl::StatusOr<TensorTuple> e = (*it)->GetNext();
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0].scalar<int64_t>(), 0);
}

TEST(DatasetShuffleTest, InvalidBufferSizeIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Shuffle(0, uint64_t{1}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Shuffle(-3, uint64_t{1}).status()));
}

TEST(DatasetShuffleTest, BufferOfOneKeepsInputOrder) {
  EXPECT_EQ(Drain(Dataset::Range(20).Shuffle(1, uint64_t{7})), Iota(20));
}

TEST(DatasetShuffleTest, EveryBufferSizeEmitsEachElementOncePerPass) {
  for (int64_t buf : {2, 5, 33, 100, 1000}) {
    std::vector<int64_t> got = Drain(Dataset::Range(100).Shuffle(buf, uint64_t{3}));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, Iota(100)) << "buffer " << buf;
  }
}

// GetNextManyDeferred: records "r<i>-" padded to 1..500 bytes come out
// whole whichever work runs first, and a result dropped before its work
// ran frees nothing under a copy (each record seen at most once).
TEST(DatasetShuffleTest,
     DeferredCopiesCompleteInAnyOrderOrWhenTheResultIsDropped) {
  constexpr int64_t kRecords = 300;
  Tensor records(DType::kString, TensorShape{kRecords});
  std::set<std::string> all;
  for (int64_t i = 0; i < kRecords; ++i) {
    std::string r = absl::StrCat("r", i, "-");
    r.resize(static_cast<size_t>(1 + (i * 37) % 500),
             static_cast<char>('a' + i % 26));
    if (r.size() < 4) r = absl::StrCat(i);
    records.SetString(i, r);
    all.insert(r);
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kRecords));
  Dataset ds = Dataset::FromTensorSlices({records}).Shuffle(100, uint64_t{5});
  auto it = ds.base()->MakeIteratorBase();
  ASSERT_TRUE(it.ok());
  std::set<std::string> seen;
  auto take = [&](const TensorTuple& t) {
    for (int64_t i = 0; i < t[0].dim(0); ++i) {
      const std::string r(t[0].string(i));
      EXPECT_TRUE(all.count(r)) << "unexpected bytes: " << r;
      EXPECT_TRUE(seen.insert(r).second) << "twice: " << r;
    }
  };
  TensorTuple a, b, c;
  bool end = false;
  DeferredWork wa, wb, wc;
  ASSERT_TRUE((*it)->GetNextManyDeferred(30, &a, &end, &wa).ok());
  ASSERT_TRUE((*it)->GetNextManyDeferred(30, &b, &end, &wb).ok());
  EXPECT_FALSE(wa.empty());
  wb.Run();  // completes (does) a's copies too: b's picks may be in them
  take(b);
  wa.Run();
  take(a);
  ASSERT_TRUE((*it)->GetNextManyDeferred(30, &c, &end, &wc).ok());
  const int64_t dropped = c[0].dim(0);
  c.clear();  // freed unread, before its work ran
  wc.Run();
  while (true) {
    TensorTuple rest;
    ASSERT_TRUE((*it)->GetNextMany(40, &rest, &end).ok());
    if (end) break;
    take(rest);
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()) + dropped, kRecords);
}

TEST(DatasetShuffleTest, ReshuffleEachIterationGivesNewButReproducibleEpochs) {
  auto make = [](bool reshuffle) {
    ShuffleOptions o;
    o.seed = 42;
    o.reshuffle_each_iteration = reshuffle;
    return Dataset::Range(10).Shuffle(10, o).Repeat(2);
  };
  std::vector<int64_t> a = Drain(make(true));
  ASSERT_EQ(a.size(), 20u);
  std::vector<int64_t> first(a.begin(), a.begin() + 10), second(a.begin() + 10, a.end());
  EXPECT_NE(first, second);
  std::vector<int64_t> s1 = first, s2 = second;
  std::sort(s1.begin(), s1.end());
  std::sort(s2.begin(), s2.end());
  EXPECT_EQ(s1, Iota(10));
  EXPECT_EQ(s2, Iota(10));
  EXPECT_EQ(Drain(make(true)), a);  // reproducible

  std::vector<int64_t> b = Drain(make(false));
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(std::vector<int64_t>(b.begin(), b.begin() + 10),
            std::vector<int64_t>(b.begin() + 10, b.end()));
}

TEST(DatasetShuffleTest, ByteCapLimitsHowFarAheadItReads) {
  // 8-byte elements, a 40-byte cap: the buffer holds at most 5, so the
  // first output is one of the first 5 inputs whatever the element cap.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    ShuffleOptions o;
    o.seed = seed;
    o.max_buffer_bytes = 40;
    std::vector<int64_t> got = Drain(Dataset::Range(100).Shuffle(1000, o));
    ASSERT_EQ(got.size(), 100u);
    EXPECT_LT(got[0], 5);
  }
}

TEST(DatasetRepeatTest, CountSemantics) {
  EXPECT_TRUE(Drain(Dataset::Range(3).Repeat(0)).empty());
  EXPECT_THAT(Drain(Dataset::Range(3).Repeat(2)), ElementsAre(0, 1, 2, 0, 1, 2));
  // Infinite: take 10 through a shard-free prefix.
  auto it = Dataset::Range(3).Repeat(-1).MakeIterator();
  ASSERT_TRUE(it.ok());
  for (int i = 0; i < 10; ++i) {
    auto e = (*it)->GetNext();
    ASSERT_TRUE(e.ok());
    EXPECT_EQ((*e)[0].scalar<int64_t>(), i % 3);
  }
  // repeat() over an empty dataset ends at once.
  EXPECT_TRUE(Drain(Dataset::Range(0).Repeat()).empty());
}

TEST(DatasetBatchTest, SizesAndDropRemainder) {
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Batch(0).status()));
  auto sizes = [](const Dataset& ds) {
    std::vector<int64_t> out;
    auto it = ds.MakeIterator();
    while (true) {
      auto e = (*it)->GetNext();
      if (!e.ok()) break;
      out.push_back((*e)[0].dim(0));
    }
    return out;
  };
  EXPECT_THAT(sizes(Dataset::Range(10).Batch(4)), ElementsAre(4, 4, 2));
  EXPECT_THAT(sizes(Dataset::Range(10).Batch(4, true)), ElementsAre(4, 4));
  auto it = Dataset::Range(10).Batch(4).MakeIterator();
  auto b = (*it)->GetNext();
  ASSERT_TRUE(b.ok());
  EXPECT_THAT((*b)[0].flat<int64_t>(), ElementsAre(0, 1, 2, 3));
}

TEST(DatasetBatchTest, DifferentShapesAreInvalidArgument) {
  Dataset ds = Dataset::Range(4)
                   .Map([](TensorTuple t) -> absl::StatusOr<TensorTuple> {
                     const int64_t n = t[0].scalar<int64_t>() + 1;
                     return TensorTuple{Tensor::Zeros(DType::kFloat32, TensorShape{n})};
                   })
                   .Batch(2);
  auto it = ds.MakeIterator();
  auto b = (*it)->GetNext();
  EXPECT_TRUE(absl::IsInvalidArgument(b.status()));
  EXPECT_THAT(b.status().message(), HasSubstr("Cannot batch tensors with different shapes"));
}

TEST(DatasetMapTest, ZeroParallelCallsIsInvalidArgument) {
  auto id = [](TensorTuple t) -> absl::StatusOr<TensorTuple> { return t; };
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(3).Map(id, 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(3).Map(id, -2).status()));
  EXPECT_TRUE(Dataset::Range(3).Map(id, kAutotune).ok());
  MapOptions o;
  o.num_parallel_calls = kAutotune;
  o.autotune_memory_budget_bytes = -1;
  const absl::Status s = Dataset::Range(3).Map(id, o).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("autotune_memory_budget_bytes"));
}

TEST(DatasetMapTest, ParallelMapKeepsInputOrder) {
  auto sq = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    const int64_t v = t[0].scalar<int64_t>();
    return TensorTuple{Tensor::Scalar<int64_t>(v * v)};
  };
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 500; ++i) want.push_back(i * i);
  EXPECT_EQ(Drain(Dataset::Range(500).Map(sq, 4)), want);
  // Sloppy mode: same multiset.
  MapOptions o;
  o.num_parallel_calls = 4;
  o.deterministic = false;
  std::vector<int64_t> got = Drain(Dataset::Range(500).Map(sq, o));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(DatasetMapTest, ParallelMapProgressesWhenEveryTbbWorkerIsBusy) {
  // Occupy every oneTBB worker with tasks that block (what a caller's
  // executor may do); the map must still finish: a consumer runs calls
  // that no worker has started.
  const int workers = tbb::this_task_arena::max_concurrency() - 1;
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  tbb::task_group blockers;
  for (int i = 0; i < workers; ++i) {
    blockers.run([&] {
      started.fetch_add(1);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!release.load() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (started.load() < workers && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto twice = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    return TensorTuple{Tensor::Scalar<int64_t>(2 * t[0].scalar<int64_t>())};
  };
  std::vector<int64_t> got = Drain(Dataset::Range(200).Map(twice, 2));
  release.store(true);
  blockers.wait();
  ASSERT_EQ(got.size(), 200u);
  for (int64_t i = 0; i < 200; ++i) EXPECT_EQ(got[i], 2 * i);
}

TEST(DatasetMapTest, OutOfRangeInFunctionEndsV1AndIsInvalidArgumentInV2) {
  auto fn = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    if (t[0].scalar<int64_t>() == 3) return absl::OutOfRangeError("stop");
    return t;
  };
  MapOptions v1;
  v1.v1_out_of_range_ends = true;
  EXPECT_THAT(Drain(Dataset::Range(10).Map(fn, v1)), ElementsAre(0, 1, 2));
  auto it = Dataset::Range(10).Map(fn).MakeIterator();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*it)->GetNext().ok());
  auto e = (*it)->GetNext();
  EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << e.status();
  // The iteration goes on after the error.
  auto next = (*it)->GetNext();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)[0].scalar<int64_t>(), 4);
}

TEST(DatasetInterleaveTest, DocstringSequence) {
  auto fn = [](TensorTuple t) -> absl::StatusOr<Dataset> {
    return Dataset::FromTensors(t).Repeat(6);
  };
  std::vector<int64_t> want;
  auto add = [&](int64_t v, int n) { want.insert(want.end(), n, v); };
  add(1, 4), add(2, 4), add(1, 2), add(2, 2), add(3, 4), add(4, 4), add(3, 2), add(4, 2),
      add(5, 4), add(5, 2);
  EXPECT_EQ(Drain(Dataset::Range(1, 6).Interleave(fn, 2, 4)), want);
  EXPECT_EQ(Drain(Dataset::Range(1, 6).Interleave(fn, 2, 4, 2)), want);  // parallel
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(1, 6).Interleave(fn, 0, 4).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(1, 6).Interleave(fn, 2, 0).status()));
}

TEST(DatasetPrefetchTest, ValidatesAndDeliversInOrderAroundErrors) {
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(3).Prefetch(-2).status()));
  EXPECT_TRUE(Dataset::Range(3).Prefetch(kAutotune).ok());
  auto fn = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    if (t[0].scalar<int64_t>() == 2) return absl::DataLossError("bad 2");
    return t;
  };
  for (int64_t buf : {0, 1, 3}) {
    auto it = Dataset::Range(5).Map(fn).Prefetch(buf).MakeIterator();
    std::vector<std::string> seen;
    for (int i = 0; i < 6; ++i) {
      auto e = (*it)->GetNext();
      if (absl::IsOutOfRange(e.status())) break;
      seen.push_back(e.ok() ? std::to_string((*e)[0].scalar<int64_t>()) : "E");
    }
    EXPECT_THAT(seen, ElementsAre("0", "1", "E", "3", "4")) << "buffer " << buf;
  }
}

TEST(DatasetPrefetchTest, OverAParallelMapDeliversInOrderAroundErrorsAndEnds) {
  // Prefetch hands its buffer to a parallel Map (no thread of its own);
  // elements, errors and the V1 end must come as without it.
  auto fn = [](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    const int64_t v = t[0].scalar<int64_t>();
    if (v % 7 == 2) return absl::DataLossError(absl::StrCat("bad ", v));
    if (v == 40) return absl::OutOfRangeError("stop");
    return t;
  };
  for (bool v1 : {false, true}) {
    for (int64_t buf : {1, 3, kAutotune}) {
      MapOptions o;
      o.num_parallel_calls = 3;
      o.v1_out_of_range_ends = v1;
      auto it = Dataset::Range(50).Map(fn, o).Prefetch(buf).MakeIterator();
      ASSERT_TRUE(it.ok());
      std::vector<std::string> seen;
      for (int i = 0; i < 60; ++i) {
        auto e = (*it)->GetNext();
        if (absl::IsOutOfRange(e.status())) break;
        seen.push_back(e.ok() ? std::to_string((*e)[0].scalar<int64_t>())
                              : std::string(e.status().message()));
      }
      std::vector<std::string> want;
      for (int64_t v = 0; v < 50; ++v) {
        if (v == 40 && v1) break;
        if (v == 40) {
          want.push_back("Function invocation produced OutOfRangeError: stop");
        } else {
          want.push_back(v % 7 == 2 ? absl::StrCat("bad ", v) : std::to_string(v));
        }
      }
      EXPECT_EQ(seen, want) << "v1 " << v1 << " buffer " << buf;
    }
  }
}

TEST(DatasetPrefetchTest, OverAParallelMapRunsAheadWithinItsBound) {
  // Map(2).Prefetch(3): with the consumer holding still after one element,
  // calls go on ahead of it (waited for, with a timeout), but never past
  // 1 taken + 2 in flight + 2 + 3 buffered.
  std::atomic<int> calls{0};
  auto count = [&calls](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    calls.fetch_add(1);
    return t;
  };
  auto it = Dataset::Range(1000).Map(count, 2).Prefetch(3).MakeIterator();
  ASSERT_TRUE(it.ok());
  auto first = (*it)->GetNext();
  ASSERT_TRUE(first.ok());
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (calls.load() < 4 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(calls.load(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(calls.load(), 1 + 2 + 2 + 3);
  for (int64_t want = 1; want < 1000; ++want) {
    auto e = (*it)->GetNext();
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ((*e)[0].scalar<int64_t>(), want);
  }
  EXPECT_TRUE(absl::IsOutOfRange((*it)->GetNext().status()));
  EXPECT_EQ(calls.load(), 1000);
}

TEST(DatasetPrefetchTest, OverAParallelMapRunsTwoCallsAtOnceWhileTheConsumerIsAway) {
  // Map(2).Prefetch(8) with the consumer holding still after one element:
  // the pool must go on with 2 calls at once (the consumer runs calls
  // itself only while it is inside GetNext). A call on a pool thread for
  // element 1 on first waits for the consumer to have left (so it counts
  // as made while the consumer is away), then (up to 1 s) for another call
  // to run beside it. The test needs two such calls to have run at once.
  if (internal::WorkerPool::Default().threads() < 2) {
    GTEST_SKIP() << "one pool thread (one CPU in the affinity mask)";
  }
  const std::thread::id consumer = std::this_thread::get_id();
  std::mutex mu;
  std::condition_variable cv;
  bool away = false;
  int inside = 0, inside_away = 0;  // calls running; those made while away
  int64_t done = 0, overlaps = 0, overlaps_away = 0;
  auto overlap = [&](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    std::unique_lock<std::mutex> lock(mu);
    // Element 0 (the first GetNext's) and the consumer's own calls pass.
    const bool counted =
        t[0].scalar<int64_t>() > 0 && std::this_thread::get_id() != consumer;
    if (counted) cv.wait_for(lock, std::chrono::seconds(30), [&] { return away; });
    const int64_t seen = overlaps;
    ++inside;
    if (counted) ++inside_away;
    if (inside >= 2) {  // another call is running beside this one
      ++overlaps;
      if (inside_away >= 2) ++overlaps_away;
      cv.notify_all();
    }
    if (counted) {
      cv.wait_for(lock, std::chrono::seconds(1), [&] { return overlaps > seen; });
    }
    --inside;
    if (counted) --inside_away;
    ++done;
    cv.notify_all();
    return t;
  };
  auto it = Dataset::Range(100).Map(overlap, 2).Prefetch(8).MakeIterator();
  ASSERT_TRUE(it.ok());
  auto first = (*it)->GetNext();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)[0].scalar<int64_t>(), 0);
  {
    std::unique_lock<std::mutex> lock(mu);
    away = true;
    cv.notify_all();
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return overlaps_away > 0; }))
        << "calls done: " << done << ", two at once: " << overlaps;
  }
  for (int64_t want = 1; want < 100; ++want) {
    auto e = (*it)->GetNext();
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ((*e)[0].scalar<int64_t>(), want);
  }
  EXPECT_TRUE(absl::IsOutOfRange((*it)->GetNext().status()));
}

TEST(DatasetPrefetchTest, DestroyingAnIteratorMidStreamStopsItsThread) {
  auto it = Dataset::Range(1000000).Repeat().Prefetch(8).MakeIterator();
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE((*it)->GetNext().ok());
  it->reset();  // must return (the test's timeout catches a hang)
  SUCCEED();
}

TEST(DatasetShardTest, SelectsEveryNthAndValidates) {
  EXPECT_THAT(Drain(Dataset::Range(10).Shard(3, 1)), ElementsAre(1, 4, 7));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Shard(0, 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Shard(3, 3).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Dataset::Range(10).Shard(3, -1).status()));
  // Batch-first path: same selection through GetNextMany.
  auto it = Dataset::Range(10).Shard(3, 1).MakeIterator();
  auto many = (*it)->GetNextMany(100);
  ASSERT_TRUE(many.ok());
  EXPECT_THAT((*many)[0].flat<int64_t>(), ElementsAre(1, 4, 7));
}

TEST(DatasetErrorsTest, ConstructionErrorsTravelThroughTheChain) {
  Dataset ds = Dataset::Range(10).Batch(-1).Shuffle(10, uint64_t{1}).Prefetch(2);
  EXPECT_TRUE(absl::IsInvalidArgument(ds.status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ds.MakeIterator().status()));
}

}  // namespace
}  // namespace sluice
