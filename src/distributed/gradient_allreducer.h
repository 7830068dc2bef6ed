#pragma once
// GradientAllreducer: the data-parallel step's one agreement across ranks.
// Each rank brings its float32 gradients (means over its own batch), the
// number of samples they came from, and whether it wants to stop; every
// rank leaves with
//   * the gradients averaged over all ranks' samples, weighted by samples:
//       g = sum_r(n_r * g_r) / sum_r n_r
//     which is exactly the gradient of the mean loss over the union of the
//     ranks' batches (a rank that ran out of data brings n = 0 and zero
//     gradients and does not bias the average);
//   * the total sample count (0: every rank is out of data: the epoch has
//     ended everywhere, so no rank waits for another at an epoch's end);
//   * whether any rank asked to stop.
//
// The gradients are laid end to end and cut into buckets of
// `bucket_bytes`; each bucket's MPI_Iallreduce starts as soon as it is
// packed, so packing the next bucket overlaps the previous one's transfer,
// and unpacking waits for all. The sum order is MPI's, the same on every
// rank for Open MPI's algorithms, so every rank ends with the same bits
// (the tests check the parameters' digests).
//
// Errors: InvalidArgument for a non-float32 gradient; DeadlineExceeded
// naming the stalled rank (see World); Internal for MPI errors.
// Not thread-safe: one step at a time.

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "distributed/world.h"

namespace sluice::distributed {

struct StepAgreement {
  int64_t total_samples = 0;
  bool stop = false;
};

struct AllreduceOptions {
  int64_t bucket_bytes = 8 << 20;
};

class GradientAllreducer {
 public:
  explicit GradientAllreducer(World* world, AllreduceOptions options = {})
      : world_(world), options_(options) {}

  // Replaces each of `grads` by the weighted average above (new tensors;
  // the inputs are not written). `what` names the step in errors.
  absl::StatusOr<StepAgreement> Average(std::vector<Tensor>* grads, int64_t samples, bool stop,
                                        std::string_view what);

  // Bytes moved by the last Average (gradients + 2 floats of agreement).
  int64_t last_bytes() const { return last_bytes_; }

 private:
  World* world_;
  AllreduceOptions options_;
  std::vector<float> flat_;
  int64_t last_bytes_ = 0;
};

}  // namespace sluice::distributed
