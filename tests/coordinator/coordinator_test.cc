// Coordinator: checklist items 74–87 of docs/spec/tf1-pipeline-semantics.md.
#include "coordinator/coordinator.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::Gate;
using ::sluice::testing::Since;
using Clock = std::chrono::steady_clock;

// A thread that stays alive until `gate` opens (or 60 s pass).
std::shared_ptr<CoordinatedThread> StartBlocked(Coordinator& coord, std::string name,
                                                const std::shared_ptr<Gate>& gate) {
  return coord.StartThread(std::move(name), [gate] { gate->WaitFor(absl::Seconds(60)); });
}

TEST(CoordinatorTest, Item74ShouldStopFalseWhenNewTrueAfterAnyRequestStop) {
  Coordinator a;
  EXPECT_FALSE(a.ShouldStop());
  EXPECT_TRUE(a.RequestStop().ok());
  EXPECT_TRUE(a.ShouldStop());

  Coordinator b;
  EXPECT_TRUE(b.RequestStop(absl::InternalError("boom")).ok());
  EXPECT_TRUE(b.ShouldStop());
}

TEST(CoordinatorTest, Item75OutOfRangeIsACleanStop) {
  Coordinator coord;
  ASSERT_TRUE(coord.RequestStop(absl::OutOfRangeError("end of data")).ok());
  EXPECT_TRUE(coord.ShouldStop());
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
  EXPECT_TRUE(coord.Join().ok());
}

TEST(CoordinatorTest, Item76CustomCleanCodesReplaceTheDefault) {
  // (OutOfRange, StopIteration): kAborted stands in for StopIteration.
  Coordinator both({absl::StatusCode::kOutOfRange, absl::StatusCode::kAborted});
  ASSERT_TRUE(both.RequestStop(absl::AbortedError("stop iteration")).ok());
  EXPECT_TRUE(both.ShouldStop());
  EXPECT_TRUE(both.Join().ok());

  // A custom set without OutOfRange: OutOfRange is now an error.
  Coordinator only_aborted({absl::StatusCode::kAborted});
  ASSERT_TRUE(only_aborted.RequestStop(absl::OutOfRangeError("end")).ok());
  EXPECT_EQ(only_aborted.Join().code(), absl::StatusCode::kOutOfRange);

  // The empty set: nothing is clean.
  Coordinator none(absl::flat_hash_set<absl::StatusCode>{});
  ASSERT_TRUE(none.RequestStop(absl::OutOfRangeError("end")).ok());
  EXPECT_EQ(none.Join().code(), absl::StatusCode::kOutOfRange);
}

TEST(CoordinatorTest, Item77OnlyTheFirstRequestStopCanRecordAnError) {
  Coordinator clean_first;
  ASSERT_TRUE(clean_first.RequestStop().ok());
  ASSERT_TRUE(clean_first.RequestStop(absl::InvalidArgumentError("late")).ok());
  EXPECT_TRUE(clean_first.Join().ok());

  Coordinator two_errors;
  ASSERT_TRUE(two_errors.RequestStop(absl::InternalError("E1")).ok());
  ASSERT_TRUE(two_errors.RequestStop(absl::DataLossError("E2")).ok());
  absl::Status s = two_errors.Join();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "E1");
}

TEST(CoordinatorTest, Item78RecordedErrorWinsOverStragglers) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto stuck = StartBlocked(coord, "stuck", gate);
  ASSERT_TRUE(coord.RequestStop(absl::InternalError("worker failed")).ok());
  absl::Status s = coord.Join(absl::Milliseconds(50));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "worker failed");
  EXPECT_TRUE(stuck->IsAlive());
  gate->Open();
  EXPECT_TRUE(stuck->WaitUntilNotAlive(absl::Seconds(30)));
}

TEST(CoordinatorTest, Item78JoinWaitsForThreadsBeforeReturningTheError) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto worker = coord.StartThread("worker", [&coord, gate] {
    gate->WaitFor(absl::Seconds(60));
    (void)coord.RequestStop(absl::DataLossError("bad record"));
  });
  std::future<absl::Status> join = std::async(std::launch::async, [&] { return coord.Join(); });
  EXPECT_EQ(join.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  gate->Open();
  ASSERT_EQ(join.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(join.get().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(worker->IsAlive());
}

TEST(CoordinatorTest, Item79JoinWithoutStopReturnsPromptlyAfterLastThreadExits) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto t1 = StartBlocked(coord, "t1", gate);
  auto t2 = StartBlocked(coord, "t2", gate);
  std::future<absl::Status> join = std::async(std::launch::async, [&] { return coord.Join(); });
  EXPECT_EQ(join.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  auto released = Clock::now();
  gate->Open();
  ASSERT_EQ(join.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(join.get().ok());
  // TensorFlow: within about 1 s (it polls); sluice is woken by the exit.
  EXPECT_LT(Since(released), absl::Seconds(5));
  EXPECT_FALSE(coord.ShouldStop());
  EXPECT_TRUE(coord.joined());
}

TEST(CoordinatorTest, Item80GracePeriodThenStragglerErrorNamesTheThread) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto stuck = StartBlocked(coord, "never-exits", gate);
  auto quick = coord.StartThread("quick", [] {});
  ASSERT_TRUE(coord.RequestStop().ok());
  const absl::Duration grace = absl::Milliseconds(300);
  auto start = Clock::now();
  absl::Status s = coord.Join(grace);
  absl::Duration took = Since(start);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("Coordinator stopped with threads still running: never-exits"),
            absl::string_view::npos)
      << s;
  EXPECT_EQ(s.message().find("quick"), absl::string_view::npos) << s;
  EXPECT_GE(took, grace);
  EXPECT_LT(took, grace + absl::Seconds(10));
  gate->Open();
  EXPECT_TRUE(stuck->WaitUntilNotAlive(absl::Seconds(30)));
}

TEST(CoordinatorTest, Item80IgnoreLiveThreadsOnlyLogs) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto stuck = StartBlocked(coord, "never-exits", gate);
  ASSERT_TRUE(coord.RequestStop().ok());
  auto start = Clock::now();
  EXPECT_TRUE(coord.Join(absl::Milliseconds(200), /*ignore_live_threads=*/true).ok());
  EXPECT_GE(Since(start), absl::Milliseconds(200));
  EXPECT_TRUE(coord.joined());
  gate->Open();
  EXPECT_TRUE(stuck->WaitUntilNotAlive(absl::Seconds(30)));
}

TEST(CoordinatorTest, Item81GraceIsMeasuredFromWhenJoinSeesTheStop) {
  // Stop requested long before Join: the grace still runs in full.
  {
    Coordinator coord;
    auto gate = std::make_shared<Gate>();
    auto stuck = StartBlocked(coord, "stuck", gate);
    ASSERT_TRUE(coord.RequestStop().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto start = Clock::now();
    EXPECT_EQ(coord.Join(absl::Milliseconds(300)).code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_GE(Since(start), absl::Milliseconds(300));
    gate->Open();
    EXPECT_TRUE(stuck->WaitUntilNotAlive(absl::Seconds(30)));
  }
  // Join waiting in phase A: the grace starts when the stop arrives.
  {
    Coordinator coord;
    auto gate = std::make_shared<Gate>();
    auto stuck = StartBlocked(coord, "stuck", gate);
    auto start = Clock::now();
    std::future<absl::Status> join =
        std::async(std::launch::async, [&] { return coord.Join(absl::Milliseconds(300)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto stopped = Clock::now();
    ASSERT_TRUE(coord.RequestStop().ok());
    ASSERT_EQ(join.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(join.get().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_GE(Since(stopped), absl::Milliseconds(300));
    EXPECT_GE(Since(start), absl::Milliseconds(500));
    gate->Open();
    EXPECT_TRUE(stuck->WaitUntilNotAlive(absl::Seconds(30)));
  }
}

TEST(CoordinatorTest, Item82JoinWaitsForPassedAndRegisteredThreadsThenForgetsThem) {
  Coordinator coord;
  auto gate = std::make_shared<Gate>();
  auto registered = StartBlocked(coord, "registered", gate);
  // A thread owned by nobody, passed to Join only.
  auto passed = CoordinatedThread::Create("passed", [gate] { gate->WaitFor(absl::Seconds(60)); });
  ASSERT_TRUE(passed->Start().ok());
  std::future<absl::Status> join = std::async(std::launch::async, [&] {
    std::shared_ptr<CoordinatedThread> extra[] = {passed};
    return coord.Join(extra);
  });
  EXPECT_EQ(join.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  gate->Open();
  ASSERT_EQ(join.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(join.get().ok());
  EXPECT_FALSE(registered->IsAlive());
  EXPECT_FALSE(passed->IsAlive());

  // The registered set is empty after Join: a straggler registered before
  // one Join is not waited for (nor named) by the next.
  coord.ClearStop();
  auto gate2 = std::make_shared<Gate>();
  auto straggler = StartBlocked(coord, "straggler", gate2);
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_EQ(coord.Join(absl::Milliseconds(50)).code(), absl::StatusCode::kDeadlineExceeded);
  coord.ClearStop();
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Milliseconds(50)).ok());
  EXPECT_TRUE(straggler->IsAlive());
  gate2->Open();
  EXPECT_TRUE(straggler->WaitUntilNotAlive(absl::Seconds(30)));
}

TEST(CoordinatorTest, Item82ForeignRegisteredThreadIsWaitedFor) {
  Coordinator coord;
  std::atomic<bool> ran{false};
  auto t = CoordinatedThread::Create("foreign", [&ran] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ran = true;
  });
  coord.RegisterThread(t);
  ASSERT_TRUE(t->Start().ok());
  EXPECT_TRUE(coord.Join().ok());
  EXPECT_TRUE(ran);
  EXPECT_FALSE(t->IsAlive());
}

TEST(CoordinatorTest, Item83AfterJoinANonCleanRequestStopReturnsTheError) {
  Coordinator coord;
  EXPECT_FALSE(coord.joined());
  ASSERT_TRUE(coord.Join().ok());  // no threads, no stop
  EXPECT_TRUE(coord.joined());
  absl::Status s = coord.RequestStop(absl::InternalError("after join"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "after join");
  // Clean ones are not errors.
  EXPECT_TRUE(coord.RequestStop(absl::OutOfRangeError("end")).ok());
  EXPECT_TRUE(coord.RequestStop().ok());
}

TEST(CoordinatorTest, Item84ClearStopResetsStopErrorAndJoined) {
  Coordinator coord;
  std::stop_token old_token = coord.stop_token();
  ASSERT_TRUE(coord.RequestStop(absl::InternalError("boom")).ok());
  EXPECT_EQ(coord.Join().code(), absl::StatusCode::kInternal);
  ASSERT_TRUE(coord.joined());
  EXPECT_TRUE(old_token.stop_requested());

  coord.ClearStop();
  EXPECT_FALSE(coord.ShouldStop());
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
  EXPECT_FALSE(coord.joined());
  EXPECT_FALSE(coord.stop_token().stop_requested());
  EXPECT_TRUE(old_token.stop_requested());
  // And a new error can be recorded.
  ASSERT_TRUE(coord.RequestStop(absl::DataLossError("second")).ok());
  EXPECT_EQ(coord.Join().code(), absl::StatusCode::kDataLoss);
}

TEST(CoordinatorTest, Item85WaitForStopTimesOutOrReturnsAtOnce) {
  Coordinator coord;
  auto start = Clock::now();
  EXPECT_FALSE(coord.WaitForStop(absl::Milliseconds(50)));
  EXPECT_GE(Since(start), absl::Milliseconds(50));

  ASSERT_TRUE(coord.RequestStop().ok());
  start = Clock::now();
  EXPECT_TRUE(coord.WaitForStop(absl::Seconds(30)));
  EXPECT_LT(Since(start), absl::Seconds(5));
  EXPECT_TRUE(coord.WaitForStop(absl::ZeroDuration()));
}

TEST(CoordinatorTest, WaitForStopWakesWhenAnotherThreadRequestsStop) {
  Coordinator coord;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)coord.RequestStop();
  });
  EXPECT_TRUE(coord.WaitForStop(absl::Seconds(30)));
  stopper.join();
}

TEST(CoordinatorTest, Item86StopOnErrorReportsAndSwallows) {
  Coordinator coord;
  EXPECT_TRUE(coord.StopOnError(absl::OkStatus()).ok());
  EXPECT_FALSE(coord.ShouldStop());
  // In a thread body, as `with coord.stop_on_exception():` is used.
  coord.StartThread("body", [&coord] {
    (void)coord.RunAndReportError([]() -> absl::Status {
      return absl::UnavailableError("reader died");
    });
  });
  EXPECT_TRUE(coord.WaitForStop(absl::Seconds(30)));
  absl::Status s = coord.Join();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "reader died");
}

TEST(CoordinatorTest, Item86StopOnErrorReturnsOkBeforeJoin) {
  Coordinator coord;
  EXPECT_TRUE(coord.StopOnError(absl::InternalError("swallowed")).ok());
  EXPECT_TRUE(coord.ShouldStop());
  EXPECT_EQ(coord.Join().code(), absl::StatusCode::kInternal);
}

TEST(CoordinatorTest, Item87RaiseRequestedErrorReturnsTheRecordedError) {
  Coordinator coord;
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
  ASSERT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.RaiseRequestedError().ok());
  coord.ClearStop();
  ASSERT_TRUE(coord.RequestStop(absl::InternalError("x")).ok());
  EXPECT_EQ(coord.RaiseRequestedError().code(), absl::StatusCode::kInternal);
}

TEST(CoordinatorTest, StopTokenWakesABlockedQueueCallWithCancelled) {
  Coordinator coord;
  auto q = testing::Int64Queue(1);
  ASSERT_NE(q, nullptr);
  std::promise<absl::Status> result;
  coord.StartThread("consumer", [&] {
    result.set_value(q->Dequeue(WaitOptions::StopOn(coord.stop_token())).status());
  });
  auto f = result.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  ASSERT_TRUE(coord.RequestStop().ok());
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(CoordinatorTest, CreatedThreadsStartOnceAndUnstartedThreadsAreNotAlive) {
  Coordinator coord;
  std::atomic<int> runs{0};
  auto t = coord.CreateThread("later", [&runs] { ++runs; });
  EXPECT_FALSE(t->started());
  EXPECT_FALSE(t->IsAlive());
  // Join does not wait for a thread that was never started.
  EXPECT_TRUE(coord.Join(absl::Seconds(1)).ok());
  ASSERT_TRUE(t->Start().ok());
  EXPECT_EQ(t->Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(t->WaitUntilNotAlive(absl::Seconds(30)));
  EXPECT_EQ(runs.load(), 1);
}

TEST(CoordinatorTest, DestructorStopsAndWaitsForItsThreads) {
  std::atomic<bool> exited{false};
  std::shared_ptr<CoordinatedThread> handle;
  {
    Coordinator coord;
    handle = coord.StartThread("poller", [&coord, &exited] {
      while (!coord.WaitForStop(absl::Milliseconds(5))) {
      }
      exited = true;
    });
    // No RequestStop, no Join: the destructor must do both.
  }
  EXPECT_TRUE(exited);
  EXPECT_FALSE(handle->IsAlive());
}

TEST(CoordinatorTest, ManyThreadsReportingConcurrentlyRecordExactlyOneError) {
  Coordinator coord;
  constexpr int kThreads = 8;
  for (int i = 0; i < kThreads; ++i) {
    coord.StartThread(absl::StrCat("w", i), [&coord, i] {
      (void)coord.RequestStop(absl::InternalError(absl::StrCat("error ", i)));
    });
  }
  absl::Status s = coord.Join(absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message().substr(0, 6), "error ");
}

}  // namespace
}  // namespace sluice
