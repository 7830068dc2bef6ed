#include "distributed/world.h"

// The C API only (the deprecated C++ bindings need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"

namespace sluice::distributed {
namespace {

constexpr int kQueryTag = 1;
constexpr int kReplyTag = 2;

void FinalizeAtExit() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Finalize();
}

absl::Status MpiError(int code, std::string_view what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return absl::InternalError(absl::StrCat("MPI error in ", Sv(what), ": ", std::string(msg, len)));
}

}  // namespace

struct World::Impl {
  MPI_Comm comm = MPI_COMM_NULL;  // collectives
  MPI_Comm ctl = MPI_COMM_NULL;   // stall queries and replies
  std::vector<MPI_Request> pending;
  int64_t seq = 0;  // collectives completed: what this rank answers queries with

  // Answers the other ranks' "are you waiting?" queries with seq.
  void AnswerQueries() {
    while (true) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, kQueryTag, ctl, &flag, &st);
      if (!flag) return;
      int64_t their = 0;
      MPI_Recv(&their, 1, MPI_INT64_T, st.MPI_SOURCE, kQueryTag, ctl, MPI_STATUS_IGNORE);
      // 8 bytes go eagerly: this send does not wait for the peer.
      MPI_Send(&seq, 1, MPI_INT64_T, st.MPI_SOURCE, kReplyTag, ctl);
    }
  }
};

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
  auto* w = new World();  // lives until exit: collectives may run in atexit-ordered code
  w->stall_timeout_ = options.stall_timeout;
  w->impl_ = new Impl();
  if (options.force_mpi || LaunchedByMpirun()) {
    int provided = 0;
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      int argc = 0;
      char** argv = nullptr;
      const int rc = MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
      if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Init_thread");
      std::atexit(FinalizeAtExit);
    }
    // Errors come back as codes (turned into Status), not aborts.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_dup(MPI_COMM_WORLD, &w->impl_->comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &w->impl_->ctl);
    MPI_Comm_rank(w->impl_->comm, &w->rank_);
    MPI_Comm_size(w->impl_->comm, &w->size_);
    w->mpi_ = true;
  }
  world = w;
  return world;
}

absl::StatusOr<int> World::StartAllreduceSum(float* data, int64_t n) {
  if (!mpi_ || n == 0) return -1;
  if (n > INT32_MAX) return absl::InvalidArgumentError(absl::StrCat("allreduce of ", n, " floats: over 2^31"));
  MPI_Request r;
  const int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM,
                                impl_->comm, &r);
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
  const auto start = std::chrono::steady_clock::now();
  const auto timeout = absl::ToChronoNanoseconds(stall_timeout_);
  auto done = [&] {
    int flag = 0;
    MPI_Testall(static_cast<int>(im.pending.size()), im.pending.data(), &flag, MPI_STATUSES_IGNORE);
    return flag != 0;
  };
  // Spin briefly (small collectives finish in microseconds), then yield,
  // then sleep: ranks oversubscribing a core must leave it to the others.
  for (int64_t i = 0;; ++i) {
    if (done()) break;
    im.AnswerQueries();
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited > timeout) {
      // Ask every rank whether it is waiting too; whoever does not answer
      // within the grace is not in any collective.
      const int64_t mine = im.seq;
      for (int r = 0; r < size_; ++r) {
        if (r != rank_) MPI_Send(&mine, 1, MPI_INT64_T, r, kQueryTag, im.ctl);
      }
      std::vector<bool> answered(size_, false);
      answered[rank_] = true;
      const auto grace = std::chrono::milliseconds(
          std::clamp<int64_t>(absl::ToInt64Milliseconds(stall_timeout_) / 2, 500, 5000));
      const auto grace_end = std::chrono::steady_clock::now() + grace;
      bool completed = false;
      while (std::chrono::steady_clock::now() < grace_end) {
        if (done()) {
          completed = true;
          break;
        }
        im.AnswerQueries();
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, kReplyTag, im.ctl, &flag, &st);
        if (flag) {
          int64_t theirs = 0;
          MPI_Recv(&theirs, 1, MPI_INT64_T, st.MPI_SOURCE, kReplyTag, im.ctl, MPI_STATUS_IGNORE);
          answered[st.MPI_SOURCE] = true;
          continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (completed) break;  // the late rank arrived during the grace
      std::vector<int> missing, waiting;
      for (int r = 0; r < size_; ++r) (answered[r] ? waiting : missing).push_back(r);
      const std::string secs = absl::StrCat(absl::ToDoubleSeconds(stall_timeout_), "s");
      if (missing.empty()) {
        return absl::DeadlineExceededError(absl::StrCat(
            Sv(what), " timed out after ", secs,
            ": every rank is waiting in a collective (ranks disagree on the collectives)"));
      }
      return absl::DeadlineExceededError(absl::StrCat(
          Sv(what), " timed out after ", secs, ": rank", missing.size() > 1 ? "s " : " ",
          absl::StrJoin(missing, ", "), " did not reach it (stalled or dead; ranks ",
          absl::StrJoin(waiting, ", "), " were waiting)"));
    }
    if (i < 2000) continue;
    if (waited < std::chrono::milliseconds(20)) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  im.pending.clear();
  ++im.seq;
  return absl::OkStatus();
}

absl::Status World::AllreduceSum(float* data, int64_t n, std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  SLUICE_ASSIGN_OR_RETURN(int h, StartAllreduceSum(data, n));
  (void)h;
  return WaitRequests(what);
}

absl::Status World::AllreduceSum(int64_t* data, int64_t n, std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  MPI_Request r;
  const int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_INT64_T, MPI_SUM,
                                impl_->comm, &r);
  if (rc != MPI_SUCCESS) return MpiError(rc, what);
  impl_->pending.push_back(r);
  return WaitRequests(what);
}

absl::Status World::AllreduceSum(double* data, int64_t n, std::string_view what) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  MPI_Request r;
  const int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM,
                                impl_->comm, &r);
  if (rc != MPI_SUCCESS) return MpiError(rc, what);
  impl_->pending.push_back(r);
  return WaitRequests(what);
}

absl::Status World::Broadcast(void* data, int64_t bytes, std::string_view what) {
  if (!mpi_ || bytes == 0) return absl::OkStatus();
  // Large broadcasts go in pieces under MPI's int count.
  constexpr int64_t kPiece = int64_t{1} << 30;
  for (int64_t off = 0; off < bytes; off += kPiece) {
    MPI_Request r;
    const int rc = MPI_Ibcast(static_cast<char*>(data) + off,
                              static_cast<int>(std::min(kPiece, bytes - off)), MPI_BYTE, 0,
                              impl_->comm, &r);
    if (rc != MPI_SUCCESS) return MpiError(rc, what);
    impl_->pending.push_back(r);
  }
  return WaitRequests(what);
}

absl::Status World::Barrier(std::string_view what) {
  if (!mpi_) return absl::OkStatus();
  MPI_Request r;
  const int rc = MPI_Ibarrier(impl_->comm, &r);
  if (rc != MPI_SUCCESS) return MpiError(rc, what);
  impl_->pending.push_back(r);
  return WaitRequests(what);
}

absl::Status World::BlockingAllreduceSum(float* data, int64_t n) {
  if (!mpi_ || n == 0) return absl::OkStatus();
  const int rc =
      MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, impl_->comm);
  return rc == MPI_SUCCESS ? absl::OkStatus() : MpiError(rc, "MPI_Allreduce");
}

void World::Abort(int code, std::string_view message) {
  std::fprintf(stderr, "sluice rank %d: %.*s\n", rank_, static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace sluice::distributed
