#pragma once
// GradientAllreducer: the data-parallel step's one agreement across ranks.
// Each rank brings its float32 gradients, the number of samples they came
// from, and whether it wants to stop; every rank leaves with
//   * the gradients averaged over all ranks' samples, weighted by samples:
//       g = sum_r(n_r * g_r) / sum_r n_r
//     which is exactly the gradient of the mean loss over the union of the
//     ranks' batches (a rank that ran out of data brings n = 0 and zero
//     gradients and does not bias the average);
//   * the total sample count (0: every rank is out of data: the epoch has
//     ended everywhere, so no rank waits for another at an epoch's end);
//   * whether any rank asked to stop.
//
// Layout: the gradients live end to end in one flat buffer (the arena)
// behind a 64-byte header that carries [samples, stop], each slot padded to
// 64 bytes. The arena is reduced in place, in buckets of `bucket_bytes`,
// one blocking MPI_Allreduce each (World's, under its stall watchdog), so
// the agreement rides in the first bucket and no byte is copied by sluice
// beyond what the caller puts in the arena. The results are Tensors that
// view the arena (valid until the next call that finds the arena free
// again; an arena still referenced is replaced, never overwritten).
//
// Two ways in:
//   * Average(): any float32 tensors holding means over the rank's batch.
//     They are copied into the arena scaled by `samples` (one pass) and
//     the sums scaled by 1/total afterwards (a second pass).
//   * SumWeighted(): the fast path of training. The caller has already
//     weighted its gradients by samples / expected_total (the data-parallel
//     graph scales its loss by that factor, which costs nothing) and, ideally,
//     written them into the arena's slots (Slots(), or Stage() as each
//     gradient is produced): then the call is the bucket allreduces alone.
//     Only when the agreed total differs from expected_total (an epoch's
//     uneven end) are the sums rescaled by expected_total / total.
// The sum order is MPI's, the same on every rank for Open MPI's
// algorithms, so every rank ends with the same bits (the tests check the
// parameters' digests).
//
// Errors: InvalidArgument for a non-float32 gradient or one whose shape
// differs from its slot; DeadlineExceeded naming the stalled rank (see
// World); Internal for MPI errors.
// Overlapped form (the data-parallel step, with Session's fetch_ready):
// Begin() prepares the arena and hands the step to a reducer thread, which
// reduces the buckets in arena order, each as soon as every slot it
// touches is staged (StageReady, called as the backward pass produces each
// gradient), while the rest of the backward pass runs; Finish() stages what
// was not reported, waits for the last bucket and returns as SumWeighted.
// Lay the slots out in the order the gradients are produced (for a
// network, the last layer's first) so the first buckets start early.
//
// Thread-safety: one step at a time; Stage() and StageReady() may be
// called concurrently for different slots between Prepare()/Begin() and
// the step's end. Between Begin() and Finish() the reducer thread owns
// the World's collectives: the caller must run none.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "core/buffer.h"
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

  // Replaces each of `grads` by the weighted average above (views of the
  // arena; the inputs are not written). `what` names the step in errors.
  absl::StatusOr<StepAgreement> Average(std::vector<Tensor>* grads,
                                        int64_t samples, bool stop,
                                        std::string_view what);

  // Lays the arena out for gradients of `shapes` (a new arena when the
  // shapes change or the current one is still referenced) and returns its
  // slots: writable float32 views, one per shape.
  absl::StatusOr<std::vector<Tensor>> Prepare(
      const std::vector<TensorShape>& shapes);
  // Copies `g` into slot i of the prepared arena (InvalidArgument on a
  // dtype or shape mismatch). Thread-safe for different i.
  absl::Status Stage(int i, const Tensor& g);

  // The sum of every rank's pre-weighted gradients (see above). Gradients
  // that are not already the prepared arena's slots are staged first (the
  // arena is prepared for their shapes when it is not). On return each of
  // `grads` views the arena.
  absl::StatusOr<StepAgreement> SumWeighted(std::vector<Tensor>* grads,
                                            int64_t samples, bool stop,
                                            int64_t expected_total,
                                            std::string_view what);

  // The overlapped step (see above). `what` names the step in errors.
  absl::Status Begin(const std::vector<TensorShape>& shapes, int64_t samples,
                     bool stop, std::string what);
  // Stages `g` into slot i (a copy, while it is hot) and lets the reducer
  // go on. Thread-safe; a mismatch is reported by Finish().
  void StageReady(int i, const Tensor& g);
  // Stages the slots not reported from `grads` (same order and shapes as
  // Begin's), waits for every bucket, rescales an uneven total; `grads`
  // then view the arena. Sets *wait_seconds to the time spent waiting for
  // the reducer (communication not hidden behind the backward pass).
  absl::StatusOr<StepAgreement> Finish(std::vector<Tensor>* grads,
                                       int64_t expected_total,
                                       double* wait_seconds);

  ~GradientAllreducer();
  GradientAllreducer(const GradientAllreducer&) = delete;
  GradientAllreducer& operator=(const GradientAllreducer&) = delete;

  // Gradients staged by StageReady (during the backward pass), all steps.
  int64_t staged_early() const {
    return staged_early_.load(std::memory_order_relaxed);
  }

  // Bytes moved by the last call (gradients, padding and header).
  int64_t last_bytes() const { return last_bytes_; }
  // Seconds the last call spent copying into and scaling the arena (the
  // rest was the allreduces).
  double last_copy_seconds() const { return last_copy_seconds_; }

 private:
  // Stages what is not in place (times `weight`), reduces the arena,
  // reads the agreement, and points `grads` at their slots.
  absl::StatusOr<StepAgreement> Reduce(std::vector<Tensor>* grads, float weight,
                                       int64_t samples, bool stop,
                                       std::string_view what);
  absl::Status CheckFloat(const std::vector<Tensor>& grads,
                          std::string_view what) const;
  StepAgreement ReadAgreement() const;
  absl::Status Rescale(const StepAgreement& a, int64_t expected_total);
  // The reducer thread's loop, and whether bucket k's slots are staged.
  void ReduceLoop();
  bool BucketReady(int64_t k) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool InPlace(int i, const Tensor& g) const;
  float* arena() const { return static_cast<float*>(arena_->data()); }

  World* world_;
  AllreduceOptions options_;
  RefPtr arena_;
  std::vector<TensorShape> shapes_;
  std::vector<int64_t> offsets_;  // of each slot, in floats
  std::vector<Tensor> slots_;
  int64_t floats_ = 0;  // arena size in floats
  int64_t last_bytes_ = 0;
  double last_copy_seconds_ = 0;

  // The overlapped step's state.
  absl::Mutex mu_;
  std::thread reducer_;
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  bool active_ ABSL_GUARDED_BY(mu_) =
      false;  // a step is between Begin and its end
  std::vector<char> staged_ ABSL_GUARDED_BY(mu_);  // per slot
  std::vector<int> slot_of_float_begin_;  // first slot each bucket touches
  std::vector<int> slot_of_float_end_;    // one past the last
  int64_t bucket_floats_ = 0, num_buckets_ = 0;
  int64_t next_bucket_ ABSL_GUARDED_BY(mu_) = 0;  // reduced so far
  absl::Status step_status_ ABSL_GUARDED_BY(mu_);
  std::string what_;
  std::atomic<int64_t> staged_early_{0};
};

}  // namespace sluice::distributed
