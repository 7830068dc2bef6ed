#pragma once
// The planner's product, shared by the parts of a Session (session.cc runs,
// session_planner.cc builds, session_executor.cc executes,
// session_capture.cc records). Private to src/graph.
//
// A Plan is what Session::BuildPlan makes of one (feeds, fetches, targets)
// signature, once, and the session caches by that signature:
//   * steps: the nodes the fetches and targets need (inputs and control
//     inputs, stopping at fed tensors), in an order where every step comes
//     after the steps it reads (post-order); each placed on a device with
//     its kernel found, its input edges resolved (a feed, a producing step's
//     output, or a variable read through a ref edge) and its successor and
//     dependency counts set for the executor;
//   * fetches: where each fetched value comes from;
//   * for step capture (SessionOptions::capture_device_steps), the partition
//     of the steps into the capture device's and the host's, the feeds and
//     variables the device part uses, and its CaptureState
//     (internal/session_capture.h); capture_device is null when the plan
//     cannot be recorded.
// A plan is immutable once built and shared by concurrent runs; its only
// mutable parts are the frame pool (pool_mu) and the capture state (its own
// lock). Each run takes a Frame (per-run scratch sized once per plan, so a
// run allocates nothing per node) and gives it back.
//
// Errors of BuildPlan: InvalidArgument for an invalid or foreign-graph
// Output/Operation and for an unfed Placeholder ("You must feed a value for
// placeholder tensor ..."), what the Placer returns, NotFound "No registered
// 'Op' OpKernel for DEVICE devices compatible with node ..." when no kernel
// fits.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "graph/kernel_registry.h"
#include "graph/session.h"

namespace sluice {

struct Session::Plan {
  struct In {
    int feed = -1;              // index into the run's feeds
    int producer = -1;          // step index
    int out = 0;                // producer output
    const Node* var = nullptr;  // ref edge: read this variable when the step runs
    bool ref_input = false;     // the kernel takes the variable itself
    const Device* src_device = nullptr;
  };
  struct Step {
    const Node* node = nullptr;
    const KernelDef* kernel = nullptr;
    const Device* device = nullptr;
    std::vector<In> inputs;
    std::vector<int> successors;
    int num_deps = 0;
  };
  struct Fetch {
    int feed = -1;
    int step = -1;
    int out = 0;
    const Node* var = nullptr;  // fetched variable: read when the run ends
  };
  std::vector<Step> steps;
  std::vector<Fetch> fetches;

  // Step capture: set when the plan's part on `capture_device` may be
  // recorded (SessionOptions::capture_device_steps and the conditions in
  // session.h); null otherwise.
  const Device* capture_device = nullptr;
  std::vector<char> on_capture_device;    // per step: 0 no, 1 yes, kBothSides
  std::vector<int> capture_feeds;         // feeds read by capture-device steps
  std::vector<const Node*> capture_vars;  // variables on the capture device
  std::unique_ptr<CaptureState> capture;

  // Per-run scratch, sized once per plan and reused so that a run makes no
  // per-node heap allocation in the executor. Concurrent runs of one plan
  // each take their own frame from the pool.
  struct Frame {
    explicit Frame(const Plan& plan);
    std::vector<std::vector<Tensor>> values;  // step outputs
    std::vector<std::vector<Tensor>> inputs;  // step input storage, kept empty
    std::unique_ptr<std::atomic<int>[]> pending;
    std::vector<int> ready;         // FIFO of runnable steps (each pushed once)
    int head = 0, tail = 0;
    std::vector<int> task_ready;    // made runnable by tasks; guarded by mu
    std::vector<int> executed;      // completion order, for RunMetadata
    std::mutex mu;  // std::mutex: cv waits on it
    std::condition_variable cv;
  };
  std::unique_ptr<Frame> AcquireFrame() const;
  void ReleaseFrame(std::unique_ptr<Frame> f) const;
  mutable absl::Mutex pool_mu;
  mutable std::vector<std::unique_ptr<Frame>> pool ABSL_GUARDED_BY(pool_mu);
};

// Which nodes a run pass executes: all, only the capture device's, or
// only the others (the captured part is launched instead).
enum class Session::Pass : int { kAll, kCaptureDeviceOnly, kHostOnly };

namespace internal {
// Plan::on_capture_device of a Const: its value is host memory whichever
// device it is placed on, so it runs in both passes.
inline constexpr char kBothSides = 2;
}  // namespace internal

}  // namespace sluice
