#pragma once
// The executor, the Session's second part (session_executor.cc): runs the
// steps of one Plan for one run. Private to src/graph.
//
// Session::Run makes one Executor over a Frame it took from the plan
// (exclusive to the run) and calls RunPass once, or, for a capturable
// plan, once per pass that RunCapturable asks for (internal/
// session_capture.h). A pass:
//   * runs each step the Pass selects once, after the steps it reads and
//     its control inputs; steps the pass skips count as done at once;
//   * runs steps inline on the calling thread in topological (FIFO) order
//     with no lock; a CPU kernel with enough input to amortise a hand-off
//     runs on a oneTBB task while other steps are ready (a plain thread in
//     ThreadSanitizer builds), and tasks hand the steps they make ready
//     back through Frame::mu; blocking kernels always run on the calling
//     thread, and device kernels (which only queue work) never go to a task;
//   * gives each kernel its inputs from the feeds, the producing step's
//     outputs or the variable (a ref edge), copied through host memory when
//     the edge crosses devices; steps on the capture device run against
//     `capture_ctx` when one is given;
//   * stops at the first error, annotated "[[node NAME (TYPE)]]"; with
//     DeadlineExceeded "Run deadline exceeded" once the run's deadline has
//     passed (checked every few steps and before each blocking kernel,
//     which also gets the deadline itself); with Cancelled when the stop
//     token fires; Internal when a kernel leaves an output unset. Tasks in
//     flight are waited for before it returns.
// The step outputs stay in the frame's values for the caller. Not
// thread-safe: one run's calling thread uses it.

#include <functional>
#include <stop_token>

#include "absl/time/time.h"
#include "graph/internal/session_plan.h"
#include "graph/kernel_registry.h"
#include "graph/resource_mgr.h"

namespace sluice {

class Session::Executor {
 public:
  // `plan`, `frame`, `env` and `resources` must outlive the executor.
  // `record_executed`: append each executed step to frame->executed
  // (RunMetadata).
  Executor(const Plan& plan, Plan::Frame* frame, const OpKernelContext::Env& env,
           ResourceMgr* resources, absl::Time deadline, std::stop_token stop,
           bool record_executed);

  // One pass over the plan (see above). `feeds` (the run's, or a
  // recording's input slots) and `capture_ctx` (may be null) are used for
  // this pass only.
  absl::Status RunPass(Pass pass, DeviceContext* capture_ctx, const FeedList& feeds);

  // RunOptions::fetch_ready (null: none); must outlive the executor.
  void set_fetch_ready(const std::function<void(int, const Tensor&)>* f) { fetch_ready_ = f; }

 private:
  bool Skipped(int i) const;
  // Runs step i's kernel and stores its outputs in the frame.
  absl::Status Execute(int i);
  // Worth a oneTBB task: a CPU kernel with enough input to amortise the
  // hand-off.
  bool WorthATask(int i) const;
  absl::Status RunSteps();

  const Plan& plan_;
  Plan::Frame& f_;
  const OpKernelContext::Env& env_;
  ResourceMgr* const resources_;
  const absl::Time deadline_;
  const bool has_deadline_;
  const std::stop_token stop_;
  const bool record_executed_;
  // The current pass.
  Pass pass_ = Pass::kAll;
  DeviceContext* capture_ctx_ = nullptr;
  const FeedList* feeds_ = nullptr;
  const std::function<void(int, const Tensor&)>* fetch_ready_ = nullptr;
};

namespace internal {
// The value of variable `var` (its VariableState in `resources`);
// FailedPrecondition "Attempting to use uninitialized value NAME" before it
// is initialised.
absl::Status ReadVariableState(const Node* var, ResourceMgr* resources, Tensor* out);
}  // namespace internal

}  // namespace sluice
