#include "distributed/parameter_server.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "core/absl_compat.h"
#include "distributed/internal/ps_protocol.h"
#include "distributed/internal/ps_state.h"
#include "graph/ops/ops.h"

namespace sluice::distributed {
namespace {

using Clock = std::chrono::steady_clock;
using internal::ReplyHeader;
using internal::RequestHeader;

}  // namespace

absl::StatusOr<PsShard> BuildPsShard(const Scope& scope, Optimizer* optimizer,
                                     const std::vector<Variable>& vars,
                                     std::optional<Variable> global_step) {
  PsShard shard;
  // The optimizer variables ApplyGradients creates are this task's state
  // too (the graph's global variables before and after).
  std::set<std::string> before;
  for (const Variable& v : GlobalVariables(*scope.graph()))
    before.insert(v.op_name());
  std::vector<GradAndVar> fed;
  for (const Variable& v : vars) {
    if (v.dtype() != DType::kFloat32 || !v.shape().IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable '", v.op_name(),
          "': a parameter server keeps float32 variables of known shape"));
    }
    Output ph = ops::Placeholder(
        scope.WithOpName(absl::StrCat("ps_gradient/", v.op_name())),
        DType::kFloat32, v.shape());
    shard.variables.push_back(v);
    shard.gradient_feeds.push_back(ph);
    // The optimizer gates its update on the gradient's op: an Identity keeps
    // that control edge off the fed placeholder.
    fed.emplace_back(ops::Identity(scope, ph), v);
  }
  SLUICE_RETURN_IF_ERROR(scope.status());
  SLUICE_ASSIGN_OR_RETURN(shard.apply,
                          optimizer->ApplyGradients(scope, fed, global_step));
  shard.state = shard.variables;
  for (const Variable& v : GlobalVariables(*scope.graph())) {
    if (!before.contains(v.op_name())) shard.state.push_back(v);
  }
  if (global_step.has_value()) {
    shard.state.push_back(*global_step);
    shard.global_step = global_step;
  }
  return shard;
}

struct ParameterServer::State {
  int64_t step = 0;
  PsServeStats stats;
  bool stop = false;
  std::vector<bool> finished;
  std::vector<bool> held;  // a reply is held: the worker waits for us
  std::vector<Clock::time_point> last_heard;
  std::vector<int> pending;  // sync: workers whose fresh push is in accum
  std::vector<double> accum;
  double accum_samples = 0;
  Clock::time_point last_heartbeat;
  // Until the chief's first request, other workers' requests wait here.
  bool chief_started = false;
  std::vector<std::pair<int, std::vector<char>>> early;
  std::vector<bool> want_state;  // its final reply is followed by the state
};

ParameterServer::ParameterServer(PsChannel* channel, ClusterSpec cluster,
                                 int ps_task, Session* session, PsShard shard,
                                 PsServeOptions options)
    : channel_(channel),
      cluster_(std::move(cluster)),
      ps_task_(ps_task),
      session_(session),
      shard_(std::move(shard)),
      options_(options) {
  for (const Variable& v : shard_.variables) {
    sizes_.push_back(v.shape().num_elements());
    total_ += sizes_.back();
  }
  for (int w = 0; w < cluster_.num_tasks("worker"); ++w) {
    worker_ranks_.push_back(*cluster_.RankOf("worker", w));
  }
}

std::string ParameterServer::WorkerName(int worker) const {
  return absl::StrCat("worker task ", worker, " (rank ", worker_ranks_[worker],
                      ")");
}

absl::StatusOr<std::vector<float>> ParameterServer::Values() {
  std::vector<float> v(total_);
  int64_t off = 0;
  for (const Variable& var : shard_.variables) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session_->ReadVariable(var));
    std::memcpy(v.data() + off, t.raw_data(), t.ByteSize());
    off += t.NumElements();
  }
  return v;
}

absl::Status ParameterServer::Reply(int worker, int32_t flags, int64_t step) {
  ReplyHeader h;
  h.flags = flags;
  h.step = step;
  std::vector<float> values;
  if (!(flags & internal::kHeartbeat)) {
    SLUICE_ASSIGN_OR_RETURN(values, Values());
    h.count = total_;
  }
  return channel_->Send(worker_ranks_[worker], internal::kReplyTag,
                        internal::Pack(h, values.data(), h.count));
}

absl::Status ParameterServer::ReplyState(int worker, int32_t flags,
                                         int64_t step) {
  std::vector<std::pair<std::string, Tensor>> named;
  for (const Variable& v : shard_.state) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session_->ReadVariable(v));
    named.emplace_back(v.op_name(), std::move(t));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<char> payload,
                          internal::EncodeNamedTensors(named));
  ReplyHeader h;
  h.flags = flags | internal::kState;
  h.step = step;
  h.count = static_cast<int64_t>(payload.size());
  return channel_->Send(worker_ranks_[worker], internal::kReplyTag,
                        internal::PackBytes(h, payload));
}

absl::Status ParameterServer::SetState(State* s, int worker,
                                       const std::vector<char>& bytes) {
  RequestHeader h;
  const char* payload = nullptr;
  internal::UnpackBytes(bytes, &h, &payload);  // checked by Handle
  SLUICE_ASSIGN_OR_RETURN(auto named,
                          internal::DecodeNamedTensors(payload, h.count));
  std::map<std::string_view, const Tensor*> by_name;
  for (const auto& [name, t] : named) by_name[name] = &t;
  // Every tensor is checked before any is assigned.
  std::vector<const Tensor*> values;
  for (const Variable& v : shard_.state) {
    const auto it = by_name.find(v.op_name());
    if (it == by_name.end()) {
      return absl::NotFoundError(absl::StrCat(
          "ps task ", ps_task_, ": the state restored by ", WorkerName(worker),
          " has no '", v.op_name(), "', which this task keeps"));
    }
    const Tensor& t = *it->second;
    if (t.dtype() != v.dtype() || t.shape() != v.shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ps task ", ps_task_, ": restored '", v.op_name(),
                       "' is ", Sv(DTypeName(t.dtype())),
                       t.shape().DebugString(), "; this task's variable is ",
                       Sv(DTypeName(v.dtype())), v.shape().DebugString()));
    }
    values.push_back(&t);
  }
  for (size_t i = 0; i < values.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(
        session_->AssignVariable(shard_.state[i], *values[i]));
  }
  if (shard_.global_step.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(Tensor step,
                            session_->ReadVariable(*shard_.global_step));
    s->step = step.dtype() == DType::kInt64 ? step.scalar<int64_t>()
                                            : step.scalar<int32_t>();
  }
  return absl::OkStatus();
}

// Feeds the gradients in `flat` (one float per element, variables end to
// end) and runs the update once.
absl::Status ApplyFlat(Session* session, const PsShard& shard,
                       const std::vector<int64_t>& sizes, const float* flat) {
  FeedList feeds;
  int64_t off = 0;
  for (size_t i = 0; i < shard.variables.size(); ++i) {
    Tensor t(DType::kFloat32, shard.variables[i].shape());
    std::memcpy(t.raw_data(), flat + off, sizes[i] * sizeof(float));
    off += sizes[i];
    feeds.emplace_back(shard.gradient_feeds[i], std::move(t));
  }
  return session->Run(feeds, {}, {shard.apply}, nullptr);
}

absl::Status ParameterServer::ApplyAverage(State* s) {
  std::vector<float> g(total_);
  const double n = std::max(s->accum_samples, 1e-30);
  for (int64_t i = 0; i < total_; ++i)
    g[i] = static_cast<float>(s->accum[i] / n);
  SLUICE_RETURN_IF_ERROR(ApplyFlat(session_, shard_, sizes_, g.data()));
  ++s->step;
  s->stats.applied += static_cast<int64_t>(s->pending.size());
  std::fill(s->accum.begin(), s->accum.end(), 0.0);
  s->accum_samples = 0;
  for (int w : s->pending) {
    s->held[w] = false;
    SLUICE_RETURN_IF_ERROR(Reply(w, s->stop ? internal::kStop : 0, s->step));
  }
  s->pending.clear();
  return absl::OkStatus();
}

// A stop ends the step where it is: held workers get the values as they
// are, with the stop; later replies all carry it.
absl::Status ParameterServer::Stop(State* s) {
  s->stop = true;
  for (int w : s->pending) {
    s->held[w] = false;
    SLUICE_RETURN_IF_ERROR(Reply(w, internal::kStop, s->step));
  }
  s->pending.clear();
  std::fill(s->accum.begin(), s->accum.end(), 0.0);
  s->accum_samples = 0;
  return absl::OkStatus();
}

// A push: applied at once (asynchronous) or answered stale or at a stop
// (false: replied), or added to this step's average, its reply held until
// the update (true); InvalidArgument when it does not fit.
absl::StatusOr<bool> ParameterServer::Push(State* s, int worker,
                                           const internal::RequestHeader& h,
                                           const float* g) {
  const int32_t stop_flag = s->stop ? internal::kStop : 0;
  if (h.count != total_) {
    return absl::InvalidArgumentError(
        absl::StrCat("ps task ", ps_task_, ": ", WorkerName(worker), " pushed ",
                     h.count, " gradient values, this task keeps ", total_));
  }
  ++s->stats.pushes;
  if (options_.replicas_to_aggregate == 0) {  // asynchronous: on arrival
    SLUICE_RETURN_IF_ERROR(ApplyFlat(session_, shard_, sizes_, g));
    ++s->step;
    ++s->stats.applied;
    SLUICE_RETURN_IF_ERROR(Reply(worker, stop_flag, s->step));
    return false;
  }
  if (s->stop || h.token < s->step) {
    if (!s->stop) ++s->stats.stale_dropped;
    SLUICE_RETURN_IF_ERROR(
        Reply(worker, s->stop ? stop_flag : internal::kStale, s->step));
    return false;
  }
  if (h.token > s->step) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ps task ", ps_task_, ": ", WorkerName(worker), " pushed for step ",
        h.token, " ahead of this task's step ", s->step));
  }
  const double n = static_cast<double>(std::max<int64_t>(h.samples, 0));
  for (int64_t i = 0; i < total_; ++i) s->accum[i] += n * g[i];
  s->accum_samples += n;
  s->pending.push_back(worker);
  s->held[worker] = true;
  return true;
}

absl::Status ParameterServer::Handle(State* s, int worker,
                                     const std::vector<char>& bytes) {
  RequestHeader h;
  const float* g = nullptr;
  const char* payload = nullptr;
  bool well_formed = false;
  if (bytes.size() >= sizeof(h)) {
    std::memcpy(&h, bytes.data(), sizeof(h));
    well_formed = h.kind == internal::kSetState
                      ? internal::UnpackBytes(bytes, &h, &payload)
                      : internal::Unpack(bytes, &h, &g);
  }
  if (!well_formed) {
    return absl::InvalidArgumentError(
        absl::StrCat("ps task ", ps_task_, ": malformed request of ",
                     bytes.size(), " bytes from ", WorkerName(worker)));
  }
  if (worker != 0 && !s->chief_started) {  // answered after the chief's
    s->held[worker] = true;                // first request (Serve)
    s->early.emplace_back(worker, bytes);
    return absl::OkStatus();
  }
  const int R = options_.replicas_to_aggregate;
  if ((h.flags & internal::kStop) && !s->stop) SLUICE_RETURN_IF_ERROR(Stop(s));
  const int32_t stop_flag = s->stop ? internal::kStop : 0;
  switch (h.kind) {
    case internal::kPull:
      return Reply(worker, stop_flag, s->step);
    case internal::kGetState:
      return ReplyState(worker, stop_flag, s->step);
    case internal::kSetState:
      SLUICE_RETURN_IF_ERROR(SetState(s, worker, bytes));
      return channel_->Send(
          worker_ranks_[worker], internal::kReplyTag,
          internal::PackBytes(ReplyHeader{.flags = internal::kState | stop_flag,
                                          .step = s->step},
                              {}));
    case internal::kPush: {
      SLUICE_ASSIGN_OR_RETURN(const bool held, Push(s, worker, h, g));
      if (!held) return absl::OkStatus();  // answered at once
      break;
    }
    case internal::kFinish:
      if (h.flags & internal::kWantState) s->want_state[worker] = true;
      s->finished[worker] = true;
      s->held[worker] = true;  // its final reply waits for the others
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("ps task ", ps_task_, ": unknown request kind ", h.kind,
                       " from ", WorkerName(worker)));
  }
  if (R > 0 && !s->pending.empty()) {
    const int unfinished = static_cast<int>(
        std::count(s->finished.begin(), s->finished.end(), false));
    if (static_cast<int>(s->pending.size()) >= std::min(R, unfinished)) {
      SLUICE_RETURN_IF_ERROR(ApplyAverage(s));
    }
  }
  return absl::OkStatus();
}

// DeadlineExceeded naming a worker that is neither finished nor waiting
// for a reply and sent nothing for the stall timeout (and the workers
// whose replies wait on it).
absl::Status ParameterServer::CheckSilentWorkers(const State& s,
                                                 Clock::time_point now) const {
  const auto stall = absl::ToChronoNanoseconds(options_.stall_timeout);
  const int workers = static_cast<int>(worker_ranks_.size());
  for (int w = 0; w < workers; ++w) {
    if (s.finished[w] || s.held[w] || now - s.last_heard[w] <= stall) continue;
    std::vector<int> waiting;
    for (int k = 0; k < workers; ++k) {
      if (s.held[k]) waiting.push_back(k);
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "ps task ", ps_task_, " (rank ", channel_->rank(), "): ", WorkerName(w),
        " sent nothing for ", absl::FormatDuration(options_.stall_timeout),
        " (stalled or dead",
        waiting.empty() ? ""
                        : absl::StrCat("; waiting for it: worker task",
                                       waiting.size() > 1 ? "s " : " ",
                                       absl::StrJoin(waiting, ", ")),
        ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PsServeStats> ParameterServer::Serve() {
  const int workers = static_cast<int>(worker_ranks_.size());
  if (options_.replicas_to_aggregate > workers ||
      options_.replicas_to_aggregate < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sync-replicas ", options_.replicas_to_aggregate,
                     ": the cluster has ", workers, " workers"));
  }
  State s;
  s.finished.assign(workers, false);
  s.held.assign(workers, false);
  s.want_state.assign(workers, false);
  s.last_heard.assign(workers, Clock::now());
  s.accum.assign(total_, 0.0);
  s.last_heartbeat = Clock::now();
  const auto stall = absl::ToChronoNanoseconds(options_.stall_timeout);
  std::vector<char> bytes;
  int idle = 0;
  while (std::count(s.finished.begin(), s.finished.end(), false) > 0) {
    int sender = -1;
    SLUICE_ASSIGN_OR_RETURN(
        bool got,
        channel_->TryReceive(internal::kRequestTag, -1, &sender, &bytes));
    const auto now = Clock::now();
    if (got) {
      const auto it =
          std::find(worker_ranks_.begin(), worker_ranks_.end(), sender);
      if (it == worker_ranks_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("ps task ", ps_task_, ": request from rank ", sender,
                         ", which is no worker"));
      }
      const int w = static_cast<int>(it - worker_ranks_.begin());
      s.last_heard[w] = now;
      SLUICE_RETURN_IF_ERROR(Handle(&s, w, bytes));
      if (w == 0 && !s.chief_started) {  // the others' requests, in turn
        s.chief_started = true;
        for (auto& [early_worker, early_bytes] : s.early) {
          s.held[early_worker] = false;
          s.last_heard[early_worker] = now;
          SLUICE_RETURN_IF_ERROR(Handle(&s, early_worker, early_bytes));
        }
        s.early.clear();
      }
      idle = 0;
    }
    // The checks run after every message too, so a busy ps still sends
    // heartbeats and notices a silent worker.
    channel_->Progress();
    if (options_.stop != nullptr && !s.stop &&
        options_.stop->load(std::memory_order_relaxed)) {
      SLUICE_RETURN_IF_ERROR(Stop(&s));  // asked on this rank
    }
    if (now - s.last_heartbeat > stall / 4) {
      s.last_heartbeat = now;
      for (int w = 0; w < workers; ++w) {
        if (s.held[w])
          SLUICE_RETURN_IF_ERROR(Reply(w, internal::kHeartbeat, s.step));
      }
    }
    SLUICE_RETURN_IF_ERROR(CheckSilentWorkers(s, now));
    if (got) continue;
    if (++idle < 1000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(
          std::chrono::microseconds(idle < 5000 ? 50 : 200));
    }
  }
  // Every worker is done: the final values to each, then the server ends.
  for (int w = 0; w < workers; ++w) {
    const int32_t flags = internal::kFinal | (s.stop ? internal::kStop : 0);
    SLUICE_RETURN_IF_ERROR(Reply(w, flags, s.step));
    if (s.want_state[w]) SLUICE_RETURN_IF_ERROR(ReplyState(w, flags, s.step));
  }
  SLUICE_RETURN_IF_ERROR(channel_->Flush(options_.stall_timeout));
  s.stats.step = s.step;
  s.stats.stopped = s.stop;
  return s.stats;
}

}  // namespace sluice::distributed
