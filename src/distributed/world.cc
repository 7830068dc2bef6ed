#include "distributed/world.h"

// The C API only (the deprecated C++ bindings need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include <mpi.h>

#include "core/absl_compat.h"
#include "distributed/internal/mpi_error.h"

namespace sluice::distributed {
namespace {

constexpr int kQueryTag = 1;
constexpr int kReplyTag = 2;

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

using internal::MpiError;

}  // namespace

struct World::Impl {
  MPI_Comm comm = MPI_COMM_NULL;  // collectives
  MPI_Comm ctl = MPI_COMM_NULL;   // stall queries and replies
  std::vector<MPI_Request> pending;
  int rank = 0, size = 1;

  // The collective in progress, for the watchdog: its number (-1: none),
  // when it began, and its name (written before `active` is set).
  std::atomic<int64_t> active{-1};
  std::atomic<int64_t> entered_ns{0};
  std::atomic<bool> blocking{false};  // the watchdog ends the job on a stall
  absl::Mutex what_mu;
  std::string what ABSL_GUARDED_BY(what_mu);
  int64_t seq = 0;  // collectives begun (the caller's thread only)

  // The watchdog.
  std::thread watchdog;
  absl::Mutex mu;
  bool quit ABSL_GUARDED_BY(mu) = false;
  absl::Duration stall_timeout =
      absl::Seconds(180);  // set before each collective

  void Enter(std::string_view w, bool is_blocking, absl::Duration timeout) {
    {
      absl::MutexLock l(&what_mu);
      what.assign(w.data(), w.size());
      stall_timeout = timeout;
    }
    blocking.store(is_blocking, std::memory_order_relaxed);
    entered_ns.store(NowNs(), std::memory_order_relaxed);
    active.store(seq, std::memory_order_release);
  }
  void Leave() {
    active.store(-1, std::memory_order_release);
    ++seq;
  }

  // Answers the other ranks' "are you waiting?" queries with the number of
  // the collective in progress (called only while one is). Matched probes
  // (MPI_Improbe/MPI_Mrecv): the watchdog and a polling caller may both
  // answer, and a message is received by whoever probed it.
  void AnswerQueries(int64_t in_progress) {
    while (true) {
      int flag = 0;
      MPI_Message m;
      MPI_Status st;
      MPI_Improbe(MPI_ANY_SOURCE, kQueryTag, ctl, &flag, &m, &st);
      if (!flag) return;
      int64_t their = 0;
      MPI_Mrecv(&their, 1, MPI_INT64_T, &m, MPI_STATUS_IGNORE);
      // 8 bytes go eagerly: this send does not wait for the peer.
      MPI_Send(&in_progress, 1, MPI_INT64_T, st.MPI_SOURCE, kReplyTag, ctl);
    }
  }

  // After a timeout: asks every rank whether it is waiting too and names
  // those that do not answer within the grace. Returns "" when `done`
  // says the collective completed meanwhile.
  std::string NameMissing(std::string_view w, absl::Duration timeout,
                          const std::function<bool()>& done) {
    const int64_t mine = active.load(std::memory_order_acquire);
    for (int r = 0; r < size; ++r) {
      if (r != rank) MPI_Send(&mine, 1, MPI_INT64_T, r, kQueryTag, ctl);
    }
    std::vector<bool> answered(size, false);
    answered[rank] = true;
    const auto grace = std::chrono::milliseconds(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(timeout) / 2, 500, 5000));
    const auto grace_end = SteadyClock::now() + grace;
    while (SteadyClock::now() < grace_end) {
      if (done()) return "";
      AnswerQueries(mine);
      int flag = 0;
      MPI_Message m;
      MPI_Status st;
      MPI_Improbe(MPI_ANY_SOURCE, kReplyTag, ctl, &flag, &m, &st);
      if (flag) {
        int64_t theirs = 0;
        MPI_Mrecv(&theirs, 1, MPI_INT64_T, &m, MPI_STATUS_IGNORE);
        answered[st.MPI_SOURCE] = true;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::vector<int> missing, waiting;
    for (int r = 0; r < size; ++r)
      (answered[r] ? waiting : missing).push_back(r);
    const std::string secs = absl::StrCat(absl::ToDoubleSeconds(timeout), "s");
    if (missing.empty()) {
      return absl::StrCat(Sv(w), " timed out after ", secs,
                          ": every rank is waiting in a collective (ranks "
                          "disagree on the collectives)");
    }
    return absl::StrCat(Sv(w), " timed out after ", secs, ": rank",
                        missing.size() > 1 ? "s " : " ",
                        absl::StrJoin(missing, ", "),
                        " did not reach it (stalled or dead; ranks ",
                        absl::StrJoin(waiting, ", "), " were waiting)");
  }

  // The watchdog's loop: asleep while no collective is in progress (it
  // looks every `period`); while one lasts longer than a period it answers
  // queries, and past the stall timeout of a blocking one it names the
  // missing ranks and ends the job.
  void Watch(World* world) {
    while (true) {
      absl::Duration timeout;
      {
        absl::MutexLock l(&what_mu);
        timeout = stall_timeout;
      }
      const absl::Duration period = std::clamp(
          timeout / 40, absl::Milliseconds(2), absl::Milliseconds(50));
      {
        absl::MutexLock l(&mu);
        if (mu.AwaitWithTimeout(absl::Condition(&quit), period)) return;
      }
      const int64_t a = active.load(std::memory_order_acquire);
      if (a < 0) continue;
      AnswerQueries(a);
      if (!blocking.load(std::memory_order_relaxed))
        continue;  // the caller polls and names
      const int64_t waited =
          NowNs() - entered_ns.load(std::memory_order_relaxed);
      if (waited < absl::ToInt64Nanoseconds(timeout)) continue;
      std::string w;
      {
        absl::MutexLock l(&what_mu);
        w = what;
      }
      const std::string message = NameMissing(w, timeout, [&] {
        return active.load(std::memory_order_acquire) != a;
      });
      if (message.empty()) continue;  // the late rank arrived during the grace
      world->Abort(3, absl::DeadlineExceededError(message).ToString());
    }
  }

  void StopWatchdog() {
    if (!watchdog.joinable()) return;
    {
      absl::MutexLock l(&mu);
      quit = true;
    }
    watchdog.join();
  }
};

namespace {

std::function<void()>* g_stop_watchdog = nullptr;  // for FinalizeAtExit

void FinalizeAtExit() {
  if (g_stop_watchdog != nullptr) (*g_stop_watchdog)();
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Finalize();
}

}  // namespace

bool World::LaunchedByMpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* e = std::getenv(v); e != nullptr && *e) return true;
  }
  return false;
}

absl::StatusOr<World*> World::Init(WorldOptions options) {
  static absl::Mutex mu;
  static World* world = nullptr;
  absl::MutexLock l(&mu);
  if (world != nullptr) {
    world->stall_timeout_ = options.stall_timeout;
    return world;
  }
  auto* w = new World();  // lives until exit: collectives may run in
                          // atexit-ordered code
  w->stall_timeout_ = options.stall_timeout;
  w->impl_ = new Impl();
  if (options.force_mpi || LaunchedByMpirun()) {
    int provided = 0;
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      int argc = 0;
      char** argv = nullptr;
      const int rc =
          MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
      if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Init_thread");
      std::atexit(FinalizeAtExit);
    } else {
      MPI_Query_thread(&provided);
    }
    // Errors come back as codes (turned into Status), not aborts.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_dup(MPI_COMM_WORLD, &w->impl_->comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &w->impl_->ctl);
    MPI_Comm_rank(w->impl_->comm, &w->rank_);
    MPI_Comm_size(w->impl_->comm, &w->size_);
    MPI_Comm local;
    if (MPI_Comm_split_type(w->impl_->comm, MPI_COMM_TYPE_SHARED, w->rank_, MPI_INFO_NULL,
                            &local) == MPI_SUCCESS) {
      MPI_Comm_rank(local, &w->local_rank_);
      MPI_Comm_size(local, &w->local_size_);
      MPI_Comm_free(&local);
    }
    w->impl_->rank = w->rank_;
    w->impl_->size = w->size_;
    w->mpi_ = true;
    if (provided >= MPI_THREAD_MULTIPLE && w->size_ > 1) {
      Impl* impl = w->impl_;
      g_stop_watchdog =
          new std::function<void()>([impl] { impl->StopWatchdog(); });
      w->impl_->watchdog = std::thread([w] { w->impl_->Watch(w); });
    }
  }
  world = w;
  return world;
}

bool World::guarded() const { return impl_->watchdog.joinable(); }

template <typename Call, typename Start>
absl::Status World::Collective(std::string_view what, Call call, Start start) {
  if (!guarded()) {
    MPI_Request r;
    const int rc = start(&r);
    if (rc != MPI_SUCCESS) return MpiError(rc, what);
    impl_->pending.push_back(r);
    return WaitRequests(what);
  }
  impl_->Enter(what, /*is_blocking=*/true, stall_timeout_);
  const int rc = call();
  impl_->Leave();
  return rc == MPI_SUCCESS ? absl::OkStatus() : MpiError(rc, what);
}

absl::StatusOr<int> World::StartAllreduceSum(float* data, int64_t n) {
  if (!mpi_ || n == 0) return -1;
  if (n > INT32_MAX)
    return absl::InvalidArgumentError(
        absl::StrCat("allreduce of ", n, " floats: over 2^31"));
  MPI_Request r;
  const int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n),
                                MPI_FLOAT, MPI_SUM, impl_->comm, &r);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Iallreduce");
  impl_->pending.push_back(r);
  return static_cast<int>(impl_->pending.size()) - 1;
}

bool World::Test(int h) {
  if (h < 0) return true;
  int flag = 0;
  MPI_Test(&impl_->pending[h], &flag, MPI_STATUS_IGNORE);
  return flag != 0;
}

absl::Status World::WaitAll(std::string_view what) {
  if (!mpi_) return absl::OkStatus();
  return WaitRequests(what);
}

absl::Status World::WaitRequests(std::string_view what) {
  Impl& im = *impl_;
  im.Enter(what, /*is_blocking=*/false, stall_timeout_);
  const auto start = SteadyClock::now();
  const auto timeout = absl::ToChronoNanoseconds(stall_timeout_);
  auto done = [&] {
    int flag = 0;
    MPI_Testall(static_cast<int>(im.pending.size()), im.pending.data(), &flag,
                MPI_STATUSES_IGNORE);
    return flag != 0;
  };
  // Spin briefly (small collectives finish in microseconds), then yield,
  // then sleep: ranks oversubscribing a core must leave it to the others.
  for (int64_t i = 0;; ++i) {
    if (done()) break;
    const auto waited = SteadyClock::now() - start;
    if (i % 64 == 0) im.AnswerQueries(im.seq);  // also answered by the watchdog
    if (waited > timeout) {
      const std::string message = im.NameMissing(what, stall_timeout_, done);
      if (message.empty()) break;  // the late rank arrived during the grace
      im.Leave();
      return absl::DeadlineExceededError(message);
    }
    if (i < 2000) continue;
    if (waited < std::chrono::milliseconds(20)) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  im.pending.clear();
  im.Leave();
  return absl::OkStatus();
}

absl::Status World::AllreduceSum(float* data, int64_t n,
                                 std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  if (n > INT32_MAX)
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), ": ", n, " floats, over 2^31"));
  const int c = static_cast<int>(n);
  return Collective(
      what,
      [&] {
        return MPI_Allreduce(MPI_IN_PLACE, data, c, MPI_FLOAT, MPI_SUM,
                             impl_->comm);
      },
      [&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, data, c, MPI_FLOAT, MPI_SUM,
                              impl_->comm, r);
      });
}

absl::Status World::AllreduceSum(int64_t* data, int64_t n,
                                 std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  const int c = static_cast<int>(n);
  return Collective(
      what,
      [&] {
        return MPI_Allreduce(MPI_IN_PLACE, data, c, MPI_INT64_T, MPI_SUM,
                             impl_->comm);
      },
      [&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, data, c, MPI_INT64_T, MPI_SUM,
                              impl_->comm, r);
      });
}

absl::Status World::AllreduceSum(double* data, int64_t n,
                                 std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  const int c = static_cast<int>(n);
  return Collective(
      what,
      [&] {
        return MPI_Allreduce(MPI_IN_PLACE, data, c, MPI_DOUBLE, MPI_SUM,
                             impl_->comm);
      },
      [&](MPI_Request* r) {
        return MPI_Iallreduce(MPI_IN_PLACE, data, c, MPI_DOUBLE, MPI_SUM,
                              impl_->comm, r);
      });
}

absl::Status World::Broadcast(void* data, int64_t bytes,
                              std::string_view what) {
  if (!mpi_ || bytes == 0) return absl::OkStatus();
  // Large broadcasts go in pieces under MPI's int count.
  constexpr int64_t kPiece = int64_t{1} << 30;
  for (int64_t off = 0; off < bytes; off += kPiece) {
    char* p = static_cast<char*>(data) + off;
    const int c = static_cast<int>(std::min(kPiece, bytes - off));
    SLUICE_RETURN_IF_ERROR(Collective(
        what, [&] { return MPI_Bcast(p, c, MPI_BYTE, 0, impl_->comm); },
        [&](MPI_Request* r) {
          return MPI_Ibcast(p, c, MPI_BYTE, 0, impl_->comm, r);
        }));
  }
  return absl::OkStatus();
}

absl::Status World::Barrier(std::string_view what) {
  if (!mpi_) return absl::OkStatus();
  return Collective(
      what, [&] { return MPI_Barrier(impl_->comm); },
      [&](MPI_Request* r) { return MPI_Ibarrier(impl_->comm, r); });
}

absl::Status World::BlockingAllreduceSum(float* data, int64_t n) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  const int rc = MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n),
                               MPI_FLOAT, MPI_SUM, impl_->comm);
  return rc == MPI_SUCCESS ? absl::OkStatus() : MpiError(rc, "MPI_Allreduce");
}

void World::Abort(int code, std::string_view message) {
  std::fprintf(stderr, "sluice rank %d: %.*s\n", rank_,
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace sluice::distributed
