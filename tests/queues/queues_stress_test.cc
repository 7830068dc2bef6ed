// Stress: P producers x C consumers over FIFO and RandomShuffle queues with
// mixed Enqueue / EnqueueMany / Dequeue / DequeueMany / DequeueUpTo calls,
// random deadlines and stop tokens fired by a "chaos" thread, and a close at
// the end. Checks that every element comes out exactly once (the sluice
// divergence of item 50 — cancelled partial batches are given back — is
// what makes that hold under cancellation), that the sums match, and for
// FIFO that each consumer sees each producer's elements in order.
//
// EnqueueMany calls get no deadline or stop token: a cancelled EnqueueMany
// keeps the rows it had moved (item 17) and does not say how many, so the
// producer could not know which rows to send again.
#include <atomic>
#include <cstring>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "queues/fifo_queue.h"
#include "queues/random_shuffle_queue.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::Int64Batch;
using ::sluice::testing_util::Int64Element;
using ::sluice::testing_util::Int64Options;
using ::sluice::testing_util::Int64Values;
using ::sluice::testing_util::ToChrono;

// Large enough to keep any element id of one producer apart from another's.
constexpr int64_t kStride = int64_t{1} << 32;
// Bound on every join; a run takes seconds.
constexpr absl::Duration kJoinTimeout = absl::Seconds(120);

// A per-thread stop source the chaos thread may fire at any time.
class StopSlot {
 public:
  std::stop_token Fresh() {
    std::lock_guard<std::mutex> l(mu_);
    src_ = std::stop_source();
    return src_.get_token();
  }
  void Fire() {
    std::lock_guard<std::mutex> l(mu_);
    src_.request_stop();
  }

 private:
  std::mutex mu_;
  std::stop_source src_;
};

struct StressConfig {
  int producers = 4;
  int consumers = 4;
  // Producers stop starting new calls after this long, so a run takes about
  // as long under a sanitizer as without one (it just moves fewer elements).
  absl::Duration produce_for = absl::Milliseconds(1500);
  bool fifo_order = true;  // check per-producer order per consumer
  // Elements are strings (8-byte id, then a length that depends on the id)
  // instead of int64 scalars: exercises queues that own string records.
  bool strings = false;
};

TensorTuple StressElement(int64_t v, bool strings) {
  if (!strings) return Int64Element(v);
  std::string s(8 + static_cast<size_t>(v % 61), 'q');
  std::memcpy(s.data(), &v, 8);
  return {Tensor::StringScalar(s)};
}

TensorTuple StressBatch(const std::vector<int64_t>& vals, bool strings) {
  if (!strings) return Int64Batch(vals);
  Tensor t(DType::kString, TensorShape{static_cast<int64_t>(vals.size())});
  for (size_t k = 0; k < vals.size(); ++k) {
    std::string s(8 + static_cast<size_t>(vals[k] % 61), 'q');
    std::memcpy(s.data(), &vals[k], 8);
    t.SetString(k, s);
  }
  return {t};
}

// The ids of a dequeued result; a string whose length does not match its
// id (a torn or mixed-up record) becomes -1, which the checks reject.
std::vector<int64_t> StressValues(const TensorTuple& t, bool strings) {
  if (!strings) return Int64Values(t);
  std::vector<int64_t> out;
  const Tensor& x = t[0];
  for (int64_t k = 0; k < x.NumElements(); ++k) {
    std::string_view s = x.string(k);
    int64_t v = -1;
    if (s.size() >= 8) std::memcpy(&v, s.data(), 8);
    if (v < 0 || s.size() != 8 + static_cast<size_t>(v % 61)) v = -1;
    out.push_back(v);
  }
  return out;
}

struct ConsumerLog {
  std::vector<int64_t> values;
  int64_t calls = 0;
  int64_t timeouts = 0;
  int64_t cancels = 0;
  std::string error;  // first unexpected status
};

struct ProducerLog {
  int64_t produced = 0;  // elements p*kStride + [0, produced) were stored
  int64_t retries = 0;
  std::string error;
};

// Picks the wait for one call: none, a short deadline, or the slot's token.
WaitOptions RandomWait(std::mt19937_64& rng, StopSlot& slot) {
  switch (rng() % 3) {
    case 0:
      return WaitOptions{};
    case 1:
      // Short enough that a blocked call often runs out of time part-way.
      return WaitOptions::Timeout(absl::Microseconds(rng() % 300));
    default:
      return WaitOptions::StopOn(slot.Fresh());
  }
}

ProducerLog Produce(QueueInterface& q, int p, absl::Time stop_at, StopSlot& slot,
                    bool strings) {
  ProducerLog log;
  std::mt19937_64 rng(1000 + p);
  int64_t& i = log.produced;
  while (absl::Now() < stop_at) {
    // Now and then let consumers run dry, so their batch requests block
    // holding partial rows and get cancelled or time out that way.
    if (rng() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 100));
    if (rng() % 2 == 0) {
      const int64_t v = p * kStride + i;
      absl::Status s = q.Enqueue(StressElement(v, strings), RandomWait(rng, slot));
      if (s.ok()) {
        ++i;
      } else if ((absl::IsDeadlineExceeded(s) || absl::IsCancelled(s)) && !q.IsClosed()) {
        ++log.retries;  // the element was not stored; send it again
      } else {
        log.error = s.ToString();
        return log;
      }
    } else {
      const int64_t b = 1 + rng() % 8;
      std::vector<int64_t> vals;
      for (int64_t k = 0; k < b; ++k) vals.push_back(p * kStride + i + k);
      absl::Status s = q.EnqueueMany(StressBatch(vals, strings));
      if (!s.ok()) {
        log.error = s.ToString();
        return log;
      }
      i += b;
    }
  }
  return log;
}

ConsumerLog Consume(QueueInterface& q, int c, StopSlot& slot, bool strings) {
  ConsumerLog log;
  std::mt19937_64 rng(2000 + c);
  bool many_exhausted = false;  // DequeueMany said OutOfRange: only drain now
  for (;;) {
    const int op = rng() % 3;
    const int64_t n = 1 + rng() % 32;
    WaitOptions w = RandomWait(rng, slot);
    absl::StatusOr<TensorTuple> r;
    ++log.calls;
    if (op == 0) {
      r = q.Dequeue(w);
    } else if (op == 1 && !many_exhausted) {
      r = q.DequeueMany(n, w);
    } else {
      r = q.DequeueUpTo(n, w);
    }
    if (r.ok()) {
      std::vector<int64_t> v = StressValues(*r, strings);
      if (op == 1 && !many_exhausted && static_cast<int64_t>(v.size()) != n) {
        log.error = "DequeueMany returned " + std::to_string(v.size()) + " rows, not " +
                    std::to_string(n);
        q.Close(true).IgnoreError();
        return log;
      }
      log.values.insert(log.values.end(), v.begin(), v.end());
    } else if (absl::IsDeadlineExceeded(r.status())) {
      ++log.timeouts;
    } else if (absl::IsCancelled(r.status())) {
      ++log.cancels;
    } else if (absl::IsOutOfRange(r.status())) {
      if (op == 1 && !many_exhausted) {
        many_exhausted = true;  // fewer than n left; the rest drain below
      } else {
        return log;  // closed and empty
      }
    } else {
      log.error = r.status().ToString();
      q.Close(true).IgnoreError();  // unblock the others so the test ends
      return log;
    }
  }
}

template <typename T>
bool JoinWithin(std::future<T>& f) {
  return f.wait_for(ToChrono(kJoinTimeout)) == std::future_status::ready;
}

void RunStress(std::shared_ptr<QueueInterface> q, StressConfig cfg) {
  std::vector<std::unique_ptr<StopSlot>> slots;
  for (int i = 0; i < cfg.producers + cfg.consumers; ++i) {
    slots.push_back(std::make_unique<StopSlot>());
  }

  std::atomic<bool> chaos_done{false};
  std::future<void> chaos = std::async(std::launch::async, [&] {
    std::mt19937_64 rng(7);
    while (!chaos_done.load()) {
      slots[rng() % slots.size()]->Fire();
      std::this_thread::sleep_for(std::chrono::microseconds(20 + rng() % 100));
    }
  });

  std::vector<std::future<ConsumerLog>> consumers;
  for (int c = 0; c < cfg.consumers; ++c) {
    consumers.push_back(std::async(std::launch::async, [&, c] {
      return Consume(*q, c, *slots[cfg.producers + c], cfg.strings);
    }));
  }
  const absl::Time stop_at = absl::Now() + cfg.produce_for;
  std::vector<std::future<ProducerLog>> producers;
  for (int p = 0; p < cfg.producers; ++p) {
    producers.push_back(std::async(std::launch::async, [&, p] {
      return Produce(*q, p, stop_at, *slots[p], cfg.strings);
    }));
  }

  bool stuck = false;
  int64_t retries = 0, total = 0;
  std::vector<int64_t> per(cfg.producers, 0);
  for (int p = 0; p < cfg.producers; ++p) {
    auto& f = producers[p];
    if (!JoinWithin(f)) {
      stuck = true;
      break;
    }
    ProducerLog log = f.get();
    EXPECT_EQ(log.error, "");
    retries += log.retries;
    per[p] = log.produced;
    total += log.produced;
  }
  if (stuck) {
    ADD_FAILURE() << "a producer did not finish within " << kJoinTimeout;
    // Unblock everything before the futures' destructors wait for them.
    EXPECT_TRUE(q->Close(true).ok());
  } else {
    EXPECT_TRUE(q->Close(false, WaitOptions::Timeout(kJoinTimeout)).ok());
  }

  std::vector<ConsumerLog> logs;
  for (auto& f : consumers) {
    if (!JoinWithin(f)) {
      ADD_FAILURE() << "a consumer did not finish within " << kJoinTimeout
                    << "; queue size " << q->Size();
      std::abort();  // a thread is blocked on a closed queue: nothing to unblock it
    }
    logs.push_back(f.get());
  }
  chaos_done = true;
  chaos.wait();
  if (stuck) return;

  // Every element exactly once, sums match.
  std::vector<std::vector<uint8_t>> seen;
  for (int p = 0; p < cfg.producers; ++p) seen.emplace_back(per[p], 0);
  int64_t count = 0, duplicates = 0, strays = 0;
  __int128 sum = 0;
  int64_t timeouts = 0, cancels = 0, calls = 0;
  for (const ConsumerLog& log : logs) {
    EXPECT_EQ(log.error, "");
    calls += log.calls;
    timeouts += log.timeouts;
    cancels += log.cancels;
    std::vector<int64_t> last(cfg.producers, -1);
    for (int64_t v : log.values) {
      const int64_t p = v / kStride, i = v % kStride;
      if (p < 0 || p >= cfg.producers || i < 0 || i >= per[p]) {
        ++strays;
        continue;
      }
      if (seen[p][i]++) ++duplicates;
      ++count;
      sum += v;
      if (cfg.fifo_order) {
        EXPECT_GT(i, last[p]) << "consumer saw producer " << p << " out of order";
        last[p] = i;
      }
    }
  }
  __int128 expected_sum = 0;
  for (int p = 0; p < cfg.producers; ++p) {
    expected_sum += static_cast<__int128>(p) * kStride * per[p] + per[p] * (per[p] - 1) / 2;
  }
  int64_t missing = 0;
  for (const auto& s : seen) {
    for (uint8_t x : s) missing += (x == 0);
  }
  EXPECT_EQ(strays, 0);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(missing, 0);
  EXPECT_GT(total, 0);
  EXPECT_EQ(count, total);
  EXPECT_TRUE(sum == expected_sum) << "sums differ";
  EXPECT_EQ(q->Size(), 0);
  const QueueStats stats = q->stats();
  EXPECT_EQ(stats.elements_in, total);
  EXPECT_EQ(stats.elements_out, total);
  // Not assertions: how much of the cancel/timeout machinery was exercised.
  ::testing::Test::RecordProperty("elements", std::to_string(total));
  ::testing::Test::RecordProperty("consumer_calls", std::to_string(calls));
  ::testing::Test::RecordProperty("consumer_timeouts", std::to_string(timeouts));
  ::testing::Test::RecordProperty("consumer_cancels", std::to_string(cancels));
  ::testing::Test::RecordProperty("producer_retries", std::to_string(retries));
}

TEST(QueuesStressTest, FIFOMixedCallsDeliverEveryElementExactlyOnceInOrder) {
  auto q = FIFOQueue::Create(Int64Options(16, "stress_fifo"));
  ASSERT_TRUE(q.ok()) << q.status();
  RunStress(*q, StressConfig{});
}

TEST(QueuesStressTest, FIFOCapacityOneUnderHeavyContention) {
  auto q = FIFOQueue::Create(Int64Options(1, "stress_fifo_1"));
  ASSERT_TRUE(q.ok()) << q.status();
  RunStress(*q, StressConfig{.producers = 3, .consumers = 5});
}

TEST(QueuesStressTest, RandomShuffleMixedCallsDeliverEveryElementExactlyOnce) {
  RandomShuffleQueueOptions o;
  o.queue = Int64Options(64, "stress_rsq");
  o.min_after_dequeue = 16;
  auto q = RandomShuffleQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  RunStress(*q, StressConfig{.fifo_order = false});
}

TEST(QueuesStressTest, RandomShuffleOfStringRecordsDeliversEveryRecordIntact) {
  // String elements go through the queue's record pool: owned outside the
  // lock, handed to batches, put back by cancelled dequeues.
  RandomShuffleQueueOptions o;
  o.queue.name = "stress_rsq_strings";
  o.queue.dtypes = {DType::kString};
  o.queue.shapes = {TensorShape{}};
  o.queue.capacity = 64;
  o.min_after_dequeue = 16;
  auto q = RandomShuffleQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  RunStress(*q, StressConfig{.fifo_order = false, .strings = true});
}

TEST(QueuesStressTest, RandomShuffleSmallCapacityLargeReserve) {
  RandomShuffleQueueOptions o;
  o.queue = Int64Options(8, "stress_rsq_small");
  o.min_after_dequeue = 7;
  o.seed = 1;
  o.seed2 = 2;
  auto q = RandomShuffleQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  RunStress(*q, StressConfig{.producers = 3, .consumers = 3, .fifo_order = false});
}

}  // namespace
}  // namespace sluice
