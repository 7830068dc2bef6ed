// Shutdown always finishes: producers -> FIFOQueue A -> transfer runner ->
// RandomShuffleQueue B -> consumers, stopped at random moments, many cycles.
// Checks per cycle: Join returns (no hang, no straggler), returns OK or the
// injected error, and no element is lost or duplicated: every id enqueued
// into A is consumed, still in A or B, or held by a transfer step.
//
// Environment: SLUICE_STRESS_CYCLES (default 5000; lower it under TSan),
// SLUICE_STRESS_SEED (default 1).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/coordinator.h"
#include "coordinator/queue_runner.h"
#include "gtest/gtest.h"
#include "queues/fifo_queue.h"
#include "queues/random_shuffle_queue.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::Int64Element;
using Clock = std::chrono::steady_clock;

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoll(v, nullptr, 10);
}

QueueOptions ScalarInt64(std::string name, int64_t capacity) {
  QueueOptions o;
  o.name = std::move(name);
  o.dtypes = {DType::kInt64};
  o.shapes = {TensorShape{}};
  o.capacity = capacity;
  return o;
}

// Appends the ids of a dequeued element or batch.
void AppendIds(const TensorTuple& t, std::vector<int64_t>* out) {
  const Tensor& ids = t[0];
  const int64_t* p = ids.data<int64_t>();
  out->insert(out->end(), p, p + ids.NumElements());
}

// Closes `q` (cancelling) and takes everything left in it.
absl::Status DrainRemaining(QueueInterface& q, std::vector<int64_t>* out) {
  (void)q.Close(/*cancel_pending_enqueues=*/true);
  while (true) {
    auto batch = q.DequeueUpTo(64, WaitOptions::Timeout(absl::Seconds(10)));
    if (!batch.ok()) {
      if (batch.status().code() == absl::StatusCode::kOutOfRange) return absl::OkStatus();
      return batch.status();
    }
    AppendIds(*batch, out);
  }
}

struct CycleConfig {
  int64_t num_ids;          // producers give up (OutOfRange) after this many
  int64_t a_capacity;
  int64_t b_capacity;
  int64_t min_after_dequeue;
  int consumers;
  int64_t consumer_batch;   // 1: Dequeue; otherwise DequeueUpTo
  bool natural_end;         // no stop from the main thread: wait for end of data
  bool inject_error;        // main thread stops with an error
  int stop_after_us;
};

// What the cycles ended with, to show the interesting paths were taken.
struct Totals {
  int64_t consumed = 0, held = 0, left_in_a = 0, left_in_b = 0;
  int cycles_with_leftovers = 0;
};

// Runs one cycle on `coord` (fresh or cleared). Returns a description of
// the first failure, or "" on success.
std::string RunCycle(Coordinator& coord, const CycleConfig& c, uint64_t seed, Totals* totals) {
  auto a = *FIFOQueue::Create(ScalarInt64("A", c.a_capacity));
  RandomShuffleQueueOptions bo;
  bo.queue = ScalarInt64("B", c.b_capacity);
  bo.min_after_dequeue = c.min_after_dequeue;
  bo.seed = seed;
  bo.seed2 = seed + 1;
  auto b = *RandomShuffleQueue::Create(bo);

  // Producers: two loops on A. Each loop records what it enqueued (one
  // thread per step, so no lock; read after the thread finished).
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  std::vector<std::shared_ptr<std::vector<int64_t>>> produced;
  std::vector<QueueRunner::Step> producer_steps;
  for (int i = 0; i < 2; ++i) {
    auto mine = std::make_shared<std::vector<int64_t>>();
    produced.push_back(mine);
    producer_steps.push_back([a, next, mine, n = c.num_ids](const WaitOptions& w) {
      int64_t id = next->fetch_add(1);
      if (id >= n) return absl::OutOfRangeError("producer exhausted");
      absl::Status s = a->Enqueue(Int64Element(id), w);
      if (s.ok()) mine->push_back(id);
      return s;
    });
  }
  auto producer_runner = *QueueRunner::Create(a, producer_steps);

  // Transfer: two loops A -> B. An element taken from A that cannot be put
  // into B stays in the loop's slot (it is counted, not lost) and is tried
  // again on the next run.
  std::vector<std::shared_ptr<std::optional<TensorTuple>>> held;
  std::vector<QueueRunner::Step> transfer_steps;
  for (int i = 0; i < 2; ++i) {
    auto slot = std::make_shared<std::optional<TensorTuple>>();
    held.push_back(slot);
    transfer_steps.push_back([a, b, slot](const WaitOptions& w) -> absl::Status {
      if (!slot->has_value()) {
        SLUICE_ASSIGN_OR_RETURN(TensorTuple e, a->Dequeue(w));
        *slot = std::move(e);
      }
      SLUICE_RETURN_IF_ERROR(b->Enqueue(**slot, w));
      slot->reset();
      return absl::OkStatus();
    });
  }
  auto transfer_runner = *QueueRunner::Create(b, transfer_steps);

  // Consumers: plain coordinator threads; end of data is a clean stop.
  std::vector<std::shared_ptr<std::vector<int64_t>>> consumed;
  std::vector<std::shared_ptr<CoordinatedThread>> threads;
  for (int i = 0; i < c.consumers; ++i) {
    auto mine = std::make_shared<std::vector<int64_t>>();
    consumed.push_back(mine);
    threads.push_back(coord.StartThread(
        absl::StrCat("consumer", i), [&coord, b, mine, k = c.consumer_batch] {
          std::stop_token stop = coord.stop_token();
          while (!coord.ShouldStop()) {
            absl::StatusOr<TensorTuple> r =
                k == 1 ? b->Dequeue(WaitOptions::StopOn(stop))
                       : b->DequeueUpTo(k, WaitOptions::StopOn(stop));
            if (!r.ok()) {
              if (r.status().code() != absl::StatusCode::kCancelled) {
                (void)coord.RequestStop(r.status());  // OutOfRange: clean end
              }
              return;
            }
            AppendIds(*r, mine.get());
          }
        }));
  }
  for (auto& t : producer_runner->CreateThreads(&coord, /*start=*/true)) threads.push_back(t);
  for (auto& t : transfer_runner->CreateThreads(&coord, /*start=*/true)) threads.push_back(t);

  const absl::Status injected = absl::InternalError("injected stop");
  if (c.natural_end) {
    if (!coord.WaitForStop(absl::Seconds(60))) return "natural end never came";
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(c.stop_after_us));
    (void)coord.RequestStop(c.inject_error ? injected : absl::OkStatus());
  }

  absl::Status joined = coord.Join(absl::Seconds(30));
  for (const auto& t : threads) {
    if (!t->WaitUntilNotAlive(absl::Seconds(30))) {
      return absl::StrCat("thread ", t->name(), " still running; Join: ", joined.ToString());
    }
  }
  if (!joined.ok() && !(c.inject_error && joined == injected)) {
    return absl::StrCat("Join returned ", joined.ToString());
  }
  if (c.natural_end && !joined.ok()) return absl::StrCat("natural end: ", joined.ToString());

  std::vector<int64_t> in, out;
  for (const auto& p : produced) in.insert(in.end(), p->begin(), p->end());
  for (const auto& p : consumed) out.insert(out.end(), p->begin(), p->end());
  size_t consumed_count = out.size();
  size_t held_count = 0;
  for (const auto& slot : held) {
    if (slot->has_value()) {
      AppendIds(**slot, &out);
      ++held_count;
    }
  }
  size_t before_queues = out.size();
  if (absl::Status s = DrainRemaining(*a, &out); !s.ok()) return "drain A: " + s.ToString();
  size_t in_a = out.size() - before_queues;
  if (absl::Status s = DrainRemaining(*b, &out); !s.ok()) return "drain B: " + s.ToString();
  size_t in_b = out.size() - before_queues - in_a;

  std::sort(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(in.begin(), in.end()) != in.end()) return "an id was produced twice";
  if (in != out) {
    int64_t sum_in = 0, sum_out = 0;
    for (int64_t v : in) sum_in += v;
    for (int64_t v : out) sum_out += v;
    return absl::StrCat("accounting: produced ", in.size(), " (sum ", sum_in, ") but consumed ",
                        consumed_count, " + held ", held_count, " + in A ", in_a, " + in B ",
                        in_b, " = ", out.size(), " (sum ", sum_out, ")");
  }
  totals->consumed += consumed_count;
  totals->held += held_count;
  totals->left_in_a += in_a;
  totals->left_in_b += in_b;
  totals->cycles_with_leftovers += (held_count + in_a + in_b) > 0;
  if (c.natural_end && out.size() != consumed_count) {
    return "natural end left elements behind";
  }
  if (c.natural_end && static_cast<int64_t>(consumed_count) != c.num_ids) {
    return absl::StrCat("natural end consumed ", consumed_count, " of ", c.num_ids);
  }
  return "";
}

TEST(ShutdownStressTest, ShutdownAlwaysFinishesAndLosesNothing) {
  const int64_t cycles = EnvOr("SLUICE_STRESS_CYCLES", 5000);
  const uint64_t seed = static_cast<uint64_t>(EnvOr("SLUICE_STRESS_SEED", 1));
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };

  auto shared_coord = std::make_unique<Coordinator>();
  int natural = 0, errors = 0;
  Totals totals;
  auto start = Clock::now();
  for (int64_t cycle = 0; cycle < cycles; ++cycle) {
    CycleConfig c;
    c.num_ids = uniform(0, 400);
    c.a_capacity = uniform(1, 16);
    c.b_capacity = uniform(2, 32);
    c.min_after_dequeue = uniform(0, c.b_capacity - 1);
    c.consumers = static_cast<int>(uniform(1, 3));
    c.consumer_batch = uniform(0, 1) ? 1 : uniform(2, 16);
    c.natural_end = uniform(0, 7) == 0;
    c.inject_error = !c.natural_end && uniform(0, 3) == 0;
    c.stop_after_us = static_cast<int>(uniform(0, 3000));
    natural += c.natural_end;
    errors += c.inject_error;

    // Mostly reuse one coordinator (ClearStop between cycles); sometimes a
    // fresh one, whose destructor then runs with the threads it owned.
    std::unique_ptr<Coordinator> fresh;
    Coordinator* coord = shared_coord.get();
    if (cycle % 16 == 15) {
      fresh = std::make_unique<Coordinator>();
      coord = fresh.get();
    } else {
      coord->ClearStop();
    }
    std::string failure = RunCycle(*coord, c, seed * 1000003 + cycle, &totals);
    ASSERT_EQ(failure, "") << "cycle " << cycle << " (SLUICE_STRESS_SEED=" << seed
                           << ") num_ids=" << c.num_ids << " a_cap=" << c.a_capacity
                           << " b_cap=" << c.b_capacity << " min_after=" << c.min_after_dequeue
                           << " consumers=" << c.consumers << " batch=" << c.consumer_batch
                           << " natural=" << c.natural_end << " error=" << c.inject_error
                           << " stop_after_us=" << c.stop_after_us;
  }
  auto seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "shutdown stress: %lld cycles (%d natural ends, %d injected errors) in %.1f s; "
      "ids consumed %lld, held by transfer steps %lld, left in A %lld, left in B %lld; "
      "%d cycles ended with elements in flight\n",
      static_cast<long long>(cycles), natural, errors, seconds,
      static_cast<long long>(totals.consumed), static_cast<long long>(totals.held),
      static_cast<long long>(totals.left_in_a), static_cast<long long>(totals.left_in_b),
      totals.cycles_with_leftovers);
}

}  // namespace
}  // namespace sluice
