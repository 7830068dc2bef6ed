#include "pipeline/stage_metrics.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace sluice {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void StageMetrics::AddTime(StagePhase phase, int64_t ns) {
  if (phase == StagePhase::kIdle || ns <= 0) return;
  ns_[static_cast<int>(phase)].fetch_add(ns, std::memory_order_relaxed);
}

void StageMetrics::AddThreads(int n) {
  threads_.fetch_add(n - 1, std::memory_order_relaxed);
  ThreadStarted(MonotonicNanos());
}

void StageMetrics::ThreadStarted(int64_t now_ns) {
  threads_.fetch_add(1, std::memory_order_relaxed);
  int64_t expected = 0;
  start_ns_.compare_exchange_strong(expected, now_ns, std::memory_order_relaxed);
}

void StageMetrics::SetParameter(const std::string& name, int64_t value) {
  absl::MutexLock lock(&params_mu_);
  for (auto& [n, v] : params_) {
    if (n == name) {
      v = value;
      return;
    }
  }
  params_.emplace_back(name, value);
}

StageSnapshot StageMetrics::Snapshot() const {
  StageSnapshot s;
  s.name = name_;
  s.threads = threads_.load(std::memory_order_relaxed);
  s.busy_ns = ns_[0].load(std::memory_order_relaxed);
  s.input_wait_ns = ns_[1].load(std::memory_order_relaxed);
  s.output_wait_ns = ns_[2].load(std::memory_order_relaxed);
  s.items = items_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  const int64_t start = start_ns_.load(std::memory_order_relaxed);
  s.wall_ns = start == 0 ? 0 : MonotonicNanos() - start;
  absl::MutexLock lock(&params_mu_);
  s.parameters = params_;
  return s;
}

std::string StageMetrics::SummaryLine() const {
  const StageSnapshot s = Snapshot();
  // Threads that started late make thread-time an over-estimate; the sum of
  // the phases is the better denominator when it is larger.
  double total = static_cast<double>(s.wall_ns) * std::max(s.threads, 1);
  const double phases = static_cast<double>(s.busy_ns + s.input_wait_ns + s.output_wait_ns);
  if (phases > total) total = phases;
  auto pct = [&](int64_t ns) { return total > 0 ? 100.0 * ns / total : 0.0; };
  std::string line = absl::StrFormat(
      "%s: %.0f%% busy, %.0f%% waiting for input, %.0f%% waiting for output, %d items (%d "
      "thread%s)",
      s.name, pct(s.busy_ns), pct(s.input_wait_ns), pct(s.output_wait_ns), s.items, s.threads,
      s.threads == 1 ? "" : "s");
  for (size_t i = 0; i < s.parameters.size(); ++i) {
    absl::StrAppendFormat(&line, "%s%s %d", i == 0 ? "; " : ", ", s.parameters[i].first,
                          s.parameters[i].second);
  }
  return line;
}

namespace {
thread_local PhaseClock* current_clock = nullptr;
}  // namespace

PhaseClock* PhaseClock::Current() { return current_clock; }

PhaseClock::PhaseClock(StageMetrics* metrics, bool count_thread)
    : metrics_(metrics), outer_(current_clock) {
  if (metrics_ != nullptr) {
    since_ns_ = MonotonicNanos();
    if (count_thread) metrics_->ThreadStarted(since_ns_);
    current_clock = this;
  }
}

PhaseClock::~PhaseClock() {
  Switch(StagePhase::kIdle);
  if (metrics_ != nullptr) current_clock = outer_;
}

void PhaseClock::Switch(StagePhase phase) {
  if (metrics_ == nullptr || phase == phase_) return;
  const int64_t now = MonotonicNanos();
  metrics_->AddTime(phase_, now - since_ns_);
  phase_ = phase;
  since_ns_ = now;
}

StageMetrics* PipelineMetrics::Stage(const std::string& name) {
  absl::MutexLock lock(&mu_);
  for (auto& s : stages_) {
    if (s->name() == name) return s.get();
  }
  stages_.push_back(std::make_unique<StageMetrics>(name));
  return stages_.back().get();
}

std::vector<StageSnapshot> PipelineMetrics::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<StageSnapshot> out;
  for (const auto& s : stages_) out.push_back(s->Snapshot());
  return out;
}

std::string PipelineMetrics::Report() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& s : stages_) {
    if (!out.empty()) out += '\n';
    out += s->SummaryLine();
  }
  return out;
}

}  // namespace sluice
