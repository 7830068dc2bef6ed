#pragma once
// Placement: which device runs each node (TensorFlow's placer, simplified).
//
//   * A node that requests no device type goes to the first GPU (GPU:0)
//     when the device set prefers_gpu() (DeviceSet::Default() on a machine
//     with GPUs, as TensorFlow places) and a GPU kernel for it is
//     registered; otherwise to the CPU.
//   * A node whose request names an existing device with a kernel for the
//     node goes there ("/gpu:1" on GPU:1).
//   * Otherwise, with allow_soft_placement the node falls back to the CPU;
//     without it placement fails with InvalidArgument naming the node, the
//     request and the available devices.
//   * Nodes that take a variable reference (Assign) go where the variable
//     is.
// Every decision can be logged as TensorFlow's log_device_placement does:
//   "op1/weight: (VariableV2): /job:localhost/replica:0/task:0/device:CPU:0".
//
// Not thread-safe: one Placer per plan construction.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/status.h"
#include "graph/device.h"
#include "graph/graph.h"

namespace sluice {

class Placer {
 public:
  Placer(const DeviceSet* devices, bool allow_soft_placement)
      : devices_(devices), soft_(allow_soft_placement) {}

  // The device for `node` (memoised).
  absl::StatusOr<const Device*> Place(const Node* node);

  // "name: (Op): device" for `node` after Place succeeded.
  static std::string LogLine(const Node& node, const Device& device);

 private:
  const DeviceSet* devices_;
  bool soft_;
  absl::flat_hash_map<const Node*, const Device*> placed_;
};

}  // namespace sluice
