#pragma once
// The messages between PsClient and ParameterServer (internal to
// src/distributed). A request (worker -> ps, tag kRequestTag) and a reply
// (ps -> worker, tag kReplyTag) are a fixed header followed by `count`
// float32 values: the worker's gradients for the variables that ps task
// keeps, or the variables' values, laid end to end in variable order.
//
// Requests: kPull (send me the values now), kPush (apply these gradients,
// computed from the values of step `token`, over `samples` samples; reply
// with the values after), kFinish (this worker is done; reply with the
// final values once every worker is). Replies carry the ps task's step and
// flags: kStop (a stop was asked somewhere: end the job), kStale (the push
// was older than the step and was dropped), kFinal (the last reply),
// kHeartbeat (no values: the ps is alive and the reply is still coming).
//
// State (checkpoints, chief worker only): kGetState asks for the ps task's
// whole state (its variables, their optimizer slots, the optimizer's
// non-slot variables, global_step) and is answered at once with a kState
// reply; a Finish flagged kWantState gets a kState reply after its final
// values. kSetState carries named tensors from a checkpoint: the ps
// assigns those it keeps (by name) and sets its step from global_step.
// In state messages `count` is the payload's byte count, the payload
// internal/ps_state.h's named tensors.

#include <cstdint>
#include <cstring>
#include <vector>

namespace sluice::distributed::internal {

inline constexpr int kRequestTag = 7100;
inline constexpr int kReplyTag = 7101;

enum RequestKind : int32_t {
  kPull = 1,
  kPush = 2,
  kFinish = 3,
  kGetState = 4,
  kSetState = 5,
};
enum Flags : int32_t {
  kStop = 1,
  kStale = 2,
  kFinal = 4,
  kHeartbeat = 8,
  kWantState = 16,  // on a Finish request
  kState = 32,      // a reply carrying state bytes
};

struct RequestHeader {
  int32_t kind = kPull;
  int32_t flags = 0;
  int64_t token = 0;
  int64_t samples = 0;
  int64_t count = 0;
};

struct ReplyHeader {
  int32_t flags = 0;
  int32_t unused = 0;
  int64_t step = 0;
  int64_t count = 0;
};

template <typename H>
std::vector<char> Pack(const H& h, const float* values, int64_t n) {
  std::vector<char> b(sizeof(H) + n * sizeof(float));
  std::memcpy(b.data(), &h, sizeof(H));
  if (n > 0) std::memcpy(b.data() + sizeof(H), values, n * sizeof(float));
  return b;
}

// False when `b` is shorter than its header says.
template <typename H>
bool Unpack(const std::vector<char>& b, H* h, const float** values) {
  if (b.size() < sizeof(H)) return false;
  std::memcpy(h, b.data(), sizeof(H));
  if (h->count < 0 || b.size() != sizeof(H) + h->count * sizeof(float))
    return false;
  *values = reinterpret_cast<const float*>(b.data() + sizeof(H));
  return true;
}

// State messages: the header, then `h.count` bytes.
template <typename H>
std::vector<char> PackBytes(const H& h, const std::vector<char>& payload) {
  std::vector<char> b(sizeof(H) + payload.size());
  std::memcpy(b.data(), &h, sizeof(H));
  if (!payload.empty())
    std::memcpy(b.data() + sizeof(H), payload.data(), payload.size());
  return b;
}

// False when `b` is shorter than its header says.
template <typename H>
bool UnpackBytes(const std::vector<char>& b, H* h, const char** payload) {
  if (b.size() < sizeof(H)) return false;
  std::memcpy(h, b.data(), sizeof(H));
  if (h->count < 0 || b.size() != sizeof(H) + static_cast<size_t>(h->count))
    return false;
  *payload = b.data() + sizeof(H);
  return true;
}

}  // namespace sluice::distributed::internal
