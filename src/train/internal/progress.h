#pragma once
// The training job's progress lines (private to src/train), as `sluice
// train` prints them:
//   "epoch 2/10 step 812/468 loss 0.3712 | 41.2k samples/s | input wait 1.3%
//    | read 12% busy 0% in-wait 80% out-wait | parse ..."      (ProgressLine)
//   "epoch 2/10 done: loss 0.3712, test accuracy 0.8563, 31.9k samples/s,
//    input wait 0.7%, 1.9s | read ..."                         (EpochDoneLine)
//   "step capture: 930 of 936 training steps and 20 evaluation batches
//    replayed a recorded CUDA graph (3 recordings)"            (CaptureLine)
// Each ends with "\n". Pure functions; thread-compatible.

#include <cstdint>
#include <string>

#include "graph/session.h"
#include "pipeline/stage_metrics.h"
#include "train/trainer.h"

namespace sluice::train::internal {

// 41234 -> "41.2k", 2.5e6 -> "2.50M", 812 -> "812".
std::string Compact(double v);
// " | read 12% busy 0% in-wait 80% out-wait | parse ..." for each stage
// that has started (its threads' wall time split into busy / waiting for
// input / waiting to hand on); empty when none has.
std::string StagesLine(const PipelineMetrics& m);

// Within epoch `epoch` (0-based) of `epochs`: `steps` of `steps_per_epoch`
// run in `seconds`, `mean_loss`, `input_wait_seconds` of them waiting.
std::string ProgressLine(int epoch, int epochs, int64_t steps,
                         int64_t steps_per_epoch, int64_t batch_size,
                         double mean_loss, double seconds,
                         double input_wait_seconds, const PipelineMetrics& m);
std::string EpochDoneLine(int epochs, const EpochStats& es,
                          const PipelineMetrics& m);
std::string CaptureLine(const CaptureStats& cs, int64_t training_steps,
                        int64_t eval_runs);

}  // namespace sluice::train::internal
