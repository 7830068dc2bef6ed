#pragma once
// The accelerators of this process (GPUs), found through one platform: the
// CUDA one (device/cuda/cuda_platform.h) in a build with CUDA, none
// otherwise. The pipeline, the graph and the trainer ask here, never the
// CUDA runtime.
//
//   for (int i = 0; i < GpuDeviceCount(); ++i) {
//     SLUICE_ASSIGN_OR_RETURN(DeviceContext* gpu, GpuContext(i));  // "/gpu:i"
//   }
//
// A test replaces the platform (SetGpuPlatformForTesting) with a simulated
// one to test device counts, placement and prefetch without a GPU.
//
// Thread-safe, except SetGpuPlatformForTesting (call it while nothing else
// uses the registry).

#include "core/allocator.h"
#include "core/status.h"
#include "device/device_context.h"

namespace sluice {

class DevicePlatform {
 public:
  virtual ~DevicePlatform() = default;
  // Devices visible to the process; 0 without a driver (never an error).
  virtual int device_count() const = 0;
  // The context of device `index` (< device_count()), made on first use
  // and kept for the process's lifetime; Internal when it cannot be set up.
  virtual absl::StatusOr<DeviceContext*> Context(int index) = 0;
  // Page-locked host memory for batches these devices read (never null).
  virtual Allocator* pinned_host_allocator() = 0;
};

// Visible GPUs (0 in a build without CUDA or without a device).
int GpuDeviceCount();
// The context of GPU `index`: InvalidArgument for an index out of range
// (naming it and the count), FailedPrecondition when no GPU is visible.
absl::StatusOr<DeviceContext*> GpuContext(int index = 0);
// Page-locked host memory when a GPU is visible, else HostAllocator().
// Never null.
Allocator* PinnedHostAllocator();

// Test seam: makes `platform` the process's GPU platform (null: back to the
// built-in one); returns the one it replaces. The caller keeps ownership.
DevicePlatform* SetGpuPlatformForTesting(DevicePlatform* platform);

}  // namespace sluice
