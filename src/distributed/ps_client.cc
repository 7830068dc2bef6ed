#include "distributed/ps_client.h"

#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "distributed/internal/ps_protocol.h"
#include "distributed/internal/ps_state.h"

namespace sluice::distributed {

using internal::ReplyHeader;
using internal::RequestHeader;

PsClient::PsClient(PsChannel* channel, PsPlacement placement,
                   std::vector<TensorShape> shapes,
                   absl::Duration stall_timeout)
    : channel_(channel),
      placement_(std::move(placement)),
      shapes_(std::move(shapes)),
      stall_timeout_(stall_timeout) {
  for (int t = 0; t < placement_.num_ps_tasks; ++t)
    vars_of_.push_back(placement_.VariablesOf(t));
  tokens_.assign(placement_.num_ps_tasks, 0);
}

absl::Status PsClient::Pull(std::vector<Tensor>* values) {
  return Exchange(internal::kPull, nullptr, 0, false, values).status();
}

absl::StatusOr<PsStepResult> PsClient::PushPull(
    const std::vector<Tensor>& grads, int64_t samples, bool stop,
    std::vector<Tensor>* values) {
  return Exchange(internal::kPush, &grads, samples, stop, values);
}

absl::StatusOr<bool> PsClient::Finish(bool stop, std::vector<Tensor>* values,
                                      NamedTensors* state) {
  SLUICE_ASSIGN_OR_RETURN(
      PsStepResult r, Exchange(internal::kFinish, nullptr, 0, stop, values,
                               state != nullptr ? internal::kWantState : 0));
  if (state != nullptr) {
    // Each task's state follows its final values.
    state->clear();
    std::vector<char> bytes;
    for (int t = 0; t < placement_.num_ps_tasks; ++t) {
      SLUICE_RETURN_IF_ERROR(Await(t, &bytes));
      SLUICE_RETURN_IF_ERROR(MergeState(t, bytes, state));
    }
  }
  return r.stop;
}

absl::StatusOr<NamedTensors> PsClient::GetState() {
  for (int t = 0; t < placement_.num_ps_tasks; ++t) {
    internal::RequestHeader h;
    h.kind = internal::kGetState;
    h.token = tokens_[t];
    SLUICE_RETURN_IF_ERROR(channel_->Send(placement_.task_ranks[t],
                                          internal::kRequestTag,
                                          internal::Pack(h, nullptr, 0)));
  }
  NamedTensors state;
  std::vector<char> bytes;
  for (int t = 0; t < placement_.num_ps_tasks; ++t) {
    SLUICE_RETURN_IF_ERROR(Await(t, &bytes));
    SLUICE_RETURN_IF_ERROR(MergeState(t, bytes, &state));
  }
  SLUICE_RETURN_IF_ERROR(channel_->Flush(stall_timeout_));
  return state;
}

absl::Status PsClient::SetState(const NamedTensors& state) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<char> payload,
                          internal::EncodeNamedTensors(state));
  internal::RequestHeader h;
  h.kind = internal::kSetState;
  h.count = static_cast<int64_t>(payload.size());
  for (int t = 0; t < placement_.num_ps_tasks; ++t) {
    SLUICE_RETURN_IF_ERROR(channel_->Send(placement_.task_ranks[t],
                                          internal::kRequestTag,
                                          internal::PackBytes(h, payload)));
  }
  std::vector<char> bytes;
  for (int t = 0; t < placement_.num_ps_tasks; ++t) {
    SLUICE_RETURN_IF_ERROR(Await(t, &bytes));
    internal::ReplyHeader r;
    const char* p = nullptr;
    if (!internal::UnpackBytes(bytes, &r, &p) ||
        !(r.flags & internal::kState)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ps task ", t, ": a reply of ", bytes.size(),
          " bytes where the acknowledgement of the restored state was due"));
    }
    tokens_[t] = r.step;
  }
  return channel_->Flush(stall_timeout_);
}

absl::Status PsClient::Await(int t, std::vector<char>* bytes) {
  const int rank = placement_.task_ranks[t];
  const auto timeout = absl::ToChronoNanoseconds(stall_timeout_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int idle = 0;
  while (true) {
    int sender = -1;
    SLUICE_ASSIGN_OR_RETURN(
        bool ok,
        channel_->TryReceive(internal::kReplyTag, rank, &sender, bytes));
    if (!ok) {
      channel_->Progress();
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "worker rank ", channel_->rank(), ": no reply from ps task ", t,
            " (rank ", rank, ") within ", absl::FormatDuration(stall_timeout_),
            " (stalled or dead)"));
      }
      if (++idle < 1000) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(
            std::chrono::microseconds(idle < 5000 ? 50 : 200));
      }
      continue;
    }
    internal::ReplyHeader h;
    if (bytes->size() >= sizeof(h)) {
      std::memcpy(&h, bytes->data(), sizeof(h));
      if (h.flags & internal::kHeartbeat) {  // alive; the reply is still coming
        deadline = std::chrono::steady_clock::now() + timeout;
        idle = 0;
        continue;
      }
    }
    return absl::OkStatus();
  }
}

absl::Status PsClient::MergeState(int t, const std::vector<char>& bytes,
                                  NamedTensors* state) {
  internal::ReplyHeader h;
  const char* payload = nullptr;
  if (!internal::UnpackBytes(bytes, &h, &payload) ||
      !(h.flags & internal::kState)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ps task ", t, ": a reply of ", bytes.size(),
                     " bytes where its state was due"));
  }
  SLUICE_ASSIGN_OR_RETURN(NamedTensors mine,
                          internal::DecodeNamedTensors(payload, h.count));
  std::set<std::string> have;
  for (const auto& [name, value] : *state) have.insert(name);
  for (auto& [name, value] : mine) {
    if (!have.contains(name))
      state->emplace_back(std::move(name), std::move(value));
  }
  tokens_[t] = h.step;
  return absl::OkStatus();
}

absl::StatusOr<PsStepResult> PsClient::Exchange(
    int32_t kind, const std::vector<Tensor>* grads, int64_t samples, bool stop,
    std::vector<Tensor>* values, int32_t flags) {
  const size_t nvars = shapes_.size();
  if (grads != nullptr && grads->size() != nvars) {
    return absl::InvalidArgumentError(absl::StrCat(
        grads->size(), " gradients pushed for ", nvars, " variables"));
  }
  // One request per ps task: the gradients of the variables it keeps.
  const int tasks = placement_.num_ps_tasks;
  for (int t = 0; t < tasks; ++t) {
    RequestHeader h;
    h.kind = kind;
    h.flags = flags | (stop ? internal::kStop : 0);
    h.token = tokens_[t];
    h.samples = samples;
    std::vector<float> flat;
    if (grads != nullptr) {
      for (int v : vars_of_[t]) {
        const Tensor& g = (*grads)[v];
        if (g.dtype() != DType::kFloat32 ||
            g.NumElements() != shapes_[v].num_elements()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "gradient ", v, " has ", g.NumElements(), " elements of ",
              Sv(DTypeName(g.dtype())), "; its variable has ",
              shapes_[v].num_elements(), " float32"));
        }
        const float* p = g.data<float>();
        flat.insert(flat.end(), p, p + g.NumElements());
      }
    }
    h.count = static_cast<int64_t>(flat.size());
    SLUICE_RETURN_IF_ERROR(
        channel_->Send(placement_.task_ranks[t], internal::kRequestTag,
                       internal::Pack(h, flat.data(), h.count)));
  }
  values->resize(nvars);
  PsStepResult result;
  std::vector<char> bytes;
  for (int t = 0; t < tasks; ++t) {
    SLUICE_RETURN_IF_ERROR(Await(t, &bytes));
    ReplyHeader h;
    const float* p = nullptr;
    if (!internal::Unpack(bytes, &h, &p) || (h.flags & internal::kState)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed reply of ", bytes.size(), " bytes from ps task ", t));
    }
    int64_t expected = 0;
    for (int v : vars_of_[t]) expected += shapes_[v].num_elements();
    if (h.count != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("ps task ", t, " sent ", h.count,
                       " values; its variables have ", expected));
    }
    for (int v : vars_of_[t]) {
      Tensor x(DType::kFloat32, shapes_[v]);
      std::memcpy(x.raw_data(), p, x.ByteSize());
      p += x.NumElements();
      (*values)[v] = std::move(x);
    }
    tokens_[t] = h.step;
    if (h.flags & internal::kStop) result.stop = true;
    if (h.flags & internal::kStale) ++result.stale_tasks;
    if (t == 0) result.step = h.step;
  }
  if (result.stale_tasks > 0) ++stale_pushes_;
  SLUICE_RETURN_IF_ERROR(channel_->Flush(stall_timeout_));
  return result;
}

}  // namespace sluice::distributed
