#pragma once
// QueueInterface: the four TensorFlow 1.x queues behind one contract.
// Behaviour follows docs/spec/tf1-pipeline-semantics.md §1 and checklist items
// 1–73, with sluice's deliberate divergences:
//   * every blocking call takes WaitOptions: a deadline (DeadlineExceeded)
//     and a stop token (Cancelled);
//   * a DequeueMany/DequeueUpTo that times out or is cancelled after taking
//     some elements puts them back at the front, in order: nothing is lost
//     (TensorFlow drops them, checklist item 50).
//
// Thread-safe. Requests on each side (enqueue side: Enqueue, EnqueueMany,
// Close(false); dequeue side: Dequeue, DequeueMany, DequeueUpTo) are served
// strictly in arrival order: a later small request never overtakes an
// earlier blocked one. An element is a TensorTuple with one tensor per
// component; EnqueueMany and DequeueMany carry a batch whose dimension 0
// indexes elements. Tensors handed to a queue must not be written again.
//
// Status codes:
//   Cancelled         enqueue on a closed queue; a pending enqueue when
//                     Close(true) runs; Close(false) on a closed queue;
//                     the WaitOptions stop token fired
//   OutOfRange        a dequeue that can never be satisfied: closed and
//                     fewer elements left than requested
//   DeadlineExceeded  WaitOptions.deadline passed first; the queue is as it
//                     was before the call (an EnqueueMany keeps the rows it
//                     had already moved in, as TensorFlow does)
//   InvalidArgument   wrong arity, dtype or shape; n < 0; DequeueMany
//                     without declared shapes

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"

namespace sluice {

// What every queue is built from (TensorFlow's queue op attributes).
struct QueueOptions {
  std::string name = "queue";
  std::vector<DType> dtypes;
  // Empty: shapes unspecified (then DequeueMany/UpTo are not allowed).
  // Otherwise one per component; fully defined except for PaddingFIFOQueue,
  // which allows unknown (-1) dimensions.
  std::vector<TensorShape> shapes;
  // Negative: unbounded.
  int64_t capacity = -1;
  // Payload bytes the queue may hold (string lengths for strings), beside
  // the element cap; 0: no byte cap. An enqueue waits while the bytes it
  // adds would pass the cap, except when no dequeue could proceed without
  // it (nothing dequeueable, or a dequeue waiting): a single element larger
  // than the cap still passes, and a RandomShuffleQueue's min_after_dequeue
  // elements are always admitted, so the cap can never deadlock a queue.
  int64_t byte_capacity = 0;
};

// A point-in-time snapshot of a queue's counters.
struct QueueStats {
  int64_t size = 0;
  int64_t capacity = 0;           // INT32_MAX when unbounded, as TensorFlow
  int64_t min_after_dequeue = 0;  // RandomShuffleQueue only
  int64_t elements_in = 0;
  int64_t elements_out = 0;
  int64_t bytes_in = 0;   // payload bytes (string lengths for strings)
  int64_t bytes_out = 0;
  int64_t bytes_stored = 0;   // tracked only when byte_capacity > 0
  int64_t byte_capacity = 0;  // 0: none
  absl::Duration blocked_on_full;   // summed over callers that waited to enqueue
  absl::Duration blocked_on_empty;  // summed over callers that waited to dequeue

  // TensorFlow's fill summaries: size / capacity ("fraction_of_N_full"),
  // and for shuffle queues max(0, size - M) / (N - M)
  // ("fraction_over_M_of_N_full").
  double FractionFull() const;
  double FractionOverMinFull() const;
  // ".../fraction_of_32_full" or ".../fraction_over_10_of_22_full" tag
  // suffix, matching TensorFlow's summary names.
  std::string FillSummaryTag() const;
};

class QueueInterface {
 public:
  virtual ~QueueInterface() = default;

  // Blocks until the element is stored, the queue is closed (Cancelled),
  // the deadline passes or the stop token fires.
  virtual absl::Status Enqueue(TensorTuple element, const WaitOptions& w = {}) = 0;
  // Stores the rows of `batch` one at a time as room frees (not atomic:
  // moved rows are visible to consumers before the call returns). B == 0
  // succeeds at once, even on a closed queue.
  virtual absl::Status EnqueueMany(TensorTuple batch, const WaitOptions& w = {}) = 0;
  // Blocks until an element is available (OutOfRange once closed and
  // empty).
  virtual absl::StatusOr<TensorTuple> Dequeue(const WaitOptions& w = {}) = 0;
  // Exactly n elements, stacked on a new dimension 0. n > capacity is
  // allowed. Closed with fewer than n left: OutOfRange, and any elements it
  // had taken go back to the front.
  virtual absl::StatusOr<TensorTuple> DequeueMany(int64_t n, const WaitOptions& w = {}) = 0;
  // As DequeueMany while open; once closed returns what is left (1..n rows)
  // and OutOfRange only when nothing is left.
  virtual absl::StatusOr<TensorTuple> DequeueUpTo(int64_t n, const WaitOptions& w = {}) = 0;
  // cancel_pending_enqueues == false: queued behind every earlier enqueue
  // and takes effect (and returns) when they have finished; Cancelled if
  // the queue is already closed. true: closes at once, fails every pending
  // enqueue (and pending Close(false)) with Cancelled, returns OK even when
  // already closed. Pending dequeues are never cancelled by a close.
  virtual absl::Status Close(bool cancel_pending_enqueues = false,
                             const WaitOptions& w = {}) = 0;

  virtual bool IsClosed() const = 0;
  // Elements stored now; excludes rows held by pending DequeueMany calls
  // and rows not yet moved by pending EnqueueMany calls.
  virtual int64_t Size() const = 0;
  virtual QueueStats stats() const = 0;

  virtual std::string_view name() const = 0;
  // "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue".
  virtual std::string_view kind() const = 0;
  virtual const std::vector<DType>& component_dtypes() const = 0;
  virtual const std::vector<TensorShape>& component_shapes() const = 0;
  // INT32_MAX when created unbounded, as TensorFlow stores it.
  virtual int64_t capacity() const = 0;

  // For shared queues (checklist 72–73): OK when `requested` describes a
  // queue this one can stand for; otherwise InvalidArgument naming the
  // mismatching property ("capacity", "component types", "component
  // shapes", ...).
  virtual absl::Status CheckCompatibleForSharing(const QueueInterface& requested) const = 0;
};

}  // namespace sluice
