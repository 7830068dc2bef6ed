#pragma once
// Helpers for the queue conformance tests (checklist items 1–73 of
// docs/spec/tf1-pipeline-semantics.md §8).
//
// Every wait here has a timeout. A call expected to block runs on a
// Background thread; the test checks that it has not finished after a short
// while (kBlockCheck), unblocks it through the queue, and then waits for it
// with a generous timeout (kFinishTimeout). Calls expected not to block run
// inline with Soon(): a bounded deadline, so a queue that wrongly blocks
// fails the test with DeadlineExceeded instead of hanging it.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "queues/queue.h"

namespace sluice {
namespace testing_util {

// How long a call must stay unfinished to count as blocked. Also the time
// given to a background call to reach its queue before the next step: tests
// that depend on arrival order use an observable effect (Size()) instead
// wherever the queue offers one.
inline constexpr absl::Duration kBlockCheck = absl::Milliseconds(100);
// How long any call that should finish is given.
inline constexpr absl::Duration kFinishTimeout = absl::Seconds(10);

// A deadline for calls that must not block.
inline WaitOptions Soon() { return WaitOptions::Timeout(kFinishTimeout); }

inline std::chrono::nanoseconds ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// --- elements -------------------------------------------------------------

// A one-component element holding an int64 scalar.
inline TensorTuple Int64Element(int64_t v) { return TensorTuple{Tensor::Scalar<int64_t>(v)}; }

// A one-component batch of int64 scalars (shape [values.size()]).
inline TensorTuple Int64Batch(std::vector<int64_t> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return TensorTuple{Tensor::FromVector<int64_t>(
      absl::Span<const int64_t>(values.data(), values.size()), TensorShape{n})};
}

// The flattened int64 contents of component `c`.
inline std::vector<int64_t> Int64Values(const TensorTuple& t, int c = 0) {
  const Tensor& x = t[c];
  auto f = x.flat<int64_t>();
  return std::vector<int64_t>(f.begin(), f.end());
}

// The one int64 of component `c` of an element.
inline int64_t Int64Scalar(const TensorTuple& t, int c = 0) { return t[c].scalar<int64_t>(); }

// Queue options for one int64 scalar component.
inline QueueOptions Int64Options(int64_t capacity, std::string name = "q") {
  QueueOptions o;
  o.name = std::move(name);
  o.dtypes = {DType::kInt64};
  o.shapes = {TensorShape{}};
  o.capacity = capacity;
  return o;
}

// Enqueues each value as its own element; each call must not block.
inline void EnqueueAll(QueueInterface& q, const std::vector<int64_t>& values) {
  for (int64_t v : values) ASSERT_TRUE(q.Enqueue(Int64Element(v), Soon()).ok()) << v;
}

// Dequeues one int64 scalar element that must be available, or -999999 on
// failure (with a test failure recorded).
inline int64_t DequeueInt64(QueueInterface& q) {
  absl::StatusOr<TensorTuple> r = q.Dequeue(Soon());
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return -999999;
  return Int64Scalar(*r);
}

// Polls `pred` until it holds or kFinishTimeout passes. For states another
// thread brings about (a blocked EnqueueMany having moved its first rows).
inline bool Eventually(const std::function<bool()>& pred,
                       absl::Duration timeout = kFinishTimeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// --- status matchers -------------------------------------------------------

inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }
template <typename T>
std::string Msg(const absl::StatusOr<T>& s) {
  return std::string(s.status().message());
}
inline const absl::Status& St(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& St(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_CODE(absl::IsCancelled, status_or_statusor)
#define SLUICE_EXPECT_CODE(pred, expr)                                   \
  do {                                                                   \
    const auto& sluice_r_ = (expr);                                      \
    EXPECT_TRUE(pred(::sluice::testing_util::St(sluice_r_)))            \
        << #pred << " expected, got " << ::sluice::testing_util::St(sluice_r_); \
  } while (0)

// --- background calls ------------------------------------------------------

// Runs `fn(stop_token)` on its own thread. The destructor triggers the token
// and waits (bounded) so a failing test never leaves a thread blocked in a
// queue; pass the token to the call (WaitOptions::StopOn) for that to work.
template <typename T>
class Background {
 public:
  explicit Background(std::function<T(std::stop_token)> fn) {
    std::stop_token token = stop_.get_token();
    future_ = std::async(std::launch::async,
                         [fn = std::move(fn), token]() { return fn(token); });
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  ~Background() {
    if (!future_.valid()) return;
    stop_.request_stop();
    if (future_.wait_for(ToChrono(kFinishTimeout)) != std::future_status::ready) {
      // A queue that ignores its stop token: better a loud abort than a
      // test binary hanging until ctest kills it.
      std::fprintf(stderr, "Background call ignored its stop token; aborting\n");
      std::abort();
    }
  }

  // True when the call is still running after `d` (it is blocked).
  bool StillRunningAfter(absl::Duration d = kBlockCheck) {
    return !result_.has_value() &&
           future_.wait_for(ToChrono(d)) == std::future_status::timeout;
  }
  // True when the call finishes within `d`.
  bool FinishesWithin(absl::Duration d = kFinishTimeout) {
    if (result_.has_value()) return true;
    if (future_.wait_for(ToChrono(d)) != std::future_status::ready) return false;
    result_.emplace(future_.get());
    return true;
  }
  void RequestStop() { stop_.request_stop(); }

  // The call's result; waits (bounded) for it. Fails the test and returns
  // an Internal error (for Status-like T) if the call does not finish.
  T Result() {
    if (!FinishesWithin()) {
      ADD_FAILURE() << "background call did not finish within " << kFinishTimeout;
      stop_.request_stop();
      if (!FinishesWithin()) std::abort();
    }
    return *result_;
  }

 private:
  std::stop_source stop_;
  std::future<T> future_;
  std::optional<T> result_;
};

using BgStatus = Background<absl::Status>;
using BgTuple = Background<absl::StatusOr<TensorTuple>>;

// Convenience wrappers: the call gets a stop token and no deadline.
inline std::unique_ptr<BgStatus> BgEnqueue(QueueInterface& q, TensorTuple t) {
  return std::make_unique<BgStatus>([&q, t](std::stop_token s) {
    return q.Enqueue(t, WaitOptions::StopOn(s));
  });
}
inline std::unique_ptr<BgStatus> BgEnqueueMany(QueueInterface& q, TensorTuple t) {
  return std::make_unique<BgStatus>([&q, t](std::stop_token s) {
    return q.EnqueueMany(t, WaitOptions::StopOn(s));
  });
}
inline std::unique_ptr<BgStatus> BgClose(QueueInterface& q, bool cancel = false) {
  return std::make_unique<BgStatus>([&q, cancel](std::stop_token s) {
    return q.Close(cancel, WaitOptions::StopOn(s));
  });
}
inline std::unique_ptr<BgTuple> BgDequeue(QueueInterface& q) {
  return std::make_unique<BgTuple>(
      [&q](std::stop_token s) { return q.Dequeue(WaitOptions::StopOn(s)); });
}
inline std::unique_ptr<BgTuple> BgDequeueMany(QueueInterface& q, int64_t n) {
  return std::make_unique<BgTuple>(
      [&q, n](std::stop_token s) { return q.DequeueMany(n, WaitOptions::StopOn(s)); });
}
inline std::unique_ptr<BgTuple> BgDequeueUpTo(QueueInterface& q, int64_t n) {
  return std::make_unique<BgTuple>(
      [&q, n](std::stop_token s) { return q.DequeueUpTo(n, WaitOptions::StopOn(s)); });
}

}  // namespace testing_util
}  // namespace sluice
