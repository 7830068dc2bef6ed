#pragma once
// StageMetrics: where a pipeline stage's threads spend their time (design
// decision 10). Each thread of a stage attributes its wall time to one of
// three phases — busy (doing the stage's work), waiting for input (blocked
// on the queue or iterator it reads), waiting for output (blocked on the
// queue or buffer it writes) — with a PhaseClock, which reads the clock
// once per phase switch.
//
// StageSummary() turns the counters into one line such as
//   "parse: 91% busy, 5% waiting for input, 2% waiting for output, 1.2M items"
// followed by the stage's parameters when set ("; parallelism 2, buffer 1")
// where the percentages are of the stage's thread-time (wall time since
// the first clock started × threads).
//
// Thread-safe: counters are atomics; a PhaseClock belongs to one thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sluice {

enum class StagePhase : int { kBusy = 0, kInputWait = 1, kOutputWait = 2, kIdle = 3 };

struct StageSnapshot {
  std::string name;
  int threads = 0;
  int64_t busy_ns = 0;
  int64_t input_wait_ns = 0;
  int64_t output_wait_ns = 0;
  int64_t items = 0;
  int64_t bytes = 0;
  int64_t wall_ns = 0;  // since the stage's first PhaseClock started
  // The stage's settings as last set (AUTOTUNE's choices, e.g.
  // {"parallelism", 2}), in the order first set.
  std::vector<std::pair<std::string, int64_t>> parameters;
};

class StageMetrics {
 public:
  explicit StageMetrics(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void AddTime(StagePhase phase, int64_t ns);
  void AddItems(int64_t n, int64_t bytes = 0) {
    items_.fetch_add(n, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // Counts `n` threads that will run the stage (starts the wall clock).
  void AddThreads(int n);
  // Records a setting of the stage (e.g. "parallelism" chosen by AUTOTUNE);
  // a later call with the same name replaces the value.
  void SetParameter(const std::string& name, int64_t value);
  StageSnapshot Snapshot() const;
  // "name: 91% busy, 5% waiting for input, 2% waiting for output, N items".
  std::string SummaryLine() const;

 private:
  friend class PhaseClock;
  void ThreadStarted(int64_t now_ns);

  const std::string name_;
  std::atomic<int64_t> ns_[3] = {0, 0, 0};
  std::atomic<int64_t> items_{0};
  std::atomic<int64_t> bytes_{0};
  std::atomic<int> threads_{0};
  std::atomic<int64_t> start_ns_{0};  // 0 until the first clock starts
  mutable absl::Mutex params_mu_;
  std::vector<std::pair<std::string, int64_t>> params_ ABSL_GUARDED_BY(params_mu_);
};

// Attributes one thread's time to phases of `metrics`. Starts in kIdle
// (not counted) until the first Switch. Not thread-safe: one per thread.
// `metrics` may be null (then it does nothing). `count_thread`: this clock
// starts a new thread of the stage (false for a clock made per step of a
// thread that StageMetrics::AddThreads already counted).
class PhaseClock {
 public:
  explicit PhaseClock(StageMetrics* metrics, bool count_thread = true);
  ~PhaseClock();
  PhaseClock(const PhaseClock&) = delete;
  PhaseClock& operator=(const PhaseClock&) = delete;

  // Ends the current phase and starts `phase`.
  void Switch(StagePhase phase);
  StagePhase phase() const { return phase_; }

  // The innermost clock alive on this thread (null when none): lets code
  // running inside a stage (a batcher's TensorSource, a map function) mark
  // where it blocks without knowing the stage. See ScopedPhase.
  static PhaseClock* Current();

 private:
  StageMetrics* const metrics_;
  StagePhase phase_ = StagePhase::kIdle;
  int64_t since_ns_ = 0;
  PhaseClock* const outer_;  // the Current() this clock hides
};

// Switches this thread's current clock (if any) to `phase` for the scope,
// then back: e.g. ScopedPhase wait(StagePhase::kInputWait) around a queue
// dequeue inside a TensorSource.
class ScopedPhase {
 public:
  explicit ScopedPhase(StagePhase phase) : clock_(PhaseClock::Current()) {
    if (clock_ != nullptr) {
      saved_ = clock_->phase();
      clock_->Switch(phase);
    }
  }
  ~ScopedPhase() {
    if (clock_ != nullptr) clock_->Switch(saved_);
  }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  PhaseClock* const clock_;
  StagePhase saved_ = StagePhase::kIdle;
};

// The stages of one pipeline, in data-flow order. Thread-safe.
class PipelineMetrics {
 public:
  // The stage called `name`, created on first use. The pointer stays valid
  // as long as this object.
  StageMetrics* Stage(const std::string& name);
  std::vector<StageSnapshot> Snapshot() const;
  // One SummaryLine per stage, newline-separated.
  std::string Report() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<StageMetrics>> stages_ ABSL_GUARDED_BY(mu_);
};

int64_t MonotonicNanos();

}  // namespace sluice
