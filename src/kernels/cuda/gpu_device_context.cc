#include "kernels/cuda/gpu_device_context.h"

#include <cstdint>
#include <cstring>

#include "kernels/cuda/cuda_status.h"

namespace sluice::cuda {

absl::StatusOr<std::unique_ptr<GpuDeviceContext>> GpuDeviceContext::Create(int device) {
  std::unique_ptr<GpuDeviceContext> c(new GpuDeviceContext());
  c->device_ = device;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&c->compute_, cudaStreamNonBlocking),
                              "cudaStreamCreate(compute)");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&c->copy_, cudaStreamNonBlocking),
                              "cudaStreamCreate(copy)");
  // Keep freed memory in the pool: returning it to the driver at every
  // synchronisation would make each step allocate from scratch.
  cudaMemPool_t pool;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  uint64_t threshold = UINT64_MAX;
  SLUICE_CUDA_RETURN_IF_ERROR(
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold),
      "cudaMemPoolSetAttribute");
  SLUICE_RETURN_IF_ERROR(CublasStatus(cublasCreate(&c->cublas_), "cublasCreate"));
  SLUICE_RETURN_IF_ERROR(CublasStatus(cublasSetStream(c->cublas_, c->compute_), "cublasSetStream"));
  c->compute_alloc_ = std::make_unique<DeviceAllocator>(device, c->compute_, c->compute_);
  c->copy_alloc_ = std::make_unique<DeviceAllocator>(device, c->copy_, c->compute_);
  return c;
}

GpuDeviceContext::~GpuDeviceContext() {
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (compute_ != nullptr) cudaStreamDestroy(compute_);
  if (copy_ != nullptr) cudaStreamDestroy(copy_);
}

absl::StatusOr<Tensor> GpuDeviceContext::CopyToDevice(const Tensor& host) const {
  if (!host.IsInitialized()) return absl::InvalidArgumentError("CopyToDevice: empty tensor");
  if (host.buffer()->allocator()->kind() == MemoryKind::kDevice) return host;
  if (host.dtype() == DType::kString) {
    return absl::InvalidArgumentError("string tensors cannot be copied to the GPU");
  }
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  Tensor d(host.dtype(), host.shape(), copy_alloc_.get());
  if (!d.IsInitialized()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GPU out of memory copying ", host.ByteSize(), " bytes to the device"));
  }
  SLUICE_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d.raw_data(), host.raw_data(), host.ByteSize(),
                                              cudaMemcpyHostToDevice, copy_),
                              "cudaMemcpyAsync(host to device)");
  cudaEvent_t done;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&done, cudaEventDisableTiming),
                              "cudaEventCreate");
  absl::Status st = CudaStatus(cudaEventRecord(done, copy_), "cudaEventRecord(copy)");
  if (st.ok()) st = CudaStatus(cudaStreamWaitEvent(compute_, done, 0), "cudaStreamWaitEvent");
  // The host buffer may be reused when we return. From pageable memory
  // cudaMemcpyAsync returns only once the bytes are staged (CUDA's API
  // synchronisation rules), so only a pinned source needs the host to wait
  // for this copy (kernels queued on the compute stream keep running).
  const bool pinned = host.buffer()->allocator()->kind() == MemoryKind::kPinnedHost;
  if (st.ok() && pinned) {
    st = CudaStatus(cudaEventSynchronize(done), "cudaEventSynchronize(H2D)");
  }
  (void)cudaEventDestroy(done);
  SLUICE_RETURN_IF_ERROR(st);
  return d;
}

absl::StatusOr<Tensor> GpuDeviceContext::CopyToHost(const Tensor& t) const {
  if (!t.IsInitialized()) return absl::InvalidArgumentError("CopyToHost: empty tensor");
  if (t.buffer()->allocator()->kind() != MemoryKind::kDevice) return t;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  Tensor h(t.dtype(), t.shape());
  cudaEvent_t ready;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming),
                              "cudaEventCreate");
  // The bytes are produced by kernels queued on the compute stream.
  absl::Status st = CudaStatus(cudaEventRecord(ready, compute_), "cudaEventRecord(compute)");
  if (st.ok()) st = CudaStatus(cudaStreamWaitEvent(copy_, ready, 0), "cudaStreamWaitEvent");
  if (st.ok()) {
    st = CudaStatus(cudaMemcpyAsync(h.raw_data(), t.raw_data(), t.ByteSize(),
                                    cudaMemcpyDeviceToHost, copy_),
                    "cudaMemcpyAsync(device to host)");
  }
  if (st.ok()) st = CudaStatus(cudaStreamSynchronize(copy_), "cudaStreamSynchronize(D2H)");
  (void)cudaEventDestroy(ready);
  SLUICE_RETURN_IF_ERROR(st);
  return h;
}

absl::Status GpuDeviceContext::Sync() const {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(compute_), "cudaStreamSynchronize(compute)");
  return absl::OkStatus();
}

}  // namespace sluice::cuda
