#include "coordinator/coordinator.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

// How often Join re-checks threads it is not woken for (threads owned by
// no coordinator or by another one).
constexpr auto kForeignPoll = std::chrono::milliseconds(5);

Clock::time_point DeadlineAfter(absl::Duration d) {
  // Far-off deadlines are infinite (and cannot overflow the clock).
  if (d > absl::Hours(24 * 365 * 100)) return Clock::time_point::max();
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return Clock::now() + absl::ToChronoNanoseconds(d);
}

}  // namespace

// ---------------------------------------------------------------------------
// CoordinatedThread

CoordinatedThread::CoordinatedThread(std::string name, std::function<void()> fn,
                                     Coordinator* owner)
    : name_(std::move(name)), owner_(owner), fn_(std::move(fn)) {}

std::shared_ptr<CoordinatedThread> CoordinatedThread::Create(std::string name,
                                                             std::function<void()> fn) {
  return std::shared_ptr<CoordinatedThread>(
      new CoordinatedThread(std::move(name), std::move(fn), nullptr));
}

CoordinatedThread::~CoordinatedThread() {
  // The running thread holds a reference until its last step, so here the
  // function has returned: join is immediate, unless this is that thread.
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

absl::Status CoordinatedThread::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (abandoned_) {
    return absl::FailedPreconditionError(
        absl::StrCat("thread ", name_, ": its coordinator was destroyed"));
  }
  if (started_.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError(
        absl::StrCat("thread ", name_, " can only be started once"));
  }
  started_.store(true, std::memory_order_release);
  thread_ = std::thread(&CoordinatedThread::Body, this, shared_from_this());
  return absl::OkStatus();
}

void CoordinatedThread::Body(std::shared_ptr<CoordinatedThread> self) {
  fn_();
  fn_ = nullptr;  // release captures on this thread, before anyone is woken
  if (owner_ != nullptr) {
    owner_->MarkFinished(this);  // after this the owner may be gone
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    finished_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  self.reset();  // may destroy *this (then the destructor detaches)
}

void CoordinatedThread::Abandon() {
  std::lock_guard<std::mutex> l(mu_);
  abandoned_ = true;
}

bool CoordinatedThread::IsAlive() const {
  return started_.load(std::memory_order_acquire) &&
         !finished_.load(std::memory_order_acquire);
}

bool CoordinatedThread::WaitUntilNotAlive(absl::Duration timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  auto not_alive = [this] { return !IsAlive(); };
  if (timeout == absl::InfiniteDuration()) {
    cv_.wait(l, not_alive);
    return true;
  }
  return cv_.wait_until(l, DeadlineAfter(timeout), not_alive);
}

// ---------------------------------------------------------------------------
// Coordinator

Coordinator::Coordinator() : Coordinator({absl::StatusCode::kOutOfRange}) {}

Coordinator::Coordinator(absl::flat_hash_set<absl::StatusCode> clean_stop_codes)
    : clean_stop_codes_(std::move(clean_stop_codes)) {}

Coordinator::~Coordinator() {
  // Stop first so that threads polling ShouldStop or blocked on
  // stop_token() return; then wait for all of them (see the class comment).
  (void)RequestStop();
  std::vector<std::shared_ptr<CoordinatedThread>> owned;
  {
    std::lock_guard<std::mutex> l(mu_);
    owned = owned_;
  }
  // Nothing may start after this point: an unstarted thread would run
  // with a dangling owner.
  for (const auto& t : owned) t->Abandon();
  {
    // finished_ is set under mu_ (MarkFinished), so once this predicate
    // holds no thread touches *this any more.
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] {
      for (const auto& t : owned_) {
        if (t->IsAlive()) return false;
      }
      return true;
    });
    owned_.clear();
    registered_.clear();
  }
}

bool Coordinator::IsClean(const absl::Status& s) const {
  return s.ok() || clean_stop_codes_.contains(s.code());
}

absl::Status Coordinator::RequestStop(absl::Status why) {
  if (IsClean(why)) why = absl::OkStatus();
  std::stop_source to_fire;
  bool fire = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (joined_ && !why.ok()) return why;
    if (!stop_requested_) {
      if (!why.ok() && error_.ok()) {
        error_ = why;
        std::fprintf(stderr, "sluice: Coordinator: error reported, stopping: %s\n",
                     why.ToString().c_str());
      }
      stop_requested_ = true;
      to_fire = stop_source_;
      fire = true;
    }
  }
  cv_.notify_all();
  // Stop callbacks (queue waits) run here, never under mu_.
  if (fire) to_fire.request_stop();
  return absl::OkStatus();
}

bool Coordinator::ShouldStop() const {
  std::lock_guard<std::mutex> l(mu_);
  return stop_requested_;
}

bool Coordinator::WaitForStop(absl::Duration timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  auto stopped = [this] { return stop_requested_; };
  if (timeout == absl::InfiniteDuration()) {
    cv_.wait(l, stopped);
    return true;
  }
  return cv_.wait_until(l, DeadlineAfter(timeout), stopped);
}

std::stop_token Coordinator::stop_token() const {
  std::lock_guard<std::mutex> l(mu_);
  return stop_source_.get_token();
}

void Coordinator::ClearStop() {
  std::lock_guard<std::mutex> l(mu_);
  stop_requested_ = false;
  joined_ = false;
  error_ = absl::OkStatus();
  if (stop_source_.stop_requested()) stop_source_ = std::stop_source();
}

absl::Status Coordinator::StopOnError(absl::Status s) {
  if (s.ok()) return s;
  return RequestStop(std::move(s));
}

absl::Status Coordinator::RaiseRequestedError() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

bool Coordinator::joined() const {
  std::lock_guard<std::mutex> l(mu_);
  return joined_;
}

std::shared_ptr<CoordinatedThread> Coordinator::CreateThread(std::string name,
                                                             std::function<void()> fn) {
  ReapFinished();
  std::shared_ptr<CoordinatedThread> t(
      new CoordinatedThread(std::move(name), std::move(fn), this));
  std::lock_guard<std::mutex> l(mu_);
  owned_.push_back(t);
  registered_.push_back(t);
  return t;
}

std::shared_ptr<CoordinatedThread> Coordinator::StartThread(std::string name,
                                                            std::function<void()> fn) {
  auto t = CreateThread(std::move(name), std::move(fn));
  (void)t->Start();  // a fresh thread always starts
  return t;
}

void Coordinator::RegisterThread(std::shared_ptr<CoordinatedThread> t) {
  if (t == nullptr) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& r : registered_) {
    if (r == t) return;
  }
  registered_.push_back(std::move(t));
}

void Coordinator::MarkFinished(CoordinatedThread* t) {
  std::lock_guard<std::mutex> l(mu_);
  t->finished_.store(true, std::memory_order_release);
  // Under the lock: once it is released ~Coordinator may run.
  cv_.notify_all();
}

void Coordinator::ReapFinished() {
  std::vector<std::shared_ptr<CoordinatedThread>> done;
  {
    std::lock_guard<std::mutex> l(mu_);
    size_t keep = 0;
    for (size_t i = 0; i < owned_.size(); ++i) {
      if (owned_[i]->finished()) {
        done.push_back(std::move(owned_[i]));
      } else {
        owned_[keep++] = std::move(owned_[i]);
      }
    }
    owned_.resize(keep);
  }
  // `done` is released here, outside mu_: a last reference joins its thread.
}

absl::Status Coordinator::Join(absl::Duration grace, bool ignore_live_threads) {
  return Join({}, grace, ignore_live_threads);
}

absl::Status Coordinator::Join(absl::Span<const std::shared_ptr<CoordinatedThread>> threads,
                               absl::Duration grace, bool ignore_live_threads) {
  std::vector<std::shared_ptr<CoordinatedThread>> snapshot;
  bool has_foreign = false;
  std::unique_lock<std::mutex> l(mu_);
  {
    absl::flat_hash_set<const CoordinatedThread*> seen;
    auto add = [&](const std::shared_ptr<CoordinatedThread>& t) {
      if (t != nullptr && seen.insert(t.get()).second) {
        has_foreign |= t->owner_ != this;
        snapshot.push_back(t);
      }
    };
    for (const auto& t : threads) add(t);
    for (const auto& t : registered_) add(t);
  }
  auto any_alive = [&] {
    for (const auto& t : snapshot) {
      if (t->IsAlive()) return true;
    }
    return false;
  };
  // Waits until `done` or `deadline`. Threads of this coordinator wake us
  // through MarkFinished; others are polled.
  auto wait = [&](auto done, Clock::time_point deadline) {
    while (!done()) {
      auto until = deadline;
      if (has_foreign) until = std::min(until, Clock::now() + kForeignPoll);
      if (until == Clock::time_point::max()) {
        cv_.wait(l);
      } else {
        cv_.wait_until(l, until);
        if (Clock::now() >= deadline) return;
      }
    }
  };

  // Phase A: until a stop is requested or every thread has returned.
  wait([&] { return stop_requested_ || !any_alive(); }, Clock::time_point::max());
  // Phase B: the grace starts now, when Join sees the stop (item 81).
  if (any_alive()) wait([&] { return !any_alive(); }, DeadlineAfter(grace));

  joined_ = true;
  registered_.clear();
  absl::Status result = error_;
  if (result.ok()) {
    std::vector<std::string> names;
    for (const auto& t : snapshot) {
      if (t->IsAlive()) names.push_back(t->name());
    }
    if (!names.empty()) {
      std::string msg = absl::StrCat("Coordinator stopped with threads still running: ",
                                     absl::StrJoin(names, " "));
      if (ignore_live_threads) {
        std::fprintf(stderr, "sluice: %s\n", msg.c_str());
      } else {
        result = absl::DeadlineExceededError(msg);
      }
    }
  }
  l.unlock();
  snapshot.clear();
  ReapFinished();
  return result;
}

}  // namespace sluice
