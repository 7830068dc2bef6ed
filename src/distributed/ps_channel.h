#pragma once
// The point-to-point link between workers and parameter servers: a
// communicator of its own over the MPI world (Open MPI), carrying byte
// messages with a tag. Parameter servers and their clients
// (parameter_server.h, ps_client.h) talk through it; nothing here knows
// what the messages mean.
//
// Every wait is bounded: Create polls the communicator's creation, Send
// polls its transfer, each against a deadline given by the caller; a
// receive never blocks (TryReceive), so callers poll and decide how long
// they wait.
//
// Errors: FailedPrecondition when the world does not run MPI (a single
// process has no one to talk to); DeadlineExceeded naming the peer rank;
// Internal for MPI errors.
// Thread-safety: one thread at a time per channel.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

#include "core/status.h"
#include "distributed/world.h"

namespace sluice::distributed {

class PsChannel {
 public:
  // Collective: every rank of the world calls it once, in the same order
  // as its other collectives; waits at most `timeout` for the others.
  static absl::StatusOr<std::unique_ptr<PsChannel>> Create(
      World* world, absl::Duration timeout);
  ~PsChannel();

  int rank() const { return rank_; }

  // Starts sending `bytes` to `rank` under `tag` and returns; the bytes are
  // kept until delivered. Flush waits for every started send, at most
  // `timeout` (DeadlineExceeded naming the ranks that did not take theirs).
  absl::Status Send(int rank, int tag, std::vector<char> bytes);
  absl::Status Flush(absl::Duration timeout);
  // Progresses started sends and frees the delivered ones.
  void Progress();

  // The next message with `tag` (from `from_rank`, or any rank when -1),
  // if one has arrived: true, its sender and bytes; false at once if none.
  absl::StatusOr<bool> TryReceive(int tag, int from_rank, int* sender,
                                  std::vector<char>* bytes);

  PsChannel(const PsChannel&) = delete;
  PsChannel& operator=(const PsChannel&) = delete;

 private:
  PsChannel() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
};

}  // namespace sluice::distributed
