#pragma once
// GpuDeviceContext: one CUDA device as the engine sees it
// (device/device_context.h), the one implementation of that interface over
// the CUDA runtime. CudaStream and CudaEvent implement DeviceStream and
// DeviceEvent (cudaStream_t / cudaEvent_t).
//
//   * compute stream: every GPU kernel is queued here, so kernels of one
//     step run in the order the session launches them and a kernel never
//     needs to wait for its inputs on the host;
//   * copy stream: host<->device copies, ordered against the compute
//     stream with events (a H2D copy makes the compute stream wait for it;
//     a D2H copy waits for the compute work queued before it);
//   * allocator(): stream-ordered device memory (gpu_allocator.h);
//   * a cuBLAS handle bound to the compute stream;
//   * host_allocator(): page-locked host memory (PinnedAllocator);
//   * NewStream / NewEvent: non-blocking streams and timing-free events
//     of this device (the device prefetcher's copy stream and slot events).
// Kernels are asynchronous: Session::Run returns once a step is queued;
// CopyToHost and Sync() wait.
//
// CopyToDevice returns device tensors unchanged and CopyToHost returns host
// tensors unchanged, so a tensor may cross an edge twice safely. Each copy
// returns when its bytes have been moved (the source can be reused); the
// H2D copy of step k+1's batch thereby overlaps step k's kernels queued on
// the compute stream. String tensors cannot live on the GPU
// (InvalidArgument). CUDA errors are Internal statuses naming the call.
//
// Constants: the GPU Const kernel registers its host tensor
// (RegisterConstant); CopyToDevice then copies it once and hands out the
// same device tensor at every later use, instead of a copy per step.
//
// Step capture (BeginCapture, DeviceContext's contract): kernels run
// against a second context whose stream records into a CUDA graph and
// whose allocator is the capture's arena (CaptureArena); cuBLAS has its own
// handle and workspace there. Inside it, CopyToDevice serves constants
// only and CopyToHost / Sync fail (FailedPrecondition), so a kernel that
// would wait on the host aborts the capture instead of breaking it. The
// recorded work is launched on the compute stream.
//
// Thread-safe: copies and kernel launches may come from any thread (a
// capture's context: from the capturing thread only).

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "core/status.h"
#include "device/cuda/gpu_allocator.h"
#include "device/device_context.h"

namespace sluice::cuda {

class CudaEvent final : public DeviceEvent {
 public:
  static absl::StatusOr<std::unique_ptr<CudaEvent>> Create(int device);
  ~CudaEvent() override;
  absl::Status Synchronize() const override;
  cudaEvent_t event() const { return event_; }

 private:
  CudaEvent(int device, cudaEvent_t e) : device_(device), event_(e) {}
  int device_;
  cudaEvent_t event_;
};

// A stream of one device. Owns the cudaStream_t unless made with Borrow.
class CudaStream final : public DeviceStream {
 public:
  static absl::StatusOr<std::unique_ptr<CudaStream>> Create(int device);
  // Wraps a stream someone else owns (the context's compute stream).
  static std::unique_ptr<CudaStream> Borrow(int device, cudaStream_t s);
  ~CudaStream() override;
  absl::Status Memcpy(void* dst, const void* src, size_t bytes) override;
  absl::Status Record(DeviceEvent* event) override;
  absl::Status Wait(const DeviceEvent& event) override;
  absl::Status Synchronize() override;
  cudaStream_t stream() const { return stream_; }

 private:
  CudaStream(int device, cudaStream_t s, bool owned) : device_(device), stream_(s), owned_(owned) {}
  int device_;
  cudaStream_t stream_;
  bool owned_;
};

class GpuDeviceContext final : public DeviceContext {
 public:
  static absl::StatusOr<std::unique_ptr<GpuDeviceContext>> Create(int device);
  ~GpuDeviceContext() override;

  DeviceType type() const override { return DeviceType::kGPU; }
  int index() const override { return device_; }
  Allocator* allocator() const override;
  Allocator* host_allocator() const override { return PinnedAllocator::Get(); }
  DeviceStream* compute_stream() const override { return compute_wrap_.get(); }
  absl::StatusOr<std::unique_ptr<DeviceStream>> NewStream() const override;
  absl::StatusOr<std::unique_ptr<DeviceEvent>> NewEvent() const override;
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override;
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override;
  absl::Status Sync() const override;
  absl::Status BindToThread() const override;
  absl::Status WaitFor(const DeviceEvent& event) const override;
  absl::Status CopyInto(const Tensor& src, const Tensor& dst) const override;
  absl::StatusOr<std::unique_ptr<DeviceCapture>> BeginCapture(size_t arena_bytes) const override;
  bool capturing() const override { return capture_parent_ != nullptr; }
  uint64_t bytes_allocated() const override;

  // Marks `host` (a Const's value: never modified while the graph lives)
  // as cacheable by CopyToDevice.
  void RegisterConstant(const Tensor& host) const;

  int device() const { return device_; }
  // The compute stream for launching kernels on it.
  cudaStream_t cuda_stream() const { return compute_; }
  // Runs `fn(handle)` with the cuBLAS handle (bound to the compute stream)
  // under a lock: a handle's workspace is not for concurrent calls.
  template <typename Fn>
  auto WithCublas(Fn fn) const {
    absl::MutexLock l(&cublas_mu_);
    return fn(cublas_);
  }

 private:
  friend class GpuCapture;
  struct ConstantCache {
    struct Entry {
      Tensor host;    // keeps the host buffer (and so its address) alive
      Tensor device;  // empty until first copied
    };
    absl::Mutex mu;
    absl::flat_hash_map<const void*, Entry> entries ABSL_GUARDED_BY(mu);  // by host data address
  };

  GpuDeviceContext() = default;
  // The context kernels run against while this one captures (lazily made).
  absl::StatusOr<GpuDeviceContext*> CaptureContext() const;
  // A constant's device copy, or nullopt when `host` is not registered.
  absl::StatusOr<std::optional<Tensor>> CachedConstant(const Tensor& host) const;
  absl::StatusOr<Tensor> CopyHostToDevice(const Tensor& host) const;

  int device_ = 0;
  cudaStream_t compute_ = nullptr;
  std::unique_ptr<CudaStream> compute_wrap_;  // compute_ as a DeviceStream
  cudaStream_t copy_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  mutable absl::Mutex cublas_mu_;
  std::unique_ptr<DeviceAllocator> compute_alloc_;  // alloc + free on compute
  std::unique_ptr<DeviceAllocator> copy_alloc_;     // alloc on copy, free on compute
  std::shared_ptr<ConstantCache> constants_ = std::make_shared<ConstantCache>();

  // Capture: the parent's state...
  mutable absl::Mutex capture_mu_;
  mutable std::unique_ptr<GpuDeviceContext> capture_ctx_ ABSL_GUARDED_BY(capture_mu_);
  mutable bool capture_open_ ABSL_GUARDED_BY(capture_mu_) = false;
  // ...and the capture context's (set while a capture is open).
  const GpuDeviceContext* capture_parent_ = nullptr;
  mutable CaptureArena* arena_ = nullptr;
  void* cublas_workspace_ = nullptr;
};

}  // namespace sluice::cuda
