#pragma once
// The GPUs of this process for the engine (plain C++: no CUDA headers).
//
//   if (GpuDeviceCount() > 0) {
//     SLUICE_RETURN_IF_ERROR(RegisterGpuKernels());
//     SLUICE_ASSIGN_OR_RETURN(auto devices, GpuDeviceSet());
//     Session s(&g, {.allow_soft_placement = true, .devices = devices});
//   }
//
// GpuDeviceCount (device/device_registry.h) is 0 without a driver or
// device (never an error). GpuDeviceSet: CPU:0 and GPU:0..N-1 (the device
// registry's contexts, made once per process), or only the GPUs in
// `visible` (DeviceSet::WithGpus: the others are never set up; a training
// process passes the one GPU it uses); FailedPrecondition when there is no
// GPU, InvalidArgument for a listed GPU that does not exist, Internal for
// CUDA failures. RegisterGpuKernels registers DeviceType::kGPU kernels (float32
// unless noted) in the global KernelRegistry for: Const, Identity, NoOp,
// Shape, Reshape (host/metadata), VariableV2, Assign, Cast, Add, Sub, Mul,
// RealDiv, Maximum, Minimum, SquaredDifference (broadcasting over <= 4
// dims), AddN, OnesLike, ZerosLike, Relu, ReluGrad, BiasAdd, BiasAddGrad, Sum,
// Mean, SluiceBroadcastReduced, Softmax, LogSoftmax,
// SparseSoftmaxCrossEntropyWithLogits, ArgMax, MatMul (cuBLAS),
// ApplyGradientDescent, ApplyMomentum, Conv2D, Conv2DBackpropInput,
// Conv2DBackpropFilter, MaxPool, MaxPoolGrad. Idempotent.
//
// GPU kernels accept host inputs (fed tensors, restored variables,
// constants): data is copied onto the device, and scalars and shapes that
// the kernel needs on the host are read there. Const and Shape produce
// host tensors (TensorFlow's HostMemory outputs), so hyperparameters never
// cost a copy per step.
//
// Thread-safe.

#include <memory>
#include <vector>

#include "core/status.h"
#include "device/device_context.h"
#include "device/device_registry.h"
#include "graph/device.h"

namespace sluice {

absl::StatusOr<std::shared_ptr<const DeviceSet>> GpuDeviceSet(
    const std::vector<int>& visible = {});
absl::Status RegisterGpuKernels();

}  // namespace sluice
