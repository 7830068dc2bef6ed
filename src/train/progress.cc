#include "train/internal/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::train::internal {

std::string Compact(double v) {
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

std::string StagesLine(const PipelineMetrics& m) {
  std::string out;
  for (const StageSnapshot& s : m.Snapshot()) {
    if (s.threads < 1 || s.wall_ns <= 0)
      continue;  // not started (or not clocked)
    const double total = static_cast<double>(std::max<int64_t>(1, s.wall_ns)) *
                         std::max(1, s.threads);
    absl::StrAppend(
        &out, " | ", s.name,
        absl::StrFormat(" %.0f%% busy %.0f%% in-wait %.0f%% out-wait",
                        100.0 * s.busy_ns / total,
                        100.0 * s.input_wait_ns / total,
                        100.0 * s.output_wait_ns / total));
  }
  return out;
}

std::string ProgressLine(int epoch, int epochs, int64_t steps,
                         int64_t steps_per_epoch, int64_t batch_size,
                         double mean_loss, double seconds,
                         double input_wait_seconds, const PipelineMetrics& m) {
  return absl::StrCat(
      absl::StrFormat(
          "epoch %d/%d step %d/%d loss %.4f | %s samples/s | input wait %.1f%%",
          epoch + 1, epochs, steps, steps_per_epoch, mean_loss,
          Compact(steps * batch_size / seconds),
          100.0 * input_wait_seconds / seconds),
      StagesLine(m), "\n");
}

std::string EpochDoneLine(int epochs, const EpochStats& es,
                          const PipelineMetrics& m) {
  return absl::StrCat(
      absl::StrFormat("epoch %d/%d done: loss %.4f, test accuracy %.4f, %s "
                      "samples/s, input wait %.1f%%, %.1fs",
                      es.epoch, epochs, es.mean_loss, es.test_accuracy,
                      Compact(es.samples_per_second),
                      100 * es.input_wait_fraction, es.seconds),
      StagesLine(m), "\n");
}

std::string CaptureLine(const CaptureStats& cs, int64_t training_steps,
                        int64_t eval_runs) {
  return absl::StrCat("step capture: ", cs.replays, " of ", training_steps,
                      " training steps and ", eval_runs,
                      " evaluation batches replayed a recorded CUDA graph (",
                      cs.captures, " recordings",
                      cs.failures > 0
                          ? absl::StrCat("; stopped: ", cs.last_failure)
                          : std::string(),
                      ")\n");
}

}  // namespace sluice::train::internal
