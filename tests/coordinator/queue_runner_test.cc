// QueueRunner and StartQueueRunners: checklist items 88–98 of
// docs/spec/tf1-pipeline-semantics.md.
#include "coordinator/queue_runner.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <thread>

#include "coordinator/coordinator.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::Gate;
using ::sluice::testing::Int64Element;
using ::sluice::testing::Int64Queue;
using ::sluice::testing::Int64Value;

// Enqueues ids 0..n-1 (shared by every copy of the step), then OutOfRange.
QueueRunner::Step CountingStep(std::shared_ptr<QueueInterface> q,
                               std::shared_ptr<std::atomic<int64_t>> next, int64_t n) {
  return [q, next, n](const WaitOptions& w) -> absl::Status {
    int64_t id = next->fetch_add(1);
    if (id >= n) return absl::OutOfRangeError("producer exhausted");
    return q->Enqueue(Int64Element(id), w);
  };
}

// Dequeues until OutOfRange (or 30 s); returns the ids.
std::multiset<int64_t> Drain(QueueInterface& q) {
  std::multiset<int64_t> ids;
  while (true) {
    auto e = q.Dequeue(WaitOptions::Timeout(absl::Seconds(30)));
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kOutOfRange) << e.status();
      return ids;
    }
    ids.insert(Int64Value(*e));
  }
}

void StartAll(const std::vector<std::shared_ptr<CoordinatedThread>>& threads) {
  for (const auto& t : threads) ASSERT_TRUE(t->Start().ok());
}

TEST(QueueRunnerTest, Item88QueueAndStepsAreRequired) {
  auto q = Int64Queue(4);
  auto step = [](const WaitOptions&) { return absl::OkStatus(); };
  EXPECT_EQ(QueueRunner::Create(nullptr, {step}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QueueRunner::Create(q, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QueueRunner::Create(q, {QueueRunner::Step()}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(QueueRunnerTest, Item88ClosedCodesMustBeANonEmptySetOfErrors) {
  auto q = Int64Queue(4);
  auto step = [](const WaitOptions&) { return absl::OkStatus(); };
  QueueRunner::Options empty;
  empty.queue_closed_codes = {};
  EXPECT_EQ(QueueRunner::Create(q, {step}, empty).status().code(),
            absl::StatusCode::kInvalidArgument);
  QueueRunner::Options ok_code;
  ok_code.queue_closed_codes = {absl::StatusCode::kOk};
  EXPECT_EQ(QueueRunner::Create(q, {step}, ok_code).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto runner = QueueRunner::Create(q, {step});
  ASSERT_TRUE(runner.ok());
  EXPECT_EQ((*runner)->queue_closed_codes(),
            std::vector<absl::StatusCode>{absl::StatusCode::kOutOfRange});
  EXPECT_EQ((*runner)->num_steps(), 1u);
}

TEST(QueueRunnerTest, Item89DefaultCloseKeepsPendingEnqueuesAndCancelFailsThem) {
  auto step = [](const WaitOptions&) { return absl::OkStatus(); };

  // close_fn = Close(false): closes, keeps what is stored, and (unlike
  // Close(true)) fails with Cancelled on an already closed queue.
  {
    auto q = Int64Queue(2);
    ASSERT_TRUE(q->Enqueue(Int64Element(1)).ok());
    auto runner = *QueueRunner::Create(q, {step});
    EXPECT_TRUE(runner->close_fn()().ok());
    EXPECT_TRUE(q->IsClosed());
    EXPECT_EQ(runner->close_fn()().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(Drain(*q), (std::multiset<int64_t>{1}));
  }
  // cancel_fn = Close(true): fails the pending enqueue at once.
  {
    auto q = Int64Queue(1);
    ASSERT_TRUE(q->Enqueue(Int64Element(1)).ok());
    auto runner = *QueueRunner::Create(q, {step});
    auto pending = std::async(std::launch::async, [&] {
      return q->Enqueue(Int64Element(2), WaitOptions::Timeout(absl::Seconds(30)));
    });
    EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    EXPECT_TRUE(runner->cancel_fn()().ok());
    ASSERT_EQ(pending.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(pending.get().code(), absl::StatusCode::kCancelled);
    EXPECT_TRUE(q->IsClosed());
    EXPECT_TRUE(runner->cancel_fn()().ok());  // a second cancelling close never fails
    EXPECT_EQ(Drain(*q), (std::multiset<int64_t>{1}));
  }
}

TEST(QueueRunnerTest, Item90ThreadsPerStepPlusCloseOnStopWithACoordinator) {
  auto q = Int64Queue(100);
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  auto step = CountingStep(q, next, 30);
  auto runner = *QueueRunner::Create(q, {step, step, step});

  Coordinator coord;
  auto threads = runner->CreateThreads(&coord, /*start=*/true);
  ASSERT_EQ(threads.size(), 4u);
  std::set<std::string> names;
  for (const auto& t : threads) names.insert(t->name());
  EXPECT_TRUE(names.count("QueueRunnerThread-q-close_on_stop"));
  EXPECT_TRUE(names.count("QueueRunnerThread-q-step0"));
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(Drain(*q).size(), 30u);
  // The close-on-stop thread runs until the stop; all four are registered:
  // Join waits for every one of them.
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  for (const auto& t : threads) EXPECT_FALSE(t->IsAlive()) << t->name();

  // Without a coordinator: one thread per step.
  auto q2 = Int64Queue(100);
  auto runner2 = *QueueRunner::Create(q2, {CountingStep(q2, next, 0), CountingStep(q2, next, 0)});
  auto threads2 = runner2->CreateThreads(nullptr, /*start=*/true);
  EXPECT_EQ(threads2.size(), 2u);
  runner2->Join();
  EXPECT_TRUE(q2->IsClosed());
}

TEST(QueueRunnerTest, Item91CreateThreadsDefaultsToUnstartedStartQueueRunnersStarts) {
  // Python's daemon flag has no C++ meaning (docs/divergences.md); the
  // start defaults are kept.
  auto q = Int64Queue(100);
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  auto runner = *QueueRunner::Create(q, {CountingStep(q, next, 5)});
  Coordinator coord;
  auto threads = runner->CreateThreads(&coord);
  ASSERT_EQ(threads.size(), 2u);
  for (const auto& t : threads) EXPECT_FALSE(t->started());
  EXPECT_EQ(q->Size(), 0);
  StartAll(threads);
  EXPECT_EQ(Drain(*q).size(), 5u);
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());

  auto q2 = Int64Queue(100);
  QueueRunnerRegistry registry;
  registry.Add(*QueueRunner::Create(q2, {CountingStep(q2, std::make_shared<std::atomic<int64_t>>(0), 5)}));
  Coordinator coord2;
  auto started = StartQueueRunners(&registry, &coord2);
  ASSERT_TRUE(started.ok());
  ASSERT_EQ(started->size(), 2u);
  for (const auto& t : *started) EXPECT_TRUE(t->started());
  EXPECT_EQ(Drain(*q2).size(), 5u);
  ASSERT_TRUE(coord2.RequestStop().ok());
  EXPECT_TRUE(coord2.Join(absl::Seconds(30)).ok());
}

TEST(QueueRunnerTest, Item92SecondCreateThreadsWhileAliveReturnsNothing) {
  auto q = Int64Queue(1);
  // Blocks on the full queue until the stop token fires.
  auto step = [q](const WaitOptions& w) { return q->Enqueue(Int64Element(7), w); };
  auto runner = *QueueRunner::Create(q, {step, step});
  Coordinator coord;
  auto first = runner->CreateThreads(&coord, /*start=*/true);
  EXPECT_EQ(first.size(), 3u);
  // A loop has run: one element is in, both loops are (or will be) blocked.
  for (int i = 0; i < 3000 && q->Size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(q->Size(), 1);
  EXPECT_TRUE(runner->CreateThreads(&coord, /*start=*/true).empty());
  EXPECT_TRUE(runner->CreateThreads(nullptr, /*start=*/true).empty());
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());

  // Once they have exited, threads can be created again.
  coord.ClearStop();
  auto q_items = Drain(*q);  // the queue was cancelled by close_on_stop
  EXPECT_EQ(q_items.size(), 1u);
  auto again = runner->CreateThreads(&coord, /*start=*/false);
  EXPECT_EQ(again.size(), 3u);
  ASSERT_TRUE(coord.RequestStop().ok());  // nothing started; nothing to wait for
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(QueueRunnerTest, Item93LastLoopToSeeOutOfRangeClosesTheQueueOnce) {
  auto q = Int64Queue(1000);
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  auto step = CountingStep(q, next, 500);
  std::atomic<int> closes{0};
  QueueRunner::Options options;
  options.close_fn = [q, &closes] {
    ++closes;
    return q->Close(false);
  };
  auto runner = *QueueRunner::Create(q, {step, step, step, step}, options);
  Coordinator coord;
  auto threads = runner->CreateThreads(&coord, /*start=*/true);
  std::multiset<int64_t> ids = Drain(*q);  // returns on OutOfRange: closed
  EXPECT_TRUE(q->IsClosed());
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), 499);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 500u);
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(closes.load(), 1);
}

TEST(QueueRunnerTest, Item93WithoutCoordinatorTheQueueStillCloses) {
  auto q = Int64Queue(1000);
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  auto step = CountingStep(q, next, 100);
  auto runner = *QueueRunner::Create(q, {step, step});
  runner->CreateThreads(nullptr, /*start=*/true);
  EXPECT_EQ(Drain(*q).size(), 100u);
  runner->Join();
  EXPECT_TRUE(runner->exceptions_raised().empty());
}

TEST(QueueRunnerTest, Item94StepErrorStopsTheCoordinatorAndCancelRuns) {
  auto q = Int64Queue(10);
  std::atomic<int> calls{0};
  auto step = [q, &calls](const WaitOptions& w) -> absl::Status {
    if (++calls == 3) return absl::DataLossError("corrupted record at 115 in f");
    return q->Enqueue(Int64Element(calls), w);
  };
  std::atomic<int> cancels{0};
  QueueRunner::Options options;
  options.cancel_fn = [q, &cancels] {
    ++cancels;
    return q->Close(true);
  };
  auto runner = *QueueRunner::Create(q, {step}, options);
  Coordinator coord;
  runner->CreateThreads(&coord, /*start=*/true);
  absl::Status s = coord.Join(absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "corrupted record at 115 in f");
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_TRUE(q->IsClosed());
  EXPECT_EQ(Drain(*q).size(), 2u);
}

TEST(QueueRunnerTest, Item95WithoutCoordinatorErrorsAreRecordedAndResetByNextCreate) {
  auto q = Int64Queue(10);
  std::atomic<int> runs{0};
  auto step = [&runs](const WaitOptions&) -> absl::Status {
    if (runs++ == 0) return absl::InternalError("first run fails");
    return absl::OutOfRangeError("done");
  };
  auto runner = *QueueRunner::Create(q, {step}, {});
  auto threads = runner->CreateThreads(nullptr, /*start=*/true);
  ASSERT_EQ(threads.size(), 1u);
  runner->Join();
  EXPECT_FALSE(threads[0]->IsAlive());
  auto errors = runner->exceptions_raised();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(q->IsClosed());  // an error is not "closed": close_fn did not run

  runner->CreateThreads(nullptr, /*start=*/true);
  runner->Join();
  EXPECT_TRUE(runner->exceptions_raised().empty());
  EXPECT_TRUE(q->IsClosed());
}

TEST(QueueRunnerTest, Item96CloseAndCancelErrorsAreIgnored) {
  auto q = Int64Queue(10);
  std::atomic<int> closes{0}, cancels{0};
  QueueRunner::Options options;
  options.close_fn = [&closes] {
    ++closes;
    return absl::InternalError("close failed");
  };
  options.cancel_fn = [&cancels] {
    ++cancels;
    return absl::InternalError("cancel failed");
  };
  auto step = [](const WaitOptions&) { return absl::OutOfRangeError("empty"); };
  auto runner = *QueueRunner::Create(q, {step, step}, options);
  Coordinator coord;
  runner->CreateThreads(&coord, /*start=*/true);
  // Both loops leave through OutOfRange; the last runs close_fn.
  for (int i = 0; i < 3000 && closes.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(closes.load(), 1);
  EXPECT_FALSE(coord.ShouldStop());
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
}

TEST(QueueRunnerTest, Item97StepIgnoringTheStopStaysBlockedUntilCancel) {
  auto q = Int64Queue(1);
  ASSERT_TRUE(q->Enqueue(Int64Element(0)).ok());  // full
  // Ignores the WaitOptions it is given, as a TensorFlow enqueue op would.
  auto entered = std::make_shared<Gate>();
  auto step = [q, entered](const WaitOptions&) {
    entered->Open();
    return q->Enqueue(Int64Element(1));
  };
  auto cancel_gate = std::make_shared<Gate>();
  QueueRunner::Options options;
  options.cancel_fn = [q, cancel_gate] {
    cancel_gate->WaitFor(absl::Seconds(60));  // the test decides when
    return q->Close(true);
  };
  auto runner = *QueueRunner::Create(q, {step}, options);
  Coordinator coord;
  auto threads = runner->CreateThreads(&coord, /*start=*/true);
  ASSERT_TRUE(entered->WaitFor(absl::Seconds(30)));  // past its ShouldStop check
  ASSERT_TRUE(coord.RequestStop().ok());
  // request_stop alone does not unblock it: Join's grace runs out.
  absl::Status s = coord.Join(absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("QueueRunnerThread-q-step0"), absl::string_view::npos) << s;
  EXPECT_TRUE(threads[0]->IsAlive());
  // cancel_op unblocks it; the resulting Cancelled is not an error.
  cancel_gate->Open();
  for (const auto& t : threads) EXPECT_TRUE(t->WaitUntilNotAlive(absl::Seconds(30)));
  EXPECT_TRUE(q->IsClosed());
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
}

TEST(QueueRunnerTest, Item97DivergenceAStepUsingTheTokenWakesOnRequestStop) {
  auto q = Int64Queue(1);
  ASSERT_TRUE(q->Enqueue(Int64Element(0)).ok());  // full
  auto entered = std::make_shared<Gate>();
  std::atomic<int> cancelled{0};
  auto step = [q, entered, &cancelled](const WaitOptions& w) {
    entered->Open();
    absl::Status s = q->Enqueue(Int64Element(1), w);
    if (s.code() == absl::StatusCode::kCancelled) ++cancelled;
    return s;
  };
  QueueRunner::Options options;
  options.cancel_fn = [] { return absl::OkStatus(); };  // never unblocks anything
  auto runner = *QueueRunner::Create(q, {step}, options);
  Coordinator coord;
  runner->CreateThreads(&coord, /*start=*/true);
  ASSERT_TRUE(entered->WaitFor(absl::Seconds(30)));
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(cancelled.load(), 1);  // woken by the token, not by a close
  EXPECT_FALSE(q->IsClosed());
  EXPECT_EQ(q->Size(), 1);  // the cancelled enqueue changed nothing
}

TEST(QueueRunnerTest, ClosingTheQueueUnderARunningCoordinatorIsReported) {
  // Spec §3.4 note: Cancelled is not a "closed" code by default, so a user
  // closing the runner's queue while the coordinator runs records it.
  auto q = Int64Queue(1);
  ASSERT_TRUE(q->Enqueue(Int64Element(0)).ok());
  auto step = [q](const WaitOptions& w) { return q->Enqueue(Int64Element(1), w); };
  auto runner = *QueueRunner::Create(q, {step});
  Coordinator coord;
  runner->CreateThreads(&coord, /*start=*/true);
  ASSERT_TRUE(q->Close(true).ok());
  EXPECT_EQ(coord.Join(absl::Seconds(30)).code(), absl::StatusCode::kCancelled);
}

TEST(QueueRunnerTest, CancelledCountsAsClosedWhenListed) {
  // The advice for steps that dequeue from an upstream queue.
  auto upstream = Int64Queue(10);
  auto q = Int64Queue(10);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(upstream->Enqueue(Int64Element(i)).ok());
  ASSERT_TRUE(upstream->Close().ok());
  auto step = [upstream, q](const WaitOptions& w) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(TensorTuple e, upstream->Dequeue(w));
    return q->Enqueue(std::move(e), w);
  };
  QueueRunner::Options options;
  options.queue_closed_codes = {absl::StatusCode::kOutOfRange, absl::StatusCode::kCancelled};
  auto runner = *QueueRunner::Create(q, {step, step}, options);
  Coordinator coord;
  runner->CreateThreads(&coord, /*start=*/true);
  EXPECT_EQ(Drain(*q), (std::multiset<int64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(QueueRunnerTest, Item98StartQueueRunnersWithoutARegistryIsInvalid) {
  Coordinator coord;
  EXPECT_EQ(StartQueueRunners(nullptr, &coord).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(QueueRunnerTest, StartQueueRunnersStartsEveryRegisteredRunner) {
  auto a = Int64Queue(100, "a");
  auto b = Int64Queue(100, "b");
  auto na = std::make_shared<std::atomic<int64_t>>(0);
  auto nb = std::make_shared<std::atomic<int64_t>>(0);
  QueueRunnerRegistry registry;
  registry.Add(*QueueRunner::Create(a, {CountingStep(a, na, 10), CountingStep(a, na, 10)}));
  registry.Add(*QueueRunner::Create(b, {CountingStep(b, nb, 20)}));
  EXPECT_EQ(registry.runners().size(), 2u);
  Coordinator coord;
  auto threads = StartQueueRunners(&registry, &coord);
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ(threads->size(), 5u);  // (2 + 1) + (1 + 1)
  EXPECT_EQ(Drain(*a).size(), 10u);
  EXPECT_EQ(Drain(*b).size(), 20u);
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());

  // Without a coordinator, as TensorFlow allows.
  auto c = Int64Queue(100, "c");
  QueueRunnerRegistry registry2;
  registry2.Add(*QueueRunner::Create(c, {CountingStep(c, std::make_shared<std::atomic<int64_t>>(0), 3)}));
  auto threads2 = StartQueueRunners(&registry2, nullptr);
  ASSERT_TRUE(threads2.ok());
  EXPECT_EQ(threads2->size(), 1u);
  EXPECT_EQ(Drain(*c).size(), 3u);
}

TEST(QueueRunnerTest, RunnerOutlivesItsCallerWhileThreadsRun) {
  auto q = Int64Queue(100);
  auto next = std::make_shared<std::atomic<int64_t>>(0);
  Coordinator coord;
  {
    auto runner = *QueueRunner::Create(q, {CountingStep(q, next, 50)});
    runner->CreateThreads(&coord, /*start=*/true);
  }  // the caller's reference is gone; the threads keep the runner
  EXPECT_EQ(Drain(*q).size(), 50u);
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace sluice
