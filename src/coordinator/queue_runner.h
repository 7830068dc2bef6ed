#pragma once
// QueueRunner: TensorFlow 1.x's tf.train.QueueRunner (spec §3, checklist
// items 88–98): N threads each running one enqueue step in a loop, with the
// close / cancel choreography, plus the registry that stands in for the
// QUEUE_RUNNERS graph collection and StartQueueRunners over it.
//
// A loop thread runs its step until
//   * the coordinator (if any) says ShouldStop() — checked between steps;
//   * the step fails with a code in queue_closed_codes: the thread counts
//     itself out, and the last loop to leave this way runs close_fn (its
//     error ignored), so the queue closes once every producer is done;
//   * the step fails with Cancelled after the coordinator stopped: the
//     normal way a step blocked in a queue call is woken at shutdown; quiet;
//   * any other error: reported through coord->RequestStop, or, without a
//     coordinator, logged and appended to exceptions_raised().
// With a coordinator one more thread waits for the stop and then runs
// cancel_fn (its error ignored), which fails pending enqueues on the queue.
//
// Steps receive WaitOptions whose stop token is the coordinator's, so a step
// that passes them to its queue calls wakes (Cancelled) on RequestStop
// alone. A step that ignores them stays blocked until cancel_fn (or whatever
// the step waits on) releases it, as in TensorFlow (item 97).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "coordinator/coordinator.h"
#include "core/status.h"
#include "core/wait_options.h"
#include "queues/queue.h"

namespace sluice {

// How a QueueRunner closes its queue and recognises "input exhausted".
struct QueueRunnerOptions {
  // Empty: queue->Close(false), which lets pending enqueues finish.
  std::function<absl::Status()> close_fn;
  // Empty: queue->Close(true), which fails pending enqueues at once.
  std::function<absl::Status()> cancel_fn;
  // Step errors that mean "my input is exhausted". Must be non-empty.
  // Add kCancelled when steps dequeue from another queue that may be
  // cancelled (as TensorFlow's docs advise).
  std::vector<absl::StatusCode> queue_closed_codes = {absl::StatusCode::kOutOfRange};
};

// Thread-safe.
class QueueRunner : public std::enable_shared_from_this<QueueRunner> {
 public:
  // One enqueue step: usually "produce or dequeue a batch, enqueue it".
  // Must return (an error) when `w` is cancelled if it wants to stop early.
  using Step = std::function<absl::Status(const WaitOptions& w)>;
  using Op = std::function<absl::Status()>;

  using Options = QueueRunnerOptions;

  // InvalidArgument for a null queue, no steps, an empty step function or
  // empty queue_closed_codes (TensorFlow: ValueError / TypeError).
  // Steps may repeat: k copies of one step is how num_threads = k is made.
  static absl::StatusOr<std::shared_ptr<QueueRunner>> Create(
      std::shared_ptr<QueueInterface> queue, std::vector<Step> enqueue_steps,
      Options options = {});

  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;
  ~QueueRunner();

  // Creates one thread per step, plus (when `coord` is non-null) the
  // close-on-stop thread; all are registered with and owned by `coord`.
  // Without a coordinator the runner keeps them (see Join()). Threads are
  // started when `start`, otherwise the caller calls Start() on each.
  // Returns no threads when threads of an earlier call are still counted
  // as running (item 92): a loop counts from creation until it exits.
  // Resets exceptions_raised().
  //
  // `coord` must outlive the threads (a Coordinator outlives the threads it
  // owns by construction). Each thread keeps this runner alive until it has
  // returned, or, never started, until it is destroyed. Without a
  // coordinator the runner does not keep its threads: dropping the returned
  // handles of unstarted threads discards them.
  std::vector<std::shared_ptr<CoordinatedThread>> CreateThreads(Coordinator* coord,
                                                                bool start = false);

  // Blocks until every thread made by CreateThreads(nullptr, ...) has
  // returned (threads never started are skipped). Do not call it from one
  // of those threads.
  void Join();

  // Errors recorded by loops running without a coordinator since the last
  // CreateThreads.
  std::vector<absl::Status> exceptions_raised() const;

  const std::shared_ptr<QueueInterface>& queue() const { return queue_; }
  const Op& close_fn() const { return close_fn_; }
  const Op& cancel_fn() const { return cancel_fn_; }
  const std::vector<absl::StatusCode>& queue_closed_codes() const {
    return queue_closed_codes_;
  }
  size_t num_steps() const { return steps_.size(); }

 private:
  QueueRunner(std::shared_ptr<QueueInterface> queue, std::vector<Step> steps,
              Options options);
  void Loop(Coordinator* coord, size_t step_index);
  void CloseOnStop(Coordinator* coord);
  bool IsQueueClosed(const absl::Status& s) const;

  const std::shared_ptr<QueueInterface> queue_;
  const std::vector<Step> steps_;
  const Op close_fn_;
  const Op cancel_fn_;
  const std::vector<absl::StatusCode> queue_closed_codes_;

  mutable absl::Mutex mu_;
  int live_loops_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Status> exceptions_ ABSL_GUARDED_BY(mu_);
  // Threads of CreateThreads(nullptr, ...), weakly: they hold the runner.
  std::vector<std::weak_ptr<CoordinatedThread>> owned_ ABSL_GUARDED_BY(mu_);
};

// Thread-safe. The QUEUE_RUNNERS collection: runners to start together.
class QueueRunnerRegistry {
 public:
  void Add(std::shared_ptr<QueueRunner> runner);
  std::vector<std::shared_ptr<QueueRunner>> runners() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<QueueRunner>> runners_ ABSL_GUARDED_BY(mu_);
};

// CreateThreads(coord, start) on every runner of `registry`; returns all the
// threads. InvalidArgument when `registry` is null (TensorFlow: ValueError
// for no session). Note the default start = true, unlike CreateThreads.
absl::StatusOr<std::vector<std::shared_ptr<CoordinatedThread>>> StartQueueRunners(
    QueueRunnerRegistry* registry, Coordinator* coord, bool start = true);

}  // namespace sluice
