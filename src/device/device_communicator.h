#pragma once
// DeviceCommunicator: collectives between the GPUs of several processes
// (one GPU per process), over device memory, queued on the GPU's compute
// stream: NCCL's communicator (device/cuda/nccl_communicator.cc), the only
// code in the tree that calls NCCL. Who the processes are and how the id
// reaches them is the caller's business (distributed/ sends it over MPI).
//
//   std::string id;  // kCommunicatorIdBytes bytes
//   if (rank == 0) SLUICE_ASSIGN_OR_RETURN(id, NewCommunicatorId());
//   ... every rank gets rank 0's id ...
//   SLUICE_ASSIGN_OR_RETURN(
//       auto comm, NewDeviceCommunicator(gpu, id, rank, n, timeout));
//   // Queued on the compute stream; returns at once:
//   SLUICE_RETURN_IF_ERROR(comm->AllReduceSum(grad, count));
//   // Blocks at most `timeout`:
//   SLUICE_RETURN_IF_ERROR(comm->Wait(timeout, "step 3", {}));
//
// Nothing here blocks without a bound: the communicator is NCCL's
// nonblocking kind, so creating it and queueing work return at once or
// after polling NCCL's state, and Wait polls the stream's progress and
// NCCL's asynchronous error. On an error, a timeout or `cancelled()`
// returning true, the communicator is aborted (ncclCommAbort: work queued
// on the GPU by it is torn down, so no host thread is left hanging in a
// stream sync) and every later call fails with FailedPrecondition.
//
// Errors: Unimplemented in a build without NCCL, FailedPrecondition where
// libnccl cannot be loaded (CommunicatorsAvailable() is false in both);
// InvalidArgument for a context that is not a CUDA GPU, an id
// of the wrong size, rank/size out of range; DeadlineExceeded (timeout),
// Cancelled (cancelled()), Internal (NCCL or CUDA errors, naming the call
// and NCCL's message).
//
// Thread-safety: one thread at a time per communicator (NCCL's rule);
// Abort() may be called from any thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"

#include "core/status.h"
#include "device/device_context.h"

namespace sluice {

// Size of a communicator id (NCCL_UNIQUE_ID_BYTES).
inline constexpr size_t kCommunicatorIdBytes = 128;

// Whether NCCL can be used: the build has it (SLUICE_ENABLE_NCCL) and
// libnccl.so.2 (>= 2.14) loads at run time (it is dlopen'ed, so binaries
// run where it is missing). Says nothing about whether a GPU is visible.
bool CommunicatorsAvailable();
// Why not (empty when available): no NCCL in the build, or the loader's
// error.
std::string CommunicatorsUnavailableReason();

// A fresh id (ncclGetUniqueId), made by one process and given to all.
absl::StatusOr<std::string> NewCommunicatorId();

class DeviceCommunicator {
 public:
  virtual ~DeviceCommunicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Queues an in-place sum of `n` floats of device memory at `data`
  // across every process, on the context's compute stream (after the work
  // queued there before). Returns once queued.
  virtual absl::Status AllReduceSum(float* data, int64_t n) = 0;
  // Queues a copy of rank `root`'s `bytes` at `data` (device memory) to
  // every process's `data`, in place, on the compute stream.
  virtual absl::Status Broadcast(void* data, int64_t bytes, int root) = 0;
  // Blocks until the work queued on the compute stream so far has
  // finished, at most `timeout`; polls NCCL's asynchronous error and
  // `cancelled` (may be empty) meanwhile. `what` names the work in errors.
  // On any failure the communicator is aborted first.
  virtual absl::Status Wait(absl::Duration timeout, std::string_view what,
                            const std::function<bool()>& cancelled) = 0;
  // Aborts the communicator (idempotent): queued work is dropped and later
  // calls fail.
  virtual void Abort() = 0;
  virtual bool aborted() const = 0;
};

// Joins the communicator `id` as `rank` of `size`, on `gpu` (a CUDA GPU's
// context), waiting at most `init_timeout` for the others to join.
absl::StatusOr<std::unique_ptr<DeviceCommunicator>> NewDeviceCommunicator(
    DeviceContext* gpu, std::string_view id, int rank, int size,
    absl::Duration init_timeout);

}  // namespace sluice
