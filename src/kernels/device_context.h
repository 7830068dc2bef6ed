#pragma once
// Devices as the kernels see them: a DeviceType, the allocator tensors for
// that device come from, and the copies that move tensors on and off it.
//
// Two implementations: CpuDeviceContext (below) and, in a CUDA build,
// cuda::GpuDeviceContext (kernels/cuda/gpu_device_context.h: streams, a
// device allocator, H2D/D2H copies on the copy stream, step capture). The
// graph engine calls CopyToDevice / CopyToHost at every edge that crosses
// devices.
//
// Thread-safety: a DeviceContext is shared by every kernel running on its
// device; implementations must be thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/allocator.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

enum class DeviceType { kCPU, kGPU };

class DeviceCapture;

// Device work recorded once by a DeviceCapture (a CUDA graph) and queued
// again by Launch(), without the host running the kernels' code. Owns the
// device memory the recorded work reads and writes; destroying it waits
// for launches in flight. Launch is asynchronous (queued on the stream of
// the context that began the capture).
class CapturedWork {
 public:
  virtual ~CapturedWork() = default;
  virtual absl::Status Launch() const = 0;
};

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
  // Makes work queued on stream() from now on wait for `event` (a
  // cudaEvent_t, e.g. a prefetched batch's copy); the host does not wait.
  // CPU: nothing to wait for.
  virtual absl::Status WaitForEvent(void* /*event*/) const { return absl::OkStatus(); }

  // ---- step capture (asynchronous devices only) -------------------------
  // Queues a copy of `src` (host or this device) into `dst` (this device,
  // same byte size) on stream(); `src` may be reused when it returns.
  virtual absl::Status CopyInto(const Tensor& /*src*/, const Tensor& /*dst*/) const {
    return absl::UnimplementedError("CopyInto: not an asynchronous device");
  }
  // Starts recording: kernels launched through the returned capture's
  // context() are recorded, not run, and their tensors come from an arena
  // of `arena_bytes` that the recorded work owns. Unimplemented on the CPU;
  // Unavailable while another capture of this device is open.
  virtual absl::StatusOr<std::unique_ptr<DeviceCapture>> BeginCapture(
      size_t /*arena_bytes*/) const {
    return absl::UnimplementedError("this device cannot capture work");
  }
  // True for a capture's context: kernels must then queue only device work
  // (no host waits, no host copies) and update variables in place, so the
  // recorded work reads and writes the same memory at every launch.
  virtual bool capturing() const { return false; }
  // Bytes handed out by allocator() so far (sizes a capture's arena).
  virtual uint64_t bytes_allocated() const { return 0; }
};

// An open capture (DeviceContext::BeginCapture). Finish() ends it and
// returns the recorded work, not yet run; after an error inside the
// capture, call Finish() anyway to close it (it returns an error then).
// Destroying an unfinished capture closes and discards it. One thread.
class DeviceCapture {
 public:
  virtual ~DeviceCapture() = default;
  virtual DeviceContext* context() = 0;
  virtual absl::StatusOr<std::unique_ptr<CapturedWork>> Finish() = 0;
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
