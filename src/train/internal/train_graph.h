#pragma once
// The training job's graph (private to src/train): the model (models.h)
// placed on the CPU or /gpu:N behind an "images" placeholder (uint8
// [batch, height*width], scaled to [0, 1] on the device) and a "labels"
// placeholder (int64 [batch]); the mean cross-entropy "loss", the
// "predictions" (argmax), a CPU "global_step", and by the job's mode:
//   * alone: the optimizer's update (Optimizer::Minimize) as train_op;
//   * data-parallel (TrainOptions::world, no ps tasks): the gradients and
//     the update fed with their averages (train/data_parallel.h) as dp and
//     train_op;
//   * a parameter-server worker (ps_tasks > 0): the loss's gradient per
//     weight (ps_grads), and the optimizer's slots and non-slot variables
//     (the chief's copies of the ps tasks' state for checkpoints; the
//     update that created them is never run);
//   * under mpirun (both modes): an "epochs_done" variable (resume with
//     another N).
// The graph's seed is TrainOptions::seed.
//
// Errors: the model's and the optimizer's (the scope's status);
// InvalidArgument naming a weight without a gradient (parameter servers).
// Not thread-safe: builds into `g`, which must outlive the result.

#include <optional>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/variables.h"
#include "train/data_parallel.h"
#include "train/trainer.h"

namespace sluice::train::internal {

struct TrainGraph {
  Output images;  // uint8 [batch, pixels]
  Output labels;  // int64 [batch]
  Output loss;
  Output predictions;
  Operation train_op;  // alone and data-parallel
  Variable global_step;
  std::vector<Variable> weights;  // trainable, in layer order
  // Data-parallel: the gradients and the update fed with their averages;
  // epochs completed, for resuming with another N.
  std::optional<DataParallelGraph> dp;
  Variable epochs_done;
  // Parameter-server workers: the loss's gradient per weight.
  std::vector<Output> ps_grads;
};

// `gpu_index`: -1 for the CPU, N for /gpu:N.
absl::StatusOr<TrainGraph> BuildTrainGraph(Graph* g, const TrainOptions& o,
                                           int gpu_index);

}  // namespace sluice::train::internal
