#pragma once
// DevicePrefetcher: the last stage of the training input — a thread that
// takes host batches from a dataset iterator and copies them onto the
// training device (DeviceContext::CopyToDevice; the GPU context copies on
// its copy stream), keeping up to `depth` batches ready. The batch for step
// k+1 is therefore copied while step k computes.
//
// Next() blocks until a batch is ready (the time it blocks is the
// trainer's input wait), returns nullopt at the end of the iterator, and
// the iterator's or the copy's error otherwise (after which Next keeps
// returning it). Stage time goes to `metrics` (busy = copying, input wait =
// waiting for the host pipeline, output wait = buffer full).
//
// Thread-safety: Next() is for one consumer thread. The destructor stops
// and joins the thread (a blocked GetNext of the iterator finishes first).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/device_context.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/stage_metrics.h"

namespace sluice::train {

class DevicePrefetcher {
 public:
  // Components listed in `copy_components` are copied to the device; the
  // others stay host tensors.
  DevicePrefetcher(std::unique_ptr<Iterator> it, DeviceContext* device, int depth,
                   std::vector<int> copy_components, StageMetrics* metrics = nullptr);
  ~DevicePrefetcher();
  DevicePrefetcher(const DevicePrefetcher&) = delete;
  DevicePrefetcher& operator=(const DevicePrefetcher&) = delete;

  absl::StatusOr<std::optional<TensorTuple>> Next();
  // Ready batches / depth, as sampled at the start of the last Next().
  double last_fill_fraction() const { return last_fill_; }

 private:
  void Loop();

  std::unique_ptr<Iterator> it_;
  DeviceContext* const device_;
  const size_t depth_;
  const std::vector<int> copy_;
  StageMetrics* const metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TensorTuple> ready_;  // guarded by mu_
  bool done_ = false;              // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  absl::Status error_;             // guarded by mu_
  double last_fill_ = 0;
  std::thread thread_;
};

}  // namespace sluice::train
