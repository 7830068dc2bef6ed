#include "coordinator/queue_runner.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"

namespace sluice {

absl::StatusOr<std::shared_ptr<QueueRunner>> QueueRunner::Create(
    std::shared_ptr<QueueInterface> queue, std::vector<Step> enqueue_steps,
    Options options) {
  if (queue == nullptr) return absl::InvalidArgumentError("QueueRunner: queue is required");
  if (enqueue_steps.empty()) {
    return absl::InvalidArgumentError("QueueRunner: enqueue steps must be non-empty");
  }
  for (const Step& s : enqueue_steps) {
    if (!s) return absl::InvalidArgumentError("QueueRunner: an enqueue step is empty");
  }
  if (options.queue_closed_codes.empty()) {
    return absl::InvalidArgumentError(
        "QueueRunner: queue_closed_codes must be a non-empty set of error codes");
  }
  for (absl::StatusCode c : options.queue_closed_codes) {
    if (c == absl::StatusCode::kOk) {
      return absl::InvalidArgumentError("QueueRunner: queue_closed_codes may not hold OK");
    }
  }
  return std::shared_ptr<QueueRunner>(
      new QueueRunner(std::move(queue), std::move(enqueue_steps), std::move(options)));
}

namespace {

QueueRunner::Op OrDefaultClose(QueueRunner::Op op, const std::shared_ptr<QueueInterface>& q,
                               bool cancel) {
  if (op) return op;
  // A weak reference: the runner owns the queue, not the other way round,
  // and an Op copied out of a dead runner must not keep a queue alive.
  std::weak_ptr<QueueInterface> weak = q;
  return [weak, cancel]() -> absl::Status {
    auto queue = weak.lock();
    if (queue == nullptr) return absl::FailedPreconditionError("queue is gone");
    return queue->Close(cancel);
  };
}

}  // namespace

QueueRunner::QueueRunner(std::shared_ptr<QueueInterface> queue, std::vector<Step> steps,
                         Options options)
    : queue_(std::move(queue)),
      steps_(std::move(steps)),
      close_fn_(OrDefaultClose(std::move(options.close_fn), queue_, false)),
      cancel_fn_(OrDefaultClose(std::move(options.cancel_fn), queue_, true)),
      queue_closed_codes_(std::move(options.queue_closed_codes)) {}

// Thread functions hold a reference, so no thread of this runner is running
// here (this may run on one, as it finishes).
QueueRunner::~QueueRunner() = default;

bool QueueRunner::IsQueueClosed(const absl::Status& s) const {
  return std::find(queue_closed_codes_.begin(), queue_closed_codes_.end(), s.code()) !=
         queue_closed_codes_.end();
}

std::vector<std::shared_ptr<CoordinatedThread>> QueueRunner::CreateThreads(Coordinator* coord,
                                                                           bool start) {
  std::vector<std::shared_ptr<CoordinatedThread>> threads;
  // Each thread function holds the runner; the runner holds its threads
  // only weakly, so there is no cycle even for threads never started.
  std::shared_ptr<QueueRunner> self = shared_from_this();
  {
    absl::MutexLock l(&mu_);
    if (live_loops_ > 0) return threads;  // item 92
    live_loops_ = static_cast<int>(steps_.size());
    exceptions_.clear();
  }
  const std::string prefix = absl::StrCat("QueueRunnerThread-", Sv(queue_->name()), "-");
  auto make = [&](std::string name, std::function<void()> fn) {
    return coord != nullptr ? coord->CreateThread(std::move(name), std::move(fn))
                            : CoordinatedThread::Create(std::move(name), std::move(fn));
  };
  for (size_t i = 0; i < steps_.size(); ++i) {
    threads.push_back(
        make(absl::StrCat(prefix, "step", i), [self, coord, i] { self->Loop(coord, i); }));
  }
  if (coord != nullptr) {
    threads.push_back(make(absl::StrCat(prefix, "close_on_stop"),
                           [self, coord] { self->CloseOnStop(coord); }));
  } else {
    absl::MutexLock l(&mu_);
    // Forget threads of earlier calls that are gone.
    std::erase_if(owned_, [](const auto& t) { return t.expired(); });
    owned_.insert(owned_.end(), threads.begin(), threads.end());
  }
  if (start) {
    for (const auto& t : threads) (void)t->Start();  // fresh threads always start
  }
  return threads;
}

void QueueRunner::Loop(Coordinator* coord, size_t step_index) {
  const Step& step = steps_[step_index];
  bool counted_out = false;
  WaitOptions w;
  while (true) {
    if (coord != nullptr) {
      if (coord->ShouldStop()) break;
      w.stop = coord->stop_token();  // fresh after a ClearStop
    }
    absl::Status s = step(w);
    if (s.ok()) continue;
    if (IsQueueClosed(s)) {
      bool last;
      {
        absl::MutexLock l(&mu_);
        last = --live_loops_ == 0;
      }
      counted_out = true;
      if (last) (void)close_fn_();  // errors ignored (item 96)
      break;
    }
    if (coord != nullptr) {
      // The usual shutdown: a step blocked in a queue call was woken by the
      // stop token or by cancel_fn. Reporting it would be a no-op anyway.
      if (s.code() == absl::StatusCode::kCancelled && coord->ShouldStop()) break;
      absl::Status unseen = coord->RequestStop(s);
      if (!unseen.ok()) {
        // Join already returned: TensorFlow raises in this thread.
        std::fprintf(stderr, "sluice: QueueRunner %s: error after Coordinator::Join: %s\n",
                     std::string(queue_->name()).c_str(), unseen.ToString().c_str());
      }
    } else {
      std::fprintf(stderr, "sluice: QueueRunner %s: enqueue step failed: %s\n",
                   std::string(queue_->name()).c_str(), s.ToString().c_str());
      absl::MutexLock l(&mu_);
      exceptions_.push_back(s);
    }
    break;
  }
  if (!counted_out) {
    absl::MutexLock l(&mu_);
    --live_loops_;
  }
}

void QueueRunner::CloseOnStop(Coordinator* coord) {
  coord->WaitForStop();
  (void)cancel_fn_();  // errors ignored (item 96)
}

void QueueRunner::Join() {
  std::vector<std::shared_ptr<CoordinatedThread>> threads;
  {
    absl::MutexLock l(&mu_);
    for (const auto& weak : owned_) {
      // Expired: finished, or never started and dropped by the caller.
      if (auto t = weak.lock()) threads.push_back(std::move(t));
    }
  }
  for (const auto& t : threads) t->WaitUntilNotAlive();
}

std::vector<absl::Status> QueueRunner::exceptions_raised() const {
  absl::MutexLock l(&mu_);
  return exceptions_;
}

void QueueRunnerRegistry::Add(std::shared_ptr<QueueRunner> runner) {
  if (runner == nullptr) return;
  absl::MutexLock l(&mu_);
  runners_.push_back(std::move(runner));
}

std::vector<std::shared_ptr<QueueRunner>> QueueRunnerRegistry::runners() const {
  absl::MutexLock l(&mu_);
  return runners_;
}

absl::StatusOr<std::vector<std::shared_ptr<CoordinatedThread>>> StartQueueRunners(
    QueueRunnerRegistry* registry, Coordinator* coord, bool start) {
  if (registry == nullptr) {
    return absl::InvalidArgumentError("StartQueueRunners: no queue runner registry given");
  }
  std::vector<std::shared_ptr<CoordinatedThread>> all;
  for (const auto& runner : registry->runners()) {
    auto threads = runner->CreateThreads(coord, start);
    all.insert(all.end(), threads.begin(), threads.end());
  }
  return all;
}

}  // namespace sluice
