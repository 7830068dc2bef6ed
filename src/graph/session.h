#pragma once
// Session: runs parts of a Graph (tf.compat.v1.Session / ClientSession).
//
//   Session s(&g, SessionOptions{.allow_soft_placement = true});
//   std::vector<Tensor> out;
//   absl::Status st = s.Run({{x, batch}}, {logits, loss}, {train_op}, &out);
//
// Run(feeds, fetches, targets):
//   * prunes the graph to what the fetches and targets need (inputs and
//     control inputs), stopping at fed tensors; everything else is not run;
//   * evaluates each needed node once per run, however many fetches share
//     it, running independent nodes in parallel (oneTBB tasks; blocking
//     queue kernels run on the calling thread, never inside a task, one at
//     a time: a run whose nodes must unblock each other, e.g. an enqueue
//     and a dequeue of one empty queue in the same run, waits for its
//     deadline);
//   * a needed Placeholder that is not fed fails with InvalidArgument "You
//     must feed a value for placeholder tensor 'x' with dtype float";
//     PlaceholderWithDefault yields its input when not fed;
//   * RunOptions.deadline bounds blocking kernels (DeadlineExceeded) and the
//     run itself; RunOptions.stop cancels them (Cancelled);
//   * a fed tensor must match the declared dtype and (known) shape
//     (InvalidArgument).
// Fetching a variable gives its value at the end of the run (TensorFlow's
// reference semantics), so run([print_after_assign, var]) sees the update.
//
// Plans (pruned, placed node lists) are built once per distinct
// (feeds, fetches, targets) signature and cached.
//
// Step capture (SessionOptions::capture_device_steps), for the fixed-shape
// training step on an asynchronous device: when a plan's nodes on that
// device take no tensor from, and give none to, nodes on other devices
// (feeds and fetches excepted; control edges are fine) and run at least a
// few kernels, then after two ordinary runs (which move variables and
// constants onto the device) its device part is recorded once
// (DeviceContext::BeginCapture) and later runs only copy the feeds into the
// recording's input slots, launch it, and run the host nodes. Variables
// are then updated in place. A run re-records when a feed's dtype or shape
// or a variable's device memory changed since the recording (for example
// after AssignVariable), and falls back to ordinary runs when recording
// fails (the reason is in capture_stats() and on log_sink) or keeps being
// invalidated. Results are those of ordinary runs; runs of one captured
// signature are serialised. Runs with RunMetadata are never captured.
//
// Close() cancels every blocked kernel (queue ops return Cancelled) and
// makes later runs fail with FailedPrecondition. The destructor closes.
//
// Thread-safe: Run may be called from many threads at once (queue runner
// threads do). The graph must outlive the session, and the session must
// outlive every Run in flight: stop and join the threads that run in it
// (Coordinator::RequestStop + Join) before destroying it.

#include <atomic>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/status.h"
#include "core/tensor.h"
#include "graph/device.h"
#include "graph/graph.h"
#include "graph/resource_mgr.h"
#include "graph/variables.h"
#include "queues/queue.h"

namespace sluice {

struct SessionOptions {
  // Nodes requesting a device without a kernel there run on the CPU
  // instead of failing (ConfigProto.allow_soft_placement).
  bool allow_soft_placement = false;
  // Record every placement decision (ConfigProto.log_device_placement):
  // lines go to log_sink (stderr when empty) and to placement_log().
  bool log_device_placement = false;
  std::function<void(std::string_view)> log_sink;
  // Where Print ops write (stdout when empty).
  std::function<void(std::string_view)> print_sink;
  // Deadline of every run that gives none shorter
  // (ConfigProto.operation_timeout_in_ms).
  absl::Duration operation_timeout = absl::InfiniteDuration();
  // Devices to place on; null: DeviceSet::Default() (the CPU, and every
  // GPU with TensorFlow's default placement when the process sees GPUs).
  std::shared_ptr<const DeviceSet> devices;
  // With `devices` null: the GPUs this session may use, in TensorFlow's
  // spelling (ConfigProto.gpu_options.visible_device_list), e.g. "1" or
  // "0,2"; "" is every GPU. Only the listed GPUs are set up
  // (DeviceSet::WithGpus: no CUDA context on the others), and they keep
  // their indices: "1" places "/gpu:1" on GPU 1 and makes "/gpu:0" a
  // missing device (an error, or the CPU with allow_soft_placement).
  // TensorFlow renumbers them from /gpu:0 (docs/divergences.md). A
  // malformed list, or one naming a GPU this process does not have, fails
  // every Run with InvalidArgument naming the entry.
  std::string visible_device_list;
  // Step capture (CUDA graphs): a run signature whose device part is
  // self-contained (see "Step capture" above) is recorded once and then
  // replayed with one launch per run.
  bool capture_device_steps = false;
  // With step capture: a recording reads feeds that are in staging slots
  // (IsStagingSlot: batches from the DevicePrefetcher) in place, one
  // recording per slot address (the staging op). False: they are copied device to device into the
  // recording's input slots at every launch, as before the staging op
  // (kept for the benchmark that measures the difference).
  bool capture_feeds_in_place = true;
};

// What step capture did so far (Session::capture_stats).
struct CaptureStats {
  int64_t captures = 0;   // recordings made and kept
  int64_t replays = 0;    // runs served by launching a recording
  int64_t failures = 0;   // recordings abandoned (the run went on eagerly)
  std::string last_failure;
};

struct RunOptions {
  absl::Time deadline = absl::InfiniteFuture();
  std::stop_token stop;
  // Called with (k, value) as soon as fetch k is computed by a CPU kernel,
  // before the run ends (a data-parallel step starts reducing gradients
  // while the rest of the backward pass runs). Runs on the thread that ran
  // the kernel, possibly concurrently for different k; must not block for
  // long nor modify the value. Fetches of feeds, of variables, of other
  // devices' nodes and of replayed recordings are not reported; every
  // fetch is in the outputs as usual.
  std::function<void(int, const Tensor&)> fetch_ready;
  // Fetches computed on an asynchronous device (a GPU) stay there: the
  // outputs are its device tensors, not host copies, and the run does not
  // wait for them. Read them only with work queued on that device's
  // compute stream (the data-parallel step's NCCL allreduce does). A
  // replayed recording's fetch lives in the recording's memory: it is
  // overwritten by the recording's next launch.
  bool fetch_device_tensors = false;
  static RunOptions Timeout(absl::Duration d) { return RunOptions{absl::Now() + d, {}}; }
};

// Filled when passed to Run: what ran, for tests and profiling.
struct RunMetadata {
  int64_t nodes_executed = 0;
  std::vector<std::string> executed;  // node names, in completion order
};

using FeedItem = std::pair<Output, Tensor>;
using FeedList = std::vector<FeedItem>;

class Session {
 public:
  explicit Session(Graph* graph, SessionOptions options = {});
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  Graph* graph() const { return graph_; }
  const SessionOptions& options() const { return options_; }

  absl::Status Run(const FeedList& feeds, const std::vector<Output>& fetches,
                   std::vector<Tensor>* outputs);
  absl::Status Run(const FeedList& feeds, const std::vector<Output>& fetches,
                   const std::vector<Operation>& targets, std::vector<Tensor>* outputs);
  absl::Status Run(const RunOptions& run_options, const FeedList& feeds,
                   const std::vector<Output>& fetches, const std::vector<Operation>& targets,
                   std::vector<Tensor>* outputs, RunMetadata* metadata = nullptr);

  // Cancels blocked kernels; later runs fail. Idempotent.
  absl::Status Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // Runs that have passed the closed check and not returned yet (a run in
  // flight when Close() is called fails with Cancelled "was cancelled").
  int64_t runs_in_flight() const { return runs_in_flight_.load(std::memory_order_acquire); }

  // Placement log lines so far (log_device_placement), in placement order.
  std::vector<std::string> placement_log() const ABSL_LOCKS_EXCLUDED(mu_);

  // Direct variable access (the Saver's path): FailedPrecondition
  // "Attempting to use uninitialized value x" when not initialised.
  absl::StatusOr<Tensor> ReadVariable(const Variable& var);
  // Stores `value` (dtype must match; shape too unless the variable was
  // made with validate_shape = false).
  absl::Status AssignVariable(const Variable& var, const Tensor& value);
  bool IsVariableInitialized(const Variable& var);

  // The queue behind a queue op's handle output, created on first use.
  absl::StatusOr<std::shared_ptr<QueueInterface>> GetQueue(const Output& queue_handle);

  ResourceMgr* resources() { return &resources_; }

  CaptureStats capture_stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The parts of a run, each in its own file with its contract in an
  // internal header: the planner's Plan (internal/session_plan.h), the
  // Executor (internal/session_executor.h) and step capture's state
  // (internal/session_capture.h).
  struct Plan;
  struct CaptureState;
  class Executor;
  enum class Pass : int;
  // One run of a capturable plan (cs->mu held): eager, recording, or a
  // launch of the recording; `run_pass` runs the executor over the nodes
  // a Pass selects. Sets *replayed when the recording ran (the device
  // part's fetched values are then in cs).
  absl::Status RunCapturable(
      const Plan& plan, CaptureState* cs, const FeedList& feeds,
      const std::function<absl::Status(Pass, DeviceContext*, const FeedList*)>& run_pass,
      std::vector<std::vector<Tensor>>* values, bool* replayed);
  void NoteCaptureFailure(const std::string& why) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::shared_ptr<const Plan>> GetPlan(const FeedList& feeds,
                                                      const std::vector<Output>& fetches,
                                                      const std::vector<Operation>& targets)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::shared_ptr<const Plan>> BuildPlan(const FeedList& feeds,
                                                        const std::vector<Output>& fetches,
                                                        const std::vector<Operation>& targets);

  Graph* const graph_;
  const SessionOptions options_;
  std::shared_ptr<const DeviceSet> devices_;
  absl::Status devices_status_;  // why SessionOptions' devices are unusable
  std::function<void(std::string_view)> print_;
  ResourceMgr resources_;
  std::stop_source close_source_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> runs_in_flight_{0};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Plan>> plans_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const Node*, std::string> placed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> placement_log_ ABSL_GUARDED_BY(mu_);
  CaptureStats capture_stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice
