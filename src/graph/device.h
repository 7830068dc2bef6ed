#pragma once
// Devices of a session: names, parsing of device requests, and the set of
// devices a session can place nodes on.
//
// Requests accept TensorFlow's spellings: "/cpu:0", "/gpu:0", "/device:GPU:0",
// "/job:localhost/replica:0/task:0/device:CPU:0", "CPU:0", "" (anywhere).
// Full device names are "/job:localhost/replica:0/task:0/device:CPU:0";
// a session's devices belong to one task of a cluster (by default the
// single task /job:localhost/task:0; distributed::Server gives others).
// A request naming a job or task is resolved against the cluster:
// a job or task the cluster does not have, or another task than the
// session's, is InvalidArgument naming it (CheckJobTask), never silently
// the local CPU.
// Thread-safe (immutable after construction).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "device/device_context.h"

namespace sluice {

struct DeviceSpec {
  std::optional<std::string> job;  // none: any job
  int task = -1;                   // -1: any task
  std::optional<DeviceType> type;  // none: any type
  int index = -1;                  // -1: any index
  // InvalidArgument for a malformed string or an unknown device type.
  static absl::StatusOr<DeviceSpec> Parse(std::string_view s);
  // "/job:ps/task:0/device:GPU:0", "/device:CPU:*", "" for an empty spec.
  std::string ToString() const;
  // No device type requested (a job/task alone still leaves the device open).
  bool empty() const { return !type.has_value(); }
  bool names_task() const { return job.has_value() || task >= 0; }
};

// TensorFlow's visible_device_list spelling, "1" or "0,2" (spaces
// ignored), as GPU indices in order; "" is the empty list (every GPU).
// InvalidArgument naming an entry that is not a non-negative integer.
absl::StatusOr<std::vector<int>> ParseVisibleDeviceList(std::string_view list);

class Device {
 public:
  Device(DeviceType type, int index, DeviceContext* context, std::string job = "localhost",
         int task = 0);
  DeviceType type() const { return type_; }
  const std::string& job() const { return job_; }
  int task() const { return task_; }
  int index() const { return index_; }
  // "/job:localhost/replica:0/task:0/device:CPU:0".
  const std::string& name() const { return name_; }
  DeviceContext* context() const { return context_; }
  bool Matches(const DeviceSpec& spec) const;

 private:
  DeviceType type_;
  int index_;
  std::string job_;
  int task_;
  std::string name_;
  DeviceContext* context_;
};

class DeviceSet {
 public:
  // This process's CPU device (CPU:0) alone.
  static std::shared_ptr<const DeviceSet> Local();
  // What a Session uses when given no devices: CPU:0 and every GPU the
  // device registry sees (GPU:0..N-1, device/device_registry.h), with
  // TensorFlow's default placement (prefers_gpu: a node that requests no
  // device type runs on GPU:0 when a GPU kernel for it is registered,
  // e.g. after RegisterGpuKernels() from graph/cuda/gpu_device.h). Without
  // GPUs, or when a GPU cannot be set up (the reason goes to stderr once),
  // it is Local(). Made anew per call, so a test's simulated platform
  // (SetGpuPlatformForTesting) is seen.
  static std::shared_ptr<const DeviceSet> Default();
  // CPU:0 and, of the GPUs the device registry sees, only those in
  // `visible` (TensorFlow's GPUOptions.visible_device_list; empty: every
  // GPU, as Default()). Only the listed GPUs are set up: the registry is
  // asked for their contexts alone, so no CUDA context, stream, cuBLAS
  // handle or memory pool is made on another GPU. Each keeps its own
  // index ("/gpu:1" stays GPU:1; TensorFlow renumbers the list from 0,
  // docs/divergences.md); the list's order is the devices' order, so with
  // `prefers_gpu` unrequested nodes go to the first listed GPU (the one
  // TensorFlow calls /gpu:0). InvalidArgument naming an entry that is not
  // a GPU of this process (a negative index, one past the count) or is
  // listed twice; a context that cannot be set up is its error (Internal),
  // not a fall-back to the CPU. Without GPUs, an empty list is Local().
  static absl::StatusOr<std::shared_ptr<const DeviceSet>> WithGpus(
      const std::vector<int>& visible, bool prefers_gpu = true);
  // `cluster_jobs`: every job of the cluster and its task count; empty: the
  // devices' own task alone (job of devices[0], tasks 0..its task).
  // `prefers_gpu`: unrequested nodes go to the first GPU when it has a
  // kernel for them (false: to the CPU).
  explicit DeviceSet(std::vector<std::unique_ptr<Device>> devices,
                     std::vector<std::pair<std::string, int>> cluster_jobs = {},
                     bool prefers_gpu = false);
  bool prefers_gpu() const { return prefers_gpu_; }

  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  const Device* cpu() const { return devices_.front().get(); }
  // The first device matching `spec`, or null.
  const Device* Find(const DeviceSpec& spec) const;
  // "[/job:localhost/replica:0/task:0/device:CPU:0]" for messages.
  std::string DebugString() const;
  // OK when `spec` names no job/task or this set's own; InvalidArgument
  // naming the job or task when the cluster has no such job, the job has
  // no such task, or the task is another one (this session runs its own
  // task's nodes only).
  absl::Status CheckJobTask(const DeviceSpec& spec) const;

 private:
  std::vector<std::unique_ptr<Device>> devices_;  // devices_[0] is the CPU
  std::vector<std::pair<std::string, int>> jobs_;
  bool prefers_gpu_ = false;
};

}  // namespace sluice
