#pragma once
// What the training job writes to its TensorBoard event file (private to
// src/train):
//   * StepSummary: scalars "loss" and "queue/device_prefetch/
//     fraction_of_N_full" (TensorFlow's queue fill tag, N the prefetch
//     depth) at a global step; write errors are ignored (a step's point is
//     not worth failing the job);
//   * InputImages: up to three images of a batch of uint8 [k, height *
//     width] grayscale images as "input/image/0..2" at step 0 (an image
//     whose PNG encoding fails is left out);
//   * EpochSummary: "accuracy" (when evaluated), "samples_per_second",
//     "input_wait_fraction", "pipeline/<stage>/busy_fraction" and
//     ".../input_wait_fraction" for each stage that ran, and a histogram
//     per weight (their values fetched from the session), then a flush.
//
// Errors (EpochSummary): the session's and the event file's.
// Not thread-safe (one FileWriter).

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/session.h"
#include "graph/summary_writer.h"
#include "graph/variables.h"
#include "pipeline/stage_metrics.h"
#include "train/trainer.h"

namespace sluice::train::internal {

void WriteStepSummary(FileWriter* events, float loss, double prefetch_fill,
                      int prefetch_depth, int64_t global_step);
void WriteInputImages(FileWriter* events, const Tensor& images, int64_t height,
                      int64_t width);
absl::Status WriteEpochSummary(FileWriter* events, Session* session,
                               const std::vector<Variable>& weights,
                               const EpochStats& es,
                               const PipelineMetrics& metrics, int64_t step);

}  // namespace sluice::train::internal
