#pragma once
// Step capture, the Session's third part (session_capture.cc): the state
// of one plan's recording and the protocol Session::RunCapturable follows.
// Private to src/graph.
//
// For a plan whose device part may be recorded (Plan::capture_device set,
// see internal/session_plan.h), every run holds CaptureState::mu for its
// whole length and goes one of three ways:
//   * eager: the executor runs every step (Pass::kAll), as without
//     capture. The first kEagerRunsBeforeCapture runs after a recording is
//     dropped are eager: they move variables and constants onto the device
//     and measure the device memory a run allocates (arena_bytes);
//   * record: every variable of the device part must be in device memory
//     already. The device steps run once against a capture context
//     (Pass::kCaptureDeviceOnly, feeds replaced by input slots allocated in
//     the recording's arena); the variables must keep their memory (updates
//     in place). If anything fails, the variables get their values back,
//     capture is disabled for the plan (the reason goes to the log and to
//     CaptureStats) and the run goes on eagerly, so a step is never applied
//     twice or lost;
//   * launch: the feeds are copied into the slots, the recording is
//     launched, and the executor runs the host steps (Pass::kHostOnly).
//     Fetches of device steps then come from fetch_values.
// A recording is dropped when a feed's dtype or shape or a variable's
// device memory changes; after kMaxWastedCaptures recordings dropped before
// kReplaysToPayOff launches each, capture is disabled for the plan.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/tensor.h"
#include "graph/internal/session_plan.h"
#include "graph/resource_mgr.h"
#include "kernels/device_context.h"

namespace sluice {

// The recording of one plan's device part, and when to make or drop it.
struct Session::CaptureState {
  absl::Mutex mu;  // held for a whole run of the plan while capture is on
  int eager_runs ABSL_GUARDED_BY(mu) = 0;  // since the last recording was dropped
  uint64_t arena_bytes ABSL_GUARDED_BY(mu) = 0;  // largest device allocation of an eager run
  int wasted ABSL_GUARDED_BY(mu) = 0;  // recordings dropped before they paid off
  bool disabled ABSL_GUARDED_BY(mu) = false;
  int64_t replays ABSL_GUARDED_BY(mu) = 0;  // of the current recording
  std::unique_ptr<CapturedWork> work ABSL_GUARDED_BY(mu);
  std::vector<Tensor> feed_slots ABSL_GUARDED_BY(mu);     // per capture_feeds
  std::vector<Tensor> fetch_values ABSL_GUARDED_BY(mu);   // per fetch (capture-device steps)
  std::vector<std::shared_ptr<VariableState>> vars ABSL_GUARDED_BY(mu);  // per capture_vars
  std::vector<const void*> var_memory ABSL_GUARDED_BY(mu);
};

}  // namespace sluice
