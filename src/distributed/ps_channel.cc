#include "distributed/ps_channel.h"

#define OMPI_SKIP_MPICXX 1
#include <chrono>
#include <list>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <mpi.h>

#include "core/absl_compat.h"
#include "distributed/internal/mpi_error.h"

namespace sluice::distributed {
using internal::MpiError;

struct PsChannel::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  struct Pending {
    MPI_Request request;
    std::vector<char> bytes;
    int rank;
  };
  std::list<Pending> sends;  // stable addresses: MPI reads the bytes in place
};

absl::StatusOr<std::unique_ptr<PsChannel>> PsChannel::Create(
    World* world, absl::Duration timeout) {
  if (!world->uses_mpi()) {
    return absl::FailedPreconditionError(
        "parameter servers need an MPI world (start the job with mpirun)");
  }
  std::unique_ptr<PsChannel> ch(new PsChannel());
  ch->impl_ = std::make_unique<Impl>();
  MPI_Request r;
  int rc = MPI_Comm_idup(MPI_COMM_WORLD, &ch->impl_->comm, &r);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Comm_idup");
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (true) {
    int done = 0;
    MPI_Test(&r, &done, MPI_STATUS_IGNORE);
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("creating the parameter-server channel timed out after ",
                       absl::FormatDuration(timeout),
                       ": some rank did not join (stalled, dead, or not in "
                       "parameter-server mode)"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  MPI_Comm_set_errhandler(ch->impl_->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(ch->impl_->comm, &ch->rank_);
  return ch;
}

PsChannel::~PsChannel() {
  if (impl_ == nullptr) return;
  // Undelivered sends are cancelled: the job is ending.
  for (Impl::Pending& p : impl_->sends) {
    MPI_Cancel(&p.request);
    MPI_Request_free(&p.request);
  }
  int fin = 0;
  MPI_Finalized(&fin);
  if (!fin && impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
}

absl::Status PsChannel::Send(int rank, int tag, std::vector<char> bytes) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message of ", bytes.size(), " bytes to rank ", rank, ": over 2^31"));
  }
  impl_->sends.push_back({MPI_REQUEST_NULL, std::move(bytes), rank});
  Impl::Pending& p = impl_->sends.back();
  const int rc = MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()),
                           MPI_BYTE, rank, tag, impl_->comm, &p.request);
  if (rc != MPI_SUCCESS) {
    impl_->sends.pop_back();
    return MpiError(rc, absl::StrCat("MPI_Isend to rank ", rank));
  }
  Progress();
  return absl::OkStatus();
}

void PsChannel::Progress() {
  for (auto it = impl_->sends.begin(); it != impl_->sends.end();) {
    int done = 0;
    MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
    it = done ? impl_->sends.erase(it) : std::next(it);
  }
}

absl::Status PsChannel::Flush(absl::Duration timeout) {
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (true) {
    Progress();
    if (impl_->sends.empty()) return absl::OkStatus();
    if (std::chrono::steady_clock::now() > deadline) {
      std::vector<int> ranks;
      for (const Impl::Pending& p : impl_->sends) ranks.push_back(p.rank);
      return absl::DeadlineExceededError(
          absl::StrCat("rank ", rank_, ": messages to rank(s) ",
                       absl::StrJoin(ranks, ", "), " not taken within ",
                       absl::FormatDuration(timeout), " (stalled or dead)"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

absl::StatusOr<bool> PsChannel::TryReceive(int tag, int from_rank, int* sender,
                                           std::vector<char>* bytes) {
  int flag = 0;
  MPI_Status st;
  int rc = MPI_Iprobe(from_rank < 0 ? MPI_ANY_SOURCE : from_rank, tag,
                      impl_->comm, &flag, &st);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Iprobe");
  if (!flag) return false;
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  bytes->resize(count);
  rc = MPI_Recv(bytes->data(), count, MPI_BYTE, st.MPI_SOURCE, tag, impl_->comm,
                MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS)
    return MpiError(rc, absl::StrCat("MPI_Recv from rank ", st.MPI_SOURCE));
  *sender = st.MPI_SOURCE;
  return true;
}

}  // namespace sluice::distributed
