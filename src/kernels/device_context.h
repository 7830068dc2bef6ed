#pragma once
// Devices as the kernels see them: a DeviceType, the allocator tensors for
// that device come from, and the copies that move tensors on and off it.
//
// Only the CPU exists now. The CUDA issue adds a GpuDeviceContext (a stream,
// a device allocator, H2D/D2H copies on the copy stream) behind this same
// interface; the graph engine calls CopyToDevice / CopyToHost at every edge
// that crosses devices, so nothing in the engine changes when it lands.
//
// Thread-safety: a DeviceContext is shared by every kernel running on its
// device; implementations must be thread-safe.

#include <string>
#include <string_view>

#include "core/allocator.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

enum class DeviceType { kCPU, kGPU };

// "CPU" / "GPU", as TensorFlow spells device types.
std::string_view DeviceTypeName(DeviceType t);

class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
  virtual DeviceType type() const = 0;
  // Where tensors produced by kernels on this device live.
  virtual Allocator* allocator() const = 0;
  // An opaque stream for asynchronous devices (cudaStream_t); null on CPU.
  virtual void* stream() const { return nullptr; }
  // Copies a host tensor onto this device. The CPU context returns the same
  // handle (no copy). Completes before returning on every device today.
  virtual absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const = 0;
  // Copies a tensor of this device to host memory.
  virtual absl::StatusOr<Tensor> CopyToHost(const Tensor& device_tensor) const = 0;
  // Blocks until the work queued on stream() is finished (CPU: no-op).
  virtual absl::Status Sync() const { return absl::OkStatus(); }
};

// The host CPU. Thread-safe; one process-wide instance.
class CpuDeviceContext final : public DeviceContext {
 public:
  static CpuDeviceContext* Get();
  DeviceType type() const override { return DeviceType::kCPU; }
  Allocator* allocator() const override { return HostAllocator(); }
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override { return host; }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override { return t; }
};

}  // namespace sluice
