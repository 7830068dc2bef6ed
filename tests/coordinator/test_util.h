#pragma once
// Helpers for the coordinator tests. std::mutex based on purpose: the
// system abseil is not TSan-instrumented, so absl::Notification would make
// the TSan build report false races.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/time/time.h"
#include "core/tensor.h"
#include "queues/fifo_queue.h"

namespace sluice::testing {

// A one-shot latch. Every wait has a timeout.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> l(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool IsOpen() const {
    std::lock_guard<std::mutex> l(mu_);
    return open_;
  }
  // True when opened before `timeout`.
  bool WaitFor(absl::Duration timeout = absl::Seconds(30)) const {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), [this] { return open_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool open_ = false;
};

inline std::shared_ptr<FIFOQueue> Int64Queue(int64_t capacity, std::string name = "q") {
  QueueOptions o;
  o.name = std::move(name);
  o.dtypes = {DType::kInt64};
  o.shapes = {TensorShape{}};
  o.capacity = capacity;
  auto q = FIFOQueue::Create(o);
  return q.ok() ? *q : nullptr;
}

inline TensorTuple Int64Element(int64_t v) { return TensorTuple{Tensor::Scalar<int64_t>(v)}; }

inline int64_t Int64Value(const TensorTuple& t) { return t[0].scalar<int64_t>(); }

// Seconds elapsed since `start`, as an absl::Duration.
inline absl::Duration Since(std::chrono::steady_clock::time_point start) {
  return absl::FromChrono(std::chrono::steady_clock::now() - start);
}

}  // namespace sluice::testing
