#pragma once
// The training job's test accuracy (private to src/train): the predictions
// of the session's graph over the test batches (TrainInputs::TestBatches),
// the fraction equal to the labels. With `sum_over` (data-parallel ranks,
// each reading its share of the test set) the counts are summed over the
// world, so every test record counts once whatever the number of ranks.
// The first pass also writes three test images to `events` when given
// (summaries.h).
//
// Errors: the pipeline's, the session's (kernel errors name the op), the
// world's (a stalled rank named).
// Not thread-safe. Everything given to the constructor must outlive it.

#include <cstdint>

#include "core/status.h"
#include "distributed/world.h"
#include "graph/session.h"
#include "graph/summary_writer.h"
#include "train/internal/train_graph.h"
#include "train/internal/train_input.h"
#include "train/trainer.h"

namespace sluice::train::internal {

class Evaluator {
 public:
  Evaluator(const TrainOptions& o, Session* session, const TrainGraph& graph,
            const TrainInputs& inputs, distributed::World* sum_over,
            FileWriter* events)
      : o_(o),
        session_(session),
        graph_(graph),
        inputs_(inputs),
        sum_over_(sum_over),
        events_(events) {}

  // TrainOptions::evaluate, and a test set to evaluate on.
  bool enabled() const { return o_.evaluate && !o_.test.files.empty(); }
  // One pass over the test set; 0 when it is empty.
  absl::StatusOr<double> Accuracy();
  // Session runs (test batches) so far.
  int64_t runs() const { return runs_; }

 private:
  const TrainOptions& o_;
  Session* session_;
  const TrainGraph& graph_;
  const TrainInputs& inputs_;
  distributed::World* sum_over_;
  FileWriter* events_;
  bool images_logged_ = false;
  int64_t runs_ = 0;
};

}  // namespace sluice::train::internal
