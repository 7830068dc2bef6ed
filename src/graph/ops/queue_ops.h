#pragma once
// Queues as graph nodes (TensorFlow 1.x data_flow_ops and tf.train.batch /
// shuffle_batch), and StartQueueRunners over a Session.
//
// A queue op (FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue) outputs a
// handle (a string scalar naming the queue). Each Session creates its own
// queue the first time the op runs; the other queue ops take the handle.
// Enqueue/Dequeue kernels block (they run on the session's calling thread,
// never in a oneTBB task) and wake on the run's deadline
// (DeadlineExceeded) or Session::Close() (Cancelled); a dequeue on a
// closed, drained queue fails with OutOfRange. See queues/queue.h for the
// queue semantics.
//
// Errors while building go to the scope's status.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/coordinator.h"
#include "core/status.h"
#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice {
class Session;
}

namespace sluice::ops {

struct QueueOpOptions {
  std::vector<DType> dtypes;
  std::vector<TensorShape> shapes;  // empty: unknown (no DequeueMany)
  int64_t capacity = -1;            // -1: unbounded
  std::string shared_name;          // queue name; default: the node name
  // RandomShuffleQueue only.
  int64_t min_after_dequeue = 0;
  int64_t seed = 0;
};

Output FIFOQueue(const Scope& scope, const QueueOpOptions& options);
Output RandomShuffleQueue(const Scope& scope, const QueueOpOptions& options);
Output PaddingFIFOQueue(const Scope& scope, const QueueOpOptions& options);

Operation QueueEnqueue(const Scope& scope, const Output& queue, const std::vector<Input>& components);
Operation QueueEnqueueMany(const Scope& scope, const Output& queue,
                           const std::vector<Input>& components);
std::vector<Output> QueueDequeue(const Scope& scope, const Output& queue);
std::vector<Output> QueueDequeueMany(const Scope& scope, const Output& queue, const Input& n);
std::vector<Output> QueueDequeueUpTo(const Scope& scope, const Output& queue, const Input& n);
Operation QueueClose(const Scope& scope, const Output& queue, bool cancel_pending_enqueues = false);
// int32 scalar.
Output QueueSize(const Scope& scope, const Output& queue);

// Adds a QUEUE_RUNNERS entry running each enqueue op in its own loop
// thread (tf.train.QueueRunner + add_queue_runner); builds its close and
// cancel ops.
void AddQueueRunner(const Scope& scope, const Output& queue,
                    const std::vector<Operation>& enqueue_ops);

struct BatchOptions {
  int64_t num_threads = 1;
  bool enqueue_many = false;
  // Final batch may be short once the input is exhausted (DequeueUpTo).
  bool allow_smaller_final_batch = false;
  int64_t seed = 0;  // shuffle_batch
  std::string shared_name;
};

// tf.train.batch: a FIFOQueue of `capacity` fed by num_threads runner loops
// that enqueue `tensors`; returns the dequeue_many(batch_size) outputs.
// Tensor shapes must be fully defined (rows of them when enqueue_many).
std::vector<Output> Batch(const Scope& scope, const std::vector<Input>& tensors,
                          int64_t batch_size, int64_t capacity, BatchOptions options = {});
// tf.train.shuffle_batch: the same over a RandomShuffleQueue keeping at
// least min_after_dequeue elements.
std::vector<Output> ShuffleBatch(const Scope& scope, const std::vector<Input>& tensors,
                                 int64_t batch_size, int64_t capacity, int64_t min_after_dequeue,
                                 BatchOptions options = {});

}  // namespace sluice::ops

namespace sluice {

// tf.train.start_queue_runners(sess, coord): starts the loop threads of
// every QUEUE_RUNNERS entry of the session's graph, registered with
// `coord`. Each loop runs its enqueue op in `session` with the
// coordinator's stop token, so RequestStop wakes blocked enqueues; when the
// input of every loop is exhausted (OutOfRange) the queue is closed.
absl::StatusOr<std::vector<std::shared_ptr<CoordinatedThread>>> StartQueueRunners(
    Session* session, Coordinator* coord, bool start = true);

}  // namespace sluice
