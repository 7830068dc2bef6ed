#pragma once
// World: this process's place in an MPI job (Open MPI), and the
// collectives data-parallel training needs, each one bounded in time.
//
//   SLUICE_ASSIGN_OR_RETURN(distributed::World* w, distributed::World::Init());
//   w->rank(); w->size();           // 0 and 1 when not launched by mpirun
//
// Init() starts MPI (MPI_THREAD_MULTIPLE) only when the process was started
// by mpirun/orterun (Open MPI's OMPI_COMM_WORLD_SIZE or PMIx's PMIX_RANK in
// the environment) or when `force_mpi`; otherwise the world is this process
// alone and every collective returns its input. MPI is finalised at exit.
//
// Collectives (AllreduceSum, Broadcast, Barrier) are MPI's blocking ones
// (Open MPI's tuned algorithms: its nonblocking libnbc ones were measured
// 1.2-1.6x slower, and polling them burns the core an oversubscribed rank
// shares; docs/DISTRIBUTED.md), guarded by a watchdog thread that sleeps
// while no collective is in progress.
//
// Stall detection: while a rank is inside a collective its watchdog
// answers the others' "are you waiting?" queries on a control
// communicator (a rank outside every collective does not answer). When a
// collective has waited `stall_timeout`, the watchdog asks every rank and,
// after a short grace, names the ranks that did not answer (stopped, stuck
// in their input, or dead):
//   "step 12 timed out after 2s: rank 1 did not reach it (stalled or dead;
//    ranks 0, 2, 3 were waiting)"
// and, since a blocking MPI collective cannot be abandoned, ends the job
// with that message (Abort(3, ...): "sluice rank R: DEADLINE_EXCEEDED:
// ..."), unless the collective completed during the grace. The
// nonblocking building blocks below (StartAllreduceSum/Test/WaitAll) poll
// instead and return the same message as DeadlineExceeded; the caller
// must then Abort(). When MPI was started by someone else without
// MPI_THREAD_MULTIPLE there is no watchdog and every collective takes the
// polled nonblocking path.
//
// Thread-safety: the collectives may be called from one thread at a time
// (they share the control communicator and the watchdog's state); rank(),
// size() are safe anywhere.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

#include "core/status.h"

namespace sluice::distributed {

struct WorldOptions {
  bool force_mpi = false;
  absl::Duration stall_timeout = absl::Seconds(180);
};

class World {
 public:
  // The process's world, created on the first call (later calls return it
  // and ignore `options` except stall_timeout). Internal if MPI fails.
  static absl::StatusOr<World*> Init(WorldOptions options = {});
  // Whether this process was started by mpirun (the environment says so).
  static bool LaunchedByMpirun();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool uses_mpi() const { return mpi_; }
  // This rank among the ranks on its host (MPI_Comm_split_type SHARED:
  // one GPU per local rank) and how many there are; 0 and 1 without MPI.
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  absl::Duration stall_timeout() const { return stall_timeout_; }
  void set_stall_timeout(absl::Duration d) { stall_timeout_ = d; }

  // In-place sum of `n` floats (or int64s / doubles) over all ranks, waited
  // for with the stall timeout. `what` names the collective in errors.
  absl::Status AllreduceSum(float* data, int64_t n, std::string_view what);
  absl::Status AllreduceSum(int64_t* data, int64_t n, std::string_view what);
  absl::Status AllreduceSum(double* data, int64_t n, std::string_view what);
  // Rank 0's `bytes` bytes at `data` copied to every rank.
  absl::Status Broadcast(void* data, int64_t bytes, std::string_view what);
  absl::Status Barrier(std::string_view what);

  // Nonblocking building blocks (GradientAllreducer): starts a float sum,
  // returns a handle for Test/WaitAll. Handles are small ints, valid until
  // WaitAll returns.
  absl::StatusOr<int> StartAllreduceSum(float* data, int64_t n);
  // Progresses pending operations; true when handle `h` has completed.
  bool Test(int h);
  // Waits for every started operation (stall timeout as above).
  absl::Status WaitAll(std::string_view what);

  // The blocking MPI_Allreduce, unguarded, for benchmarks comparing
  // against it.
  absl::Status BlockingAllreduceSum(float* data, int64_t n);

  // Whether collectives are blocking under the watchdog (see above).
  bool guarded() const;

  // Ends every rank of the job: prints `message` to stderr as
  // "sluice rank R: message" and MPI_Abort's with `code` (exits alone
  // without MPI). Never returns.
  [[noreturn]] void Abort(int code, std::string_view message);

  World(const World&) = delete;
  World& operator=(const World&) = delete;

 private:
  World() = default;
  struct Impl;
  absl::Status WaitRequests(std::string_view what);
  // Runs the blocking MPI call `call` (returns an MPI error code) under
  // the watchdog, or, without one, its nonblocking form `start` polled.
  template <typename Call, typename Start>
  absl::Status Collective(std::string_view what, Call call, Start start);
  Impl* impl_ = nullptr;  // lives until exit (MPI is finalised atexit)
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  bool mpi_ = false;
  absl::Duration stall_timeout_ = absl::Seconds(180);
};

}  // namespace sluice::distributed
