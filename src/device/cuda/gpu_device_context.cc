#include "device/cuda/gpu_device_context.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "device/cuda/cuda_status.h"

namespace sluice::cuda {

absl::StatusOr<std::unique_ptr<CudaEvent>> CudaEvent::Create(int device) {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device), "cudaSetDevice");
  cudaEvent_t e = nullptr;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
  return std::unique_ptr<CudaEvent>(new CudaEvent(device, e));
}

CudaEvent::~CudaEvent() {
  (void)cudaSetDevice(device_);
  (void)cudaEventDestroy(event_);
}

absl::Status CudaEvent::Synchronize() const {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(event_), "cudaEventSynchronize");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CudaStream>> CudaStream::Create(int device) {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device), "cudaSetDevice");
  cudaStream_t s = nullptr;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return std::unique_ptr<CudaStream>(new CudaStream(device, s, /*owned=*/true));
}

std::unique_ptr<CudaStream> CudaStream::Borrow(int device, cudaStream_t s) {
  return std::unique_ptr<CudaStream>(new CudaStream(device, s, /*owned=*/false));
}

CudaStream::~CudaStream() {
  if (!owned_) return;
  (void)cudaSetDevice(device_);
  (void)cudaStreamSynchronize(stream_);
  (void)cudaStreamDestroy(stream_);
}

absl::Status CudaStream::Memcpy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_),
                              "cudaMemcpyAsync");
  return absl::OkStatus();
}

absl::Status CudaStream::Record(DeviceEvent* event) {
  // Each call chooses its device: the runtime would otherwise make a
  // context on the thread's current device (GPU 0 on a fresh thread).
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaEventRecord(static_cast<CudaEvent*>(event)->event(), stream_),
                              "cudaEventRecord");
  return absl::OkStatus();
}

absl::Status CudaStream::Wait(const DeviceEvent& event) {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(
      cudaStreamWaitEvent(stream_, static_cast<const CudaEvent&>(event).event(), 0),
      "cudaStreamWaitEvent");
  return absl::OkStatus();
}

absl::Status CudaStream::Synchronize() {
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GpuDeviceContext>> GpuDeviceContext::Create(int device) {
  std::unique_ptr<GpuDeviceContext> c(new GpuDeviceContext());
  c->device_ = device;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&c->compute_, cudaStreamNonBlocking),
                              "cudaStreamCreate(compute)");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&c->copy_, cudaStreamNonBlocking),
                              "cudaStreamCreate(copy)");
  c->compute_wrap_ = CudaStream::Borrow(device, c->compute_);
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
  capture_ctx_.reset();
  compute_wrap_.reset();
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (cublas_workspace_ != nullptr) cudaFree(cublas_workspace_);
  if (compute_ != nullptr) cudaStreamDestroy(compute_);
  if (copy_ != nullptr) cudaStreamDestroy(copy_);
}

namespace {

// What a capture context hands out when no capture is open: nothing.
class NoDeviceMemory final : public Allocator {
 public:
  std::string_view name() const override { return "gpu_no_capture_open"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t, size_t) override { return nullptr; }
  void Deallocate(void*, size_t) override {}
};

// A captured step: the instantiated graph, launched on the compute stream.
class CudaGraphWork final : public CapturedWork {
 public:
  CudaGraphWork(int device, cudaGraphExec_t exec, cudaStream_t stream, CaptureArena* arena)
      : device_(device), exec_(exec), stream_(stream), arena_(arena) {}
  ~CudaGraphWork() override {
    (void)cudaSetDevice(device_);
    (void)cudaStreamSynchronize(stream_);  // launches in flight use the graph and arena
    (void)cudaGraphExecDestroy(exec_);
    arena_->Unref();
  }
  absl::Status Launch() const override {
    SLUICE_CUDA_RETURN_IF_ERROR(cudaGraphLaunch(exec_, stream_), "cudaGraphLaunch");
    return absl::OkStatus();
  }

 private:
  int device_;
  cudaGraphExec_t exec_;
  cudaStream_t stream_;
  CaptureArena* arena_;
};

}  // namespace

// An open capture on the capture context's stream.
class GpuCapture final : public DeviceCapture {
 public:
  GpuCapture(const GpuDeviceContext* parent, GpuDeviceContext* ctx)
      : parent_(parent), ctx_(ctx) {}
  ~GpuCapture() override {
    if (!finished_) (void)Finish();
  }
  DeviceContext* context() override { return ctx_; }
  absl::StatusOr<std::unique_ptr<CapturedWork>> Finish() override {
    if (finished_) return absl::FailedPreconditionError("capture already finished");
    finished_ = true;
    cudaGraph_t graph = nullptr;
    absl::Status st = CudaStatus(cudaStreamEndCapture(ctx_->compute_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    if (st.ok()) st = CudaStatus(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
    if (graph != nullptr) (void)cudaGraphDestroy(graph);
    (void)cudaGetLastError();  // an invalidated capture leaves a sticky-free error
    CaptureArena* arena = ctx_->arena_;
    ctx_->arena_ = nullptr;
    {
      absl::MutexLock l(&parent_->capture_mu_);
      parent_->capture_open_ = false;
    }
    if (!st.ok()) {
      arena->Unref();
      return st;
    }
    return std::unique_ptr<CapturedWork>(
        new CudaGraphWork(parent_->device_, exec, parent_->compute_, arena));
  }

 private:
  const GpuDeviceContext* parent_;
  GpuDeviceContext* ctx_;
  bool finished_ = false;
};

Allocator* GpuDeviceContext::allocator() const {
  static NoDeviceMemory* none = new NoDeviceMemory();
  if (capture_parent_ == nullptr) return compute_alloc_.get();
  return arena_ != nullptr ? static_cast<Allocator*>(arena_) : none;
}

uint64_t GpuDeviceContext::bytes_allocated() const {
  return compute_alloc_ != nullptr ? compute_alloc_->bytes_allocated() : 0;
}

void GpuDeviceContext::RegisterConstant(const Tensor& host) const {
  if (!host.IsInitialized() || host.dtype() == DType::kString ||
      host.buffer()->allocator()->kind() == MemoryKind::kDevice) {
    return;
  }
  absl::MutexLock l(&constants_->mu);
  constants_->entries.try_emplace(host.raw_data(), ConstantCache::Entry{host, Tensor()});
}

absl::StatusOr<std::optional<Tensor>> GpuDeviceContext::CachedConstant(const Tensor& host) const {
  absl::MutexLock l(&constants_->mu);
  auto it = constants_->entries.find(host.raw_data());
  if (it == constants_->entries.end() || it->second.host.ByteSize() != host.ByteSize() ||
      it->second.host.dtype() != host.dtype()) {
    return std::optional<Tensor>();
  }
  if (!it->second.device.IsInitialized()) {
    if (capturing()) {
      return absl::FailedPreconditionError(
          "a constant reached a captured step before its first device copy");
    }
    SLUICE_ASSIGN_OR_RETURN(it->second.device, CopyHostToDevice(host));
  }
  // The registered shape, not necessarily the caller's (a reshaped view).
  return std::optional<Tensor>(it->second.device.Reshaped(host.shape()));
}

absl::StatusOr<GpuDeviceContext*> GpuDeviceContext::CaptureContext() const {
  if (capture_ctx_ != nullptr) return capture_ctx_.get();
  std::unique_ptr<GpuDeviceContext> c(new GpuDeviceContext());
  c->device_ = device_;
  c->capture_parent_ = this;
  c->constants_ = constants_;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&c->compute_, cudaStreamNonBlocking),
                              "cudaStreamCreate(capture)");
  c->compute_wrap_ = CudaStream::Borrow(device_, c->compute_);
  SLUICE_RETURN_IF_ERROR(CublasStatus(cublasCreate(&c->cublas_), "cublasCreate(capture)"));
  SLUICE_RETURN_IF_ERROR(CublasStatus(cublasSetStream(c->cublas_, c->compute_), "cublasSetStream"));
  // cuBLAS must not allocate inside a capture: give it its own workspace
  // (the size NVIDIA recommends for Hopper).
  constexpr size_t kWorkspace = 32u << 20;
  SLUICE_CUDA_RETURN_IF_ERROR(cudaMalloc(&c->cublas_workspace_, kWorkspace), "cudaMalloc(cuBLAS workspace)");
  SLUICE_RETURN_IF_ERROR(CublasStatus(cublasSetWorkspace(c->cublas_, c->cublas_workspace_, kWorkspace),
                                      "cublasSetWorkspace"));
  capture_ctx_ = std::move(c);
  return capture_ctx_.get();
}

absl::StatusOr<std::unique_ptr<DeviceCapture>> GpuDeviceContext::BeginCapture(size_t arena_bytes) const {
  if (capturing()) return absl::FailedPreconditionError("BeginCapture inside a capture");
  absl::MutexLock l(&capture_mu_);
  if (capture_open_) return absl::UnavailableError("another capture of this GPU is open");
  SLUICE_ASSIGN_OR_RETURN(GpuDeviceContext * ctx, CaptureContext());
  CaptureArena* arena = CaptureArena::Create(device_, arena_bytes);
  if (arena == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GPU out of memory for a capture arena of ", arena_bytes, " bytes"));
  }
  ctx->arena_ = arena;
  absl::Status st = CudaStatus(cudaStreamBeginCapture(ctx->compute_, cudaStreamCaptureModeThreadLocal),
                               "cudaStreamBeginCapture");
  if (!st.ok()) {
    ctx->arena_ = nullptr;
    arena->Unref();
    return st;
  }
  capture_open_ = true;
  return std::unique_ptr<DeviceCapture>(new GpuCapture(this, ctx));
}

absl::Status GpuDeviceContext::WaitFor(const DeviceEvent& event) const {
  if (capturing()) return absl::FailedPreconditionError("WaitFor inside a captured step");
  SLUICE_CUDA_RETURN_IF_ERROR(
      cudaStreamWaitEvent(compute_, static_cast<const CudaEvent&>(event).event(), 0),
      "cudaStreamWaitEvent(input batch)");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DeviceStream>> GpuDeviceContext::NewStream() const {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CudaStream> s, CudaStream::Create(device_));
  return std::unique_ptr<DeviceStream>(std::move(s));
}

absl::StatusOr<std::unique_ptr<DeviceEvent>> GpuDeviceContext::NewEvent() const {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CudaEvent> e, CudaEvent::Create(device_));
  return std::unique_ptr<DeviceEvent>(std::move(e));
}

absl::Status GpuDeviceContext::CopyInto(const Tensor& src, const Tensor& dst) const {
  if (capturing()) return absl::FailedPreconditionError("CopyInto inside a captured step");
  if (!src.IsInitialized() || !dst.IsInitialized() || src.ByteSize() != dst.ByteSize() ||
      dst.buffer()->allocator()->kind() != MemoryKind::kDevice || src.dtype() == DType::kString) {
    return absl::InvalidArgumentError("CopyInto: needs a device destination of the source's size");
  }
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.ByteSize(),
                                              cudaMemcpyDefault, compute_),
                              "cudaMemcpyAsync(into a captured step's input)");
  // From pageable memory the call returns once the bytes are staged;
  // pinned memory is read later by the DMA, so wait for it.
  if (src.buffer()->allocator()->kind() == MemoryKind::kPinnedHost) return Sync();
  return absl::OkStatus();
}

absl::StatusOr<Tensor> GpuDeviceContext::CopyToDevice(const Tensor& host) const {
  if (!host.IsInitialized()) return absl::InvalidArgumentError("CopyToDevice: empty tensor");
  if (host.buffer()->allocator()->kind() == MemoryKind::kDevice) return host;
  if (host.dtype() == DType::kString) {
    return absl::InvalidArgumentError("string tensors cannot be copied to the GPU");
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<Tensor> cached, CachedConstant(host));
  if (cached.has_value()) return *std::move(cached);
  if (capturing()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a host tensor of ", host.ByteSize(), " bytes reached a captured step (copies cannot be captured)"));
  }
  return CopyHostToDevice(host);
}

absl::StatusOr<Tensor> GpuDeviceContext::CopyHostToDevice(const Tensor& host) const {
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
  if (capturing()) return absl::FailedPreconditionError("a device-to-host copy inside a captured step");
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

absl::Status GpuDeviceContext::BindToThread() const {
  int current = -1;
  if (cudaGetDevice(&current) != cudaSuccess) (void)cudaGetLastError();
  if (current == device_) return absl::OkStatus();  // as PyTorch's device guard
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  return absl::OkStatus();
}

absl::Status GpuDeviceContext::Sync() const {
  if (capturing()) return absl::FailedPreconditionError("a device sync inside a captured step");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_), "cudaSetDevice");
  SLUICE_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(compute_), "cudaStreamSynchronize(compute)");
  return absl::OkStatus();
}

}  // namespace sluice::cuda
