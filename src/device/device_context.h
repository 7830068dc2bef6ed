#pragma once
// The device vocabulary every layer above core shares (sluice::device):
// a DeviceContext (one device: its allocators, its compute stream, copies,
// step capture), DeviceStream (an in-order queue of device work) and
// DeviceEvent (a point in a stream's queue). The pipeline's device prefetch,
// the graph's kernels and the Session use only these; the one CUDA
// implementation is device/cuda/gpu_device_context.h, and the GPUs of the
// process are found through device/device_registry.h.
//
// Two implementations in the tree: CpuDeviceContext (below; no streams,
// copies are the identity) and cuda::GpuDeviceContext. Tests implement
// them too (simulated devices), so stream-ordered logic is tested on CPUs.
//
// Thread-safety: a DeviceContext is shared by every kernel running on its
// device and by the prefetch threads; implementations are thread-safe, and
// so are DeviceStream and DeviceEvent (work queued on one stream from
// several threads runs in the order the calls were made).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/allocator.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

enum class DeviceType { kCPU, kGPU };

// "CPU" / "GPU", as TensorFlow spells device types.
std::string_view DeviceTypeName(DeviceType t);

// A point in a DeviceStream's queue, set by DeviceStream::Record. Destroy
// it only when no stream still waits on it (after the stream that waits has
// been synchronised, or past a later event of it).
class DeviceEvent {
 public:
  virtual ~DeviceEvent() = default;
  // Blocks the host until the work queued before the last Record() has
  // finished; OK at once when never recorded. Internal for device errors.
  virtual absl::Status Synchronize() const = 0;
};

// An in-order queue of device work. Every call queues and returns; the
// work runs later, after everything queued on the stream before it.
class DeviceStream {
 public:
  virtual ~DeviceStream() = default;
  // Queues a copy of `bytes` from `src` to `dst`, each host memory or
  // memory of this stream's device. `src` must stay unchanged and both
  // must stay allocated until the copy has run (an event recorded after
  // it, or Synchronize()).
  virtual absl::Status Memcpy(void* dst, const void* src, size_t bytes) = 0;
  // Sets `event` to the point after everything queued so far.
  virtual absl::Status Record(DeviceEvent* event) = 0;
  // Work queued from now on waits until `event`'s point has been passed
  // (the host does not wait).
  virtual absl::Status Wait(const DeviceEvent& event) = 0;
  // Blocks the host until everything queued so far has finished.
  virtual absl::Status Synchronize() = 0;
};

class DeviceCapture;

// Device work recorded once by a DeviceCapture (a CUDA graph) and queued
// again by Launch(), without the host running the kernels' code. Owns the
// device memory the recorded work reads and writes; destroying it waits
// for launches in flight. Launch is asynchronous (queued on the compute
// stream of the context that began the capture).
class CapturedWork {
 public:
  virtual ~CapturedWork() = default;
  virtual absl::Status Launch() const = 0;
};

class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
  virtual DeviceType type() const = 0;
  // The device's ordinal among the devices of its type (GPU:N).
  virtual int index() const { return 0; }
  // Where tensors produced by kernels on this device live.
  virtual Allocator* allocator() const = 0;
  // Host memory the device copies from asynchronously (page-locked for a
  // GPU); HostAllocator() on the CPU. Never null.
  virtual Allocator* host_allocator() const { return HostAllocator(); }
  // The stream every kernel of this device is queued on; null on
  // synchronous devices (the CPU).
  virtual DeviceStream* compute_stream() const { return nullptr; }
  // A new stream of this device (e.g. a prefetcher's copy stream), and a
  // new event. Unimplemented on synchronous devices.
  virtual absl::StatusOr<std::unique_ptr<DeviceStream>> NewStream() const {
    return absl::UnimplementedError("NewStream: not an asynchronous device");
  }
  virtual absl::StatusOr<std::unique_ptr<DeviceEvent>> NewEvent() const {
    return absl::UnimplementedError("NewEvent: not an asynchronous device");
  }
  // Copies a host tensor onto this device. The CPU context returns the same
  // handle (no copy). The source may be reused when it returns.
  virtual absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const = 0;
  // Copies a tensor of this device to host memory (waits for it).
  virtual absl::StatusOr<Tensor> CopyToHost(const Tensor& device_tensor) const = 0;
  // Blocks until the work queued on compute_stream() is finished (CPU: no-op).
  virtual absl::Status Sync() const { return absl::OkStatus(); }
  // Makes this device the calling thread's current one before a kernel
  // runs on it (a GPU: cudaSetDevice, skipped when already current), so
  // the work it queues goes to this device and a fresh thread does not
  // make a context on GPU 0 first. Cheap (a thread-local read); no-op for
  // the CPU and simulated devices.
  virtual absl::Status BindToThread() const { return absl::OkStatus(); }
  // Makes work queued on compute_stream() from now on wait for `event`
  // (e.g. a prefetched batch's copy); the host does not wait. CPU: nothing
  // to wait for.
  virtual absl::Status WaitFor(const DeviceEvent& event) const {
    DeviceStream* s = compute_stream();
    return s == nullptr ? absl::OkStatus() : s->Wait(event);
  }

  // ---- step capture (asynchronous devices only) -------------------------
  // Queues a copy of `src` (host or this device) into `dst` (this device,
  // same byte size) on compute_stream(); `src` may be reused when it
  // returns.
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

// Staging slots: device memory that a stager (the pipeline's
// DevicePrefetcher) owns and refills batch after batch at the same
// addresses. The tensors of a staged batch are leases on a slot through
// this allocator (kind kDevice; it allocates and frees nothing itself).
// Step capture reads a feed in such memory in place, by its address,
// instead of copying it into the recording (the staging op); other device
// tensors are copied, since their addresses change from run to run.
// Never null; one process-wide instance.
Allocator* StagingSlotAllocator();
// Whether `t` lives in a staging slot.
bool IsStagingSlot(const Tensor& t);

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
