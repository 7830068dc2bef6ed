#pragma once
// InputCollections: what TensorFlow 1.x keeps in graph collections for the
// tf.train input helpers — the QUEUE_RUNNERS to start, and the scalar fill
// summaries each helper adds ("batch/fraction_of_32_full" = size/32,
// "shuffle_batch/fraction_over_10_of_22_full" = max(0, size-10)/22).
// Producers and batchers register into one; the training loop starts the
// runners (StartQueueRunners(&c.runners, &coord)) and writes Collect()
// to its summary writer.
//
// Thread-safe.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "coordinator/queue_runner.h"
#include "queues/queue.h"

namespace sluice {

struct ScalarSummary {
  std::string tag;
  double value = 0;
};

class FillSummaries {
 public:
  // Records `queue`'s fill fraction under `scope`/<QueueStats tag suffix>.
  void Add(std::string scope, std::shared_ptr<QueueInterface> queue);
  // The current value of every summary, in registration order.
  std::vector<ScalarSummary> Collect() const;
  // The tags only.
  std::vector<std::string> Tags() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, std::shared_ptr<QueueInterface>>> entries_
      ABSL_GUARDED_BY(mu_);
};

struct InputCollections {
  QueueRunnerRegistry runners;
  FillSummaries summaries;
};

}  // namespace sluice
