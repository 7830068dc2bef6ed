#pragma once
// Step capture, the Session's third part (session_capture.cc): the state
// of one plan's recording and the protocol Session::RunCapturable follows.
// Private to src/graph.
//
// For a plan whose device part may be recorded (Plan::capture_device set,
// see internal/session_plan.h), every run holds CaptureState::mu for its
// whole length and goes one of three ways:
//   * eager: the executor runs every step (Pass::kAll), as without
//     capture. The first kEagerRunsBeforeCapture runs after the recordings
//     are dropped are eager: they move variables and constants onto the
//     device and measure the device memory a run allocates (arena_bytes);
//   * record: every variable of the device part must be in device memory
//     already. The device steps run once against a capture context
//     (Pass::kCaptureDeviceOnly); the variables must keep their memory
//     (updates in place). If anything fails, the variables get their
//     values back, capture is disabled for the plan (the reason goes to the
//     log and to CaptureStats) and the run goes on eagerly, so a step is
//     never applied twice or lost;
//   * launch: the recording is launched and the executor runs the host
//     steps (Pass::kHostOnly). Fetches of device steps then come from
//     fetch_values.
// Feeds (the staging op, as TensorFlow's StagingArea): when every fed
// tensor the device part reads is in a staging slot (IsStagingSlot: a
// batch from the DevicePrefetcher), the recording reads it in place, at
// its address: no copy at launch. One such recording is made per distinct
// set of feed addresses (one per staging slot; at most kMaxRecordings),
// and a launch picks the one recorded for the batch's slot. The recording
// keeps the addresses only, never the feed tensors, so the slot goes back
// to the prefetcher when the caller drops the batch, and the prefetcher
// refills it only after the compute stream has passed the launch that read
// it (stream-ordered release). Other feeds (host tensors, device tensors
// whose address changes from run to run) are copied into input slots in
// the recording's arena instead (DeviceContext::CopyInto), one recording.
// The recordings are dropped when a feed's dtype or shape or a variable's
// device memory changes, or a new slot appears past kMaxRecordings; after
// kMaxWastedCaptures drops before kReplaysToPayOff launches each, capture
// is disabled for the plan.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"
#include "device/device_context.h"
#include "graph/internal/session_plan.h"
#include "graph/resource_mgr.h"

namespace sluice {

// The recordings of one plan's device part, and when to make or drop them.
struct Session::CaptureState {
  // One recorded device part and the feeds it reads.
  struct Recording {
    std::unique_ptr<CapturedWork> work;
    // True: reads the feeds at feed_data (device memory it does not own);
    // false: the feeds are copied into feed_slots first.
    bool feeds_in_place = false;
    std::vector<const void*> feed_data;  // per capture_feeds (in place)
    std::vector<Tensor> feed_slots;      // per capture_feeds (copied)
    std::vector<DType> dtypes;           // per capture_feeds
    std::vector<TensorShape> shapes;     // per capture_feeds
    std::vector<Tensor> fetch_values;    // per fetch (capture-device steps)
  };
  absl::Mutex mu;  // held for a whole run of the plan while capture is on
  int eager_runs ABSL_GUARDED_BY(mu) = 0;  // since the recordings were dropped
  uint64_t arena_bytes ABSL_GUARDED_BY(mu) = 0;  // largest device allocation of an eager run
  int wasted ABSL_GUARDED_BY(mu) = 0;  // recording sets dropped before they paid off
  bool disabled ABSL_GUARDED_BY(mu) = false;
  int64_t replays ABSL_GUARDED_BY(mu) = 0;  // of the current recordings
  std::vector<Recording> recordings ABSL_GUARDED_BY(mu);
  // The fetch values of the recording the current run launched.
  std::vector<Tensor> fetch_values ABSL_GUARDED_BY(mu);
  std::vector<std::shared_ptr<VariableState>> vars ABSL_GUARDED_BY(mu);  // per capture_vars
  std::vector<const void*> var_memory ABSL_GUARDED_BY(mu);
};

}  // namespace sluice
