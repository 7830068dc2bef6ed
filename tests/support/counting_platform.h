#pragma once
// CountingPlatform: `n` simulated GPUs (testing_sim::SimDevice, inline
// streams) installed as the GPU platform (SetGpuPlatformForTesting) for
// the object's lifetime, counting how often each GPU's context is asked
// for (the registry's first request is what sets a real GPU up). Tests of
// which GPUs a process sets up (visible device lists, one GPU per mpirun
// rank) compare SetUpCounts() with the GPUs they expect; Binds() counts
// the executor's DeviceContext::BindToThread calls on each GPU (where a
// real GPU becomes the thread's current device).
//
// Lifetime: one at a time; the previous platform is restored on
// destruction, so no DeviceSet made meanwhile may outlive it. Context()
// may be called from any thread (the counts are atomic).
#include <atomic>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "device/device_registry.h"
#include "simulated_device.h"

namespace sluice::testing_sim {

// A simulated GPU counting BindToThread calls.
class BindCountingDevice final : public SimDevice {
 public:
  explicit BindCountingDevice(int index)
      : SimDevice(/*threaded=*/false, index) {}
  absl::Status BindToThread() const override {
    binds_.fetch_add(1);
    return absl::OkStatus();
  }
  int binds() const { return binds_.load(); }

 private:
  mutable std::atomic<int> binds_{0};
};

class CountingPlatform final : public DevicePlatform {
 public:
  explicit CountingPlatform(int n) : setups_(n) {
    for (int i = 0; i < n; ++i) {
      devices_.push_back(std::make_unique<BindCountingDevice>(i));
    }
    for (auto& s : setups_) s.store(0);
    old_ = SetGpuPlatformForTesting(this);
  }
  ~CountingPlatform() override { SetGpuPlatformForTesting(old_); }
  CountingPlatform(const CountingPlatform&) = delete;
  CountingPlatform& operator=(const CountingPlatform&) = delete;

  int device_count() const override {
    return static_cast<int>(devices_.size());
  }
  absl::StatusOr<DeviceContext*> Context(int index) override {
    setups_[index].fetch_add(1);
    return devices_[index].get();
  }
  Allocator* pinned_host_allocator() override { return HostAllocator(); }

  // Requests so far for each GPU's context, by index.
  std::vector<int> SetUpCounts() const {
    std::vector<int> v;
    for (const auto& s : setups_) v.push_back(s.load());
    return v;
  }
  // BindToThread calls so far on each GPU, by index.
  std::vector<int> Binds() const {
    std::vector<int> v;
    for (const auto& d : devices_) v.push_back(d->binds());
    return v;
  }

 private:
  std::vector<std::atomic<int>> setups_;
  std::vector<std::unique_ptr<BindCountingDevice>> devices_;
  DevicePlatform* old_;
};

}  // namespace sluice::testing_sim
