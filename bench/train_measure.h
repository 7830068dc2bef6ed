#pragma once
// sluice-bench's measurement modes of the training job (train::Train with
// TrainOptions::step_source): each times one half of a training step.
//
//   * InputOnly(): every batch is taken from the input (read, shuffle,
//     parse, copy to the device) and no step runs, so samples_per_second is
//     what the input alone delivers (train.*.input_only);
//   * StepOnly(): every step of an epoch runs on the epoch's first batch,
//     so the model runs without waiting for input and the wait for that
//     first batch is left out of the measured time (train.*.step_only).
// Input wait matters where input_only is faster than step_only.
//
// Each call returns a new source; one Train call at a time per source.

#include <memory>

#include "train/trainer.h"

namespace sluice::bench {

std::shared_ptr<train::StepSource> InputOnly();
std::shared_ptr<train::StepSource> StepOnly();

}  // namespace sluice::bench
