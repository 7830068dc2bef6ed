#pragma once
// Devices of a session: names, parsing of device requests, and the set of
// devices a session can place nodes on.
//
// Requests accept TensorFlow's spellings: "/cpu:0", "/gpu:0", "/device:GPU:0",
// "/job:localhost/replica:0/task:0/device:CPU:0", "CPU:0", "" (anywhere).
// Full device names are "/job:localhost/replica:0/task:0/device:CPU:0".
// Thread-safe (immutable after construction).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kernels/device_context.h"

namespace sluice {

struct DeviceSpec {
  std::optional<DeviceType> type;  // none: any type
  int index = -1;                  // -1: any index
  // InvalidArgument for a malformed string or an unknown device type.
  static absl::StatusOr<DeviceSpec> Parse(std::string_view s);
  // "/device:GPU:0", "/device:CPU:*", "" for an empty spec.
  std::string ToString() const;
  bool empty() const { return !type.has_value(); }
};

class Device {
 public:
  Device(DeviceType type, int index, DeviceContext* context);
  DeviceType type() const { return type_; }
  int index() const { return index_; }
  // "/job:localhost/replica:0/task:0/device:CPU:0".
  const std::string& name() const { return name_; }
  DeviceContext* context() const { return context_; }
  bool Matches(const DeviceSpec& spec) const;

 private:
  DeviceType type_;
  int index_;
  std::string name_;
  DeviceContext* context_;
};

class DeviceSet {
 public:
  // This process's CPU device (CPU:0) alone. In a CUDA build,
  // GpuDeviceSet() (graph/cuda/gpu_device.h) gives CPU:0 and GPU:0; a
  // Session places on the GPU when given that set.
  static std::shared_ptr<const DeviceSet> Local();
  explicit DeviceSet(std::vector<std::unique_ptr<Device>> devices);

  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  const Device* cpu() const { return devices_.front().get(); }
  // The first device matching `spec`, or null.
  const Device* Find(const DeviceSpec& spec) const;
  // "[/job:localhost/replica:0/task:0/device:CPU:0]" for messages.
  std::string DebugString() const;

 private:
  std::vector<std::unique_ptr<Device>> devices_;  // devices_[0] is the CPU
};

}  // namespace sluice
