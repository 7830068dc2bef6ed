#pragma once
// GpuDeviceContext: one CUDA device as the engine sees it (device_context.h).
//
//   * compute stream: every GPU kernel is queued here, so kernels of one
//     step run in the order the session launches them and a kernel never
//     needs to wait for its inputs on the host;
//   * copy stream: host<->device copies, ordered against the compute
//     stream with events (a H2D copy makes the compute stream wait for it;
//     a D2H copy waits for the compute work queued before it);
//   * allocator(): stream-ordered device memory (gpu_allocator.h);
//   * a cuBLAS handle bound to the compute stream.
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
// Thread-safe: copies and kernel launches may come from any thread.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <mutex>

#include "core/status.h"
#include "kernels/cuda/gpu_allocator.h"
#include "kernels/device_context.h"

namespace sluice::cuda {

class GpuDeviceContext final : public DeviceContext {
 public:
  static absl::StatusOr<std::unique_ptr<GpuDeviceContext>> Create(int device);
  ~GpuDeviceContext() override;

  DeviceType type() const override { return DeviceType::kGPU; }
  Allocator* allocator() const override { return compute_alloc_.get(); }
  void* stream() const override { return compute_; }
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override;
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override;
  absl::Status Sync() const override;

  int device() const { return device_; }
  cudaStream_t compute_stream() const { return compute_; }
  // Runs `fn(handle)` with the cuBLAS handle (bound to the compute stream)
  // under a lock: a handle's workspace is not for concurrent calls.
  template <typename Fn>
  auto WithCublas(Fn fn) const {
    std::lock_guard<std::mutex> l(cublas_mu_);
    return fn(cublas_);
  }

 private:
  GpuDeviceContext() = default;

  int device_ = 0;
  cudaStream_t compute_ = nullptr;
  cudaStream_t copy_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  mutable std::mutex cublas_mu_;
  std::unique_ptr<DeviceAllocator> compute_alloc_;  // alloc + free on compute
  std::unique_ptr<DeviceAllocator> copy_alloc_;     // alloc on copy, free on compute
};

}  // namespace sluice::cuda
