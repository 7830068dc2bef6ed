// DeviceCommunicator over NCCL (device/device_communicator.h): the one file
// in the tree that calls NCCL (tools/check_layering.py enforces it). NCCL is
// loaded at run time (dlopen of libnccl.so.2, found like any shared library:
// LD_LIBRARY_PATH, the CUDA install, pip's nvidia-nccl), so a build with
// NCCL still runs where it is missing: CommunicatorsAvailable() is then
// false and GPU gradients go through MPI. The communicator is NCCL's
// nonblocking kind (ncclConfig_t::blocking = 0, NCCL >= 2.14), so no NCCL
// call can block the host: init and every enqueue return ncclSuccess or
// ncclInProgress, and ncclInProgress is polled through
// ncclCommGetAsyncError with a deadline; completion of queued work is
// polled with a CUDA event. Any failure or timeout aborts the communicator
// (ncclCommAbort).
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include <dlfcn.h>
#include <nccl.h>

#include "core/absl_compat.h"
#include "device/cuda/cuda_status.h"
#include "device/cuda/gpu_device_context.h"
#include "device/device_communicator.h"

namespace sluice {
namespace {

// The NCCL entry points this file uses, from libnccl.so.2.
struct NcclApi {
  decltype(&::ncclGetVersion) GetVersion;
  decltype(&::ncclGetUniqueId) GetUniqueId;
  decltype(&::ncclCommInitRankConfig) CommInitRankConfig;
  decltype(&::ncclCommGetAsyncError) CommGetAsyncError;
  decltype(&::ncclCommFinalize) CommFinalize;
  decltype(&::ncclCommDestroy) CommDestroy;
  decltype(&::ncclCommAbort) CommAbort;
  decltype(&::ncclAllReduce) AllReduce;
  decltype(&::ncclBroadcast) Broadcast;
  decltype(&::ncclGetErrorString) GetErrorString;
  decltype(&::ncclGetLastError) GetLastError;
  int version = 0;
};

// Loaded once; null when libnccl cannot be used (LoadError() says why).
std::string& LoadErrorStorage() {
  static std::string* error = new std::string();
  return *error;
}

const NcclApi* Nccl() {
  static const NcclApi* api = []() -> const NcclApi* {
    std::string& error = LoadErrorStorage();
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) lib = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      error = absl::StrCat("libnccl.so.2 could not be loaded (",
                           e != nullptr ? e : "?",
                           "); put NCCL's lib folder on LD_LIBRARY_PATH");
      return nullptr;
    }
    auto* a = new NcclApi();
    bool ok = true;
    auto load = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (fn == nullptr) {
        ok = false;
        error = absl::StrCat("libnccl.so.2 has no ", name);
      }
    };
    load(a->GetVersion, "ncclGetVersion");
    load(a->GetUniqueId, "ncclGetUniqueId");
    load(a->CommInitRankConfig, "ncclCommInitRankConfig");
    load(a->CommGetAsyncError, "ncclCommGetAsyncError");
    load(a->CommFinalize, "ncclCommFinalize");
    load(a->CommDestroy, "ncclCommDestroy");
    load(a->CommAbort, "ncclCommAbort");
    load(a->AllReduce, "ncclAllReduce");
    load(a->Broadcast, "ncclBroadcast");
    load(a->GetErrorString, "ncclGetErrorString");
    load(a->GetLastError, "ncclGetLastError");
    if (ok &&
        (a->GetVersion(&a->version) != ncclSuccess || a->version < 21400)) {
      ok = false;
      error = absl::StrCat(
          "libnccl.so.2 is version ", a->version,
          "; nonblocking communicators need 2.14 (21400) or later");
    }
    if (!ok) {
      delete a;
      return nullptr;
    }
    return a;
  }();
  return api;
}

absl::Status Unavailable(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(
      Sv(what), ": NCCL is not usable here: ", LoadErrorStorage()));
}

absl::Status NcclError(ncclResult_t r, std::string_view what, ncclComm_t comm) {
  const char* last = comm != nullptr ? Nccl()->GetLastError(comm) : nullptr;
  return absl::InternalError(
      absl::StrCat("NCCL error in ", Sv(what), ": ", Nccl()->GetErrorString(r),
                   last != nullptr && *last ? absl::StrCat(" (", last, ")")
                                            : std::string()));
}

// Polls `done` (true: finished; an error status: failed) until it finishes,
// `deadline` passes (DeadlineExceeded) or `cancelled` says so (Cancelled).
// Spins briefly, then sleeps up to 200 us between polls.
template <typename Done>
absl::Status Poll(Done done, absl::Time deadline, std::string_view what,
                  absl::Duration timeout,
                  const std::function<bool()>& cancelled) {
  for (int64_t i = 0;; ++i) {
    absl::StatusOr<bool> d = done();
    if (!d.ok()) return d.status();
    if (*d) return absl::OkStatus();
    if (i % 64 == 0) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            Sv(what), ": NCCL did not finish within ",
            absl::FormatDuration(timeout), " (communicator aborted)"));
      }
      if (cancelled && cancelled()) {
        return absl::CancelledError(
            absl::StrCat(Sv(what), ": cancelled (communicator aborted)"));
      }
    }
    if (i < 1000) continue;
    std::this_thread::sleep_for(std::chrono::microseconds(i < 5000 ? 20 : 200));
  }
}

class NcclCommunicator final : public DeviceCommunicator {
 public:
  NcclCommunicator(const cuda::GpuDeviceContext* gpu,
                   std::unique_ptr<cuda::CudaEvent> done, int rank, int size,
                   absl::Duration op_timeout)
      : gpu_(gpu),
        done_(std::move(done)),
        rank_(rank),
        size_(size),
        op_timeout_(op_timeout) {}

  ~NcclCommunicator() override {
    if (comm_ == nullptr) return;
    if (!aborted_.load()) {
      // Flush and finalise (nonblocking), then destroy; abort if that stalls.
      (void)cudaSetDevice(gpu_->device());
      ncclResult_t r = Nccl()->CommFinalize(comm_);
      if (r == ncclSuccess || r == ncclInProgress) {
        r = Settle(absl::Now() + absl::Seconds(10));
      }
      if (r == ncclSuccess) {
        (void)Nccl()->CommDestroy(comm_);
        return;
      }
    }
    Abort();
  }

  // Joins `id` (the init is nonblocking and polled until `timeout`).
  absl::Status Init(const ncclUniqueId& id, absl::Duration timeout) {
    SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_->device()), "cudaSetDevice");
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t r =
        Nccl()->CommInitRankConfig(&comm_, size_, id, rank_, &config);
    if (r != ncclSuccess && r != ncclInProgress) {
      if (comm_ != nullptr) Abort();
      return NcclError(r, "ncclCommInitRankConfig", nullptr);
    }
    return AwaitState(absl::StrCat("ncclCommInitRankConfig (rank ", rank_,
                                   " of ", size_, ")"),
                      timeout);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  bool aborted() const override { return aborted_.load(); }

  absl::Status AllReduceSum(float* data, int64_t n) override {
    SLUICE_RETURN_IF_ERROR(Usable("AllReduceSum"));
    if (n == 0) return absl::OkStatus();
    SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_->device()), "cudaSetDevice");
    return Enqueue(
        "ncclAllReduce",
        Nccl()->AllReduce(data, data, static_cast<size_t>(n), ncclFloat32,
                          ncclSum, comm_, gpu_->cuda_stream()));
  }

  absl::Status Broadcast(void* data, int64_t bytes, int root) override {
    SLUICE_RETURN_IF_ERROR(Usable("Broadcast"));
    if (root < 0 || root >= size_) {
      return absl::InvalidArgumentError(
          absl::StrCat("Broadcast: root ", root, " is not a rank of ", size_));
    }
    if (bytes == 0) return absl::OkStatus();
    SLUICE_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_->device()), "cudaSetDevice");
    return Enqueue(
        "ncclBroadcast",
        Nccl()->Broadcast(data, data, static_cast<size_t>(bytes), ncclUint8,
                          root, comm_, gpu_->cuda_stream()));
  }

  absl::Status Wait(absl::Duration timeout, std::string_view what,
                    const std::function<bool()>& cancelled) override {
    SLUICE_RETURN_IF_ERROR(Usable(what));
    SLUICE_RETURN_IF_ERROR(gpu_->compute_stream()->Record(done_.get()));
    absl::Status st = Poll(
        [&]() -> absl::StatusOr<bool> {
          const cudaError_t e = cudaEventQuery(done_->event());
          ncclResult_t async = ncclSuccess;
          const ncclResult_t r = Nccl()->CommGetAsyncError(comm_, &async);
          if (r != ncclSuccess)
            return NcclError(r, "ncclCommGetAsyncError", comm_);
          if (async != ncclSuccess && async != ncclInProgress) {
            return NcclError(async, absl::StrCat(Sv(what), " (asynchronous)"),
                             comm_);
          }
          if (e == cudaSuccess) return true;
          if (e == cudaErrorNotReady) return false;
          return cuda::CudaStatus(
              e, absl::StrCat("cudaEventQuery (", Sv(what), ")"));
        },
        absl::Now() + timeout, what, timeout, cancelled);
    if (!st.ok()) Abort();
    return st;
  }

  void Abort() override {
    if (aborted_.exchange(true) || comm_ == nullptr) return;
    (void)cudaSetDevice(gpu_->device());
    (void)Nccl()->CommAbort(comm_);
  }

 private:
  absl::Status Usable(std::string_view what) const {
    if (aborted_.load()) {
      return absl::FailedPreconditionError(
          absl::StrCat(Sv(what), ": the NCCL communicator was aborted"));
    }
    return absl::OkStatus();
  }

  // Polls the communicator's state while it is ncclInProgress.
  ncclResult_t Settle(absl::Time deadline) {
    ncclResult_t state = ncclInProgress;
    while (true) {
      const ncclResult_t r = Nccl()->CommGetAsyncError(comm_, &state);
      if (r != ncclSuccess) return r;
      if (state != ncclInProgress || absl::Now() > deadline) return state;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // After a call that may leave the communicator ncclInProgress: waits
  // for it to settle (NCCL's rule before the next call), within the
  // operation timeout.
  absl::Status Enqueue(std::string_view what, ncclResult_t r) {
    if (r != ncclSuccess && r != ncclInProgress) {
      Abort();
      return NcclError(r, what, comm_);
    }
    return AwaitState(what, op_timeout_);
  }

  absl::Status AwaitState(std::string_view what, absl::Duration timeout) {
    absl::Status st = Poll(
        [&]() -> absl::StatusOr<bool> {
          ncclResult_t state = ncclInProgress;
          const ncclResult_t r = Nccl()->CommGetAsyncError(comm_, &state);
          if (r != ncclSuccess)
            return NcclError(r, "ncclCommGetAsyncError", comm_);
          if (state == ncclInProgress) return false;
          if (state != ncclSuccess) return NcclError(state, what, comm_);
          return true;
        },
        absl::Now() + timeout, what, timeout, {});
    if (!st.ok()) Abort();
    return st;
  }

  const cuda::GpuDeviceContext* gpu_;
  std::unique_ptr<cuda::CudaEvent> done_;
  ncclComm_t comm_ = nullptr;
  int rank_, size_;
  absl::Duration op_timeout_;
  std::atomic<bool> aborted_{false};
};

}  // namespace

bool CommunicatorsAvailable() { return Nccl() != nullptr; }

std::string CommunicatorsUnavailableReason() {
  return Nccl() != nullptr ? std::string() : LoadErrorStorage();
}

absl::StatusOr<std::string> NewCommunicatorId() {
  static_assert(sizeof(ncclUniqueId) == kCommunicatorIdBytes);
  if (Nccl() == nullptr) return Unavailable("NewCommunicatorId");
  ncclUniqueId id;
  const ncclResult_t r = Nccl()->GetUniqueId(&id);
  if (r != ncclSuccess) return NcclError(r, "ncclGetUniqueId", nullptr);
  return std::string(reinterpret_cast<const char*>(&id), sizeof(id));
}

absl::StatusOr<std::unique_ptr<DeviceCommunicator>> NewDeviceCommunicator(
    DeviceContext* gpu, std::string_view id, int rank, int size,
    absl::Duration init_timeout) {
  if (Nccl() == nullptr) return Unavailable("NewDeviceCommunicator");
  const auto* cuda_gpu = dynamic_cast<const cuda::GpuDeviceContext*>(gpu);
  if (cuda_gpu == nullptr || gpu->capturing()) {
    return absl::InvalidArgumentError(
        "NewDeviceCommunicator: not a CUDA GPU's context (NCCL needs one)");
  }
  if (id.size() != sizeof(ncclUniqueId)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NewDeviceCommunicator: id of ", id.size(),
                     " bytes, want ", sizeof(ncclUniqueId)));
  }
  if (size < 1 || rank < 0 || rank >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("NewDeviceCommunicator: rank ", rank, " of ", size));
  }
  ncclUniqueId uid;
  std::memcpy(&uid, id.data(), sizeof(uid));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<cuda::CudaEvent> done,
                          cuda::CudaEvent::Create(cuda_gpu->device()));
  auto comm = std::make_unique<NcclCommunicator>(cuda_gpu, std::move(done),
                                                 rank, size, init_timeout);
  SLUICE_RETURN_IF_ERROR(comm->Init(uid, init_timeout));
  return comm;
}

}  // namespace sluice
