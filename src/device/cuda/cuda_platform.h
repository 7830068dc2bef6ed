#pragma once
// The CUDA devices of this process as a DevicePlatform
// (device/device_registry.h): device_count() is cudaGetDeviceCount (0
// without a driver), Context(i) a GpuDeviceContext made once per device and
// kept for the process's lifetime, pinned memory from cudaHostAlloc.
// Built into sluice::device only when nvcc was found. Thread-safe.

#include "device/device_registry.h"

namespace sluice::cuda {

DevicePlatform* CudaPlatform();

}  // namespace sluice::cuda
