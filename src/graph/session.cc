// Session: construction, Close, Run (checks the feeds, takes the plan and
// a frame, runs the executor or step capture, copies the fetches out) and
// direct variable and queue access. The parts a run goes through are
// internal/session_plan.h (the planner, session_planner.cc),
// internal/session_executor.h (session_executor.cc) and
// internal/session_capture.h (session_capture.cc).
#include "graph/session.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/internal/session_capture.h"
#include "graph/internal/session_executor.h"
#include "graph/internal/session_plan.h"

namespace sluice {

namespace {

// SessionOptions' devices: given, or from visible_device_list, or Default().
absl::StatusOr<std::shared_ptr<const DeviceSet>> SessionDevices(
    const SessionOptions& o) {
  if (o.devices) return o.devices;
  if (o.visible_device_list.empty()) return DeviceSet::Default();
  SLUICE_ASSIGN_OR_RETURN(std::vector<int> visible,
                          ParseVisibleDeviceList(o.visible_device_list));
  if (visible.empty()) return DeviceSet::Default();
  absl::StatusOr<std::shared_ptr<const DeviceSet>> set =
      DeviceSet::WithGpus(visible);
  if (!set.ok()) {
    return absl::Status(
        set.status().code(),
        absl::StrCat("SessionOptions.visible_device_list '",
                     o.visible_device_list, "': ", set.status().message()));
  }
  return set;
}

}  // namespace

Session::Session(Graph* graph, SessionOptions options)
    : graph_(graph), options_(std::move(options)), print_(options_.print_sink) {
  ConfigureAbslMutexOnce();
  absl::StatusOr<std::shared_ptr<const DeviceSet>> devices =
      SessionDevices(options_);
  if (devices.ok()) {
    devices_ = *std::move(devices);
  } else {
    devices_status_ = devices.status();
    devices_ = DeviceSet::Local();  // never used: every Run fails first
  }
}

Session::~Session() { (void)Close(); }

absl::Status Session::Close() {
  if (!closed_.exchange(true)) close_source_.request_stop();
  return absl::OkStatus();
}

std::vector<std::string> Session::placement_log() const {
  absl::MutexLock l(&mu_);
  return placement_log_;
}

absl::Status Session::Run(const FeedList& feeds, const std::vector<Output>& fetches,
                          std::vector<Tensor>* outputs) {
  return Run(RunOptions{}, feeds, fetches, {}, outputs);
}

absl::Status Session::Run(const FeedList& feeds, const std::vector<Output>& fetches,
                          const std::vector<Operation>& targets, std::vector<Tensor>* outputs) {
  return Run(RunOptions{}, feeds, fetches, targets, outputs);
}
absl::Status Session::Run(const RunOptions& run_options, const FeedList& feeds,
                          const std::vector<Output>& fetches,
                          const std::vector<Operation>& targets, std::vector<Tensor>* outputs,
                          RunMetadata* metadata) {
  if (closed()) return absl::FailedPreconditionError("Attempted to use a closed Session.");
  runs_in_flight_.fetch_add(1, std::memory_order_acq_rel);
  struct InFlight {
    std::atomic<int64_t>* n;
    ~InFlight() { n->fetch_sub(1, std::memory_order_acq_rel); }
  } in_flight{&runs_in_flight_};
  for (const auto& [out, value] : feeds) {
    if (!out.valid()) return absl::InvalidArgumentError("Cannot feed an invalid Output");
    if (!value.IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat("Fed value for ", out.name(), " is empty"));
    }
    if (value.dtype() != out.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot feed value of dtype ", Sv(DTypeName(value.dtype())), " for Tensor '", out.name(),
          "', which has dtype ", Sv(DTypeName(out.dtype()))));
    }
    if (out.rank_known() && !value.shape().IsCompatibleWith(out.shape())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot feed value of shape ", value.shape().DebugString(), " for Tensor '", out.name(),
          "', which has shape ", out.shape().DebugString()));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, GetPlan(feeds, fetches, targets));

  // The run's stop token: Close()'s own when the caller gives none (no
  // allocation), else one source triggered by either.
  std::optional<std::stop_source> run_stop;
  std::optional<std::stop_callback<std::function<void()>>> on_close, on_caller_stop;
  std::stop_token stop_token = close_source_.get_token();
  if (run_options.stop.stop_possible()) {
    run_stop.emplace();
    on_close.emplace(stop_token, std::function<void()>([&run_stop] { run_stop->request_stop(); }));
    on_caller_stop.emplace(run_options.stop,
                           std::function<void()>([&run_stop] { run_stop->request_stop(); }));
    stop_token = run_stop->get_token();
  }
  absl::Time deadline = run_options.deadline;
  if (options_.operation_timeout != absl::InfiniteDuration()) {
    deadline = std::min(deadline, absl::Now() + options_.operation_timeout);
  }
  const WaitOptions wait{deadline, stop_token};
  OpKernelContext::Env env;
  env.resources = &resources_;
  env.wait = &wait;
  env.print = &print_;
  env.update_variables_in_place = options_.capture_device_steps;

  const int n = static_cast<int>(plan->steps.size());
  std::unique_ptr<Plan::Frame> frame = plan->AcquireFrame();
  Plan::Frame& f = *frame;
  auto& values = f.values;

  Executor executor(*plan, &f, env, &resources_, deadline, stop_token, metadata != nullptr);
  if (run_options.fetch_ready) executor.set_fetch_ready(&run_options.fetch_ready);

  // Step capture: decide how this run goes, holding the plan's capture
  // lock to the end of the run (the recording's slots and outputs are
  // shared by its launches).
  CaptureState* cs = metadata == nullptr ? plan->capture.get() : nullptr;
  struct Unlock {
    absl::Mutex* mu = nullptr;
    ~Unlock() {
      if (mu != nullptr) mu->Unlock();
    }
  } unlock;
  bool replayed = false;  // fetches of capture-device nodes come from cs
  absl::Status status;
  if (cs == nullptr) {
    status = executor.RunPass(Pass::kAll, nullptr, feeds);
  } else {
    cs->mu.Lock();
    unlock.mu = &cs->mu;
    status = RunCapturable(
        *plan, cs, feeds,
        [&](Pass p, DeviceContext* ctx, const FeedList* fl) { return executor.RunPass(p, ctx, *fl); },
        &values, &replayed);
  }
  auto release = [&] { plan->ReleaseFrame(std::move(frame)); };
  if (!status.ok()) {
    release();
    return status;
  }

  if (outputs != nullptr) {
    outputs->clear();
    for (size_t k = 0; k < plan->fetches.size(); ++k) {
      const Plan::Fetch& fetch = plan->fetches[k];
      Tensor t;
      if (fetch.feed >= 0) {
        t = feeds[fetch.feed].second;
      } else if (fetch.var != nullptr) {
        absl::Status st = internal::ReadVariableState(fetch.var, &resources_, &t);
        if (!st.ok()) {
          release();
          return st;
        }
      } else if (replayed && plan->on_capture_device[fetch.step] == 1) {
        t = cs->fetch_values[k];
      } else {
        t = values[fetch.step][fetch.out];
      }
      const Device* dev = fetch.step >= 0 ? plan->steps[fetch.step].device : devices_->cpu();
      if (run_options.fetch_device_tensors && dev->context()->compute_stream() != nullptr) {
        outputs->push_back(std::move(t));
        continue;
      }
      absl::StatusOr<Tensor> host = dev->context()->CopyToHost(t);
      if (!host.ok()) {
        release();
        return host.status();
      }
      outputs->push_back(*std::move(host));
    }
  }
  if (metadata != nullptr) {
    metadata->nodes_executed = n;
    metadata->executed.clear();
    for (int i : f.executed) metadata->executed.push_back(plan->steps[i].node->name());
  }
  release();
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Session::ReadVariable(const Variable& var) {
  if (!var.valid()) return absl::InvalidArgumentError("ReadVariable: invalid variable");
  Tensor t;
  SLUICE_RETURN_IF_ERROR(internal::ReadVariableState(var.record()->var, &resources_, &t));
  return t;
}

absl::Status Session::AssignVariable(const Variable& var, const Tensor& value) {
  if (!var.valid()) return absl::InvalidArgumentError("AssignVariable: invalid variable");
  if (value.dtype() != var.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat("AssignVariable ", var.op_name(), ": dtype ",
                                                   Sv(DTypeName(value.dtype())), " != ",
                                                   Sv(DTypeName(var.dtype()))));
  }
  if (var.record()->validate_shape && !value.shape().IsCompatibleWith(var.shape())) {
    return absl::InvalidArgumentError(absl::StrCat("AssignVariable ", var.op_name(), ": shape ",
                                                   value.shape().DebugString(), " != ",
                                                   var.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> state,
                          GetVariableState(&resources_, var.record()->var));
  absl::MutexLock l(&state->mu);
  state->value = value;
  state->initialized = true;
  return absl::OkStatus();
}

bool Session::IsVariableInitialized(const Variable& var) {
  if (!var.valid()) return false;
  auto state = GetVariableState(&resources_, var.record()->var);
  if (!state.ok()) return false;
  absl::MutexLock l(&(*state)->mu);
  return (*state)->initialized;
}

}  // namespace sluice

namespace sluice {

absl::StatusOr<std::shared_ptr<QueueInterface>> Session::GetQueue(const Output& queue_handle) {
  if (!queue_handle.valid() || queue_handle.graph() != graph_) {
    return absl::InvalidArgumentError("GetQueue: not a queue handle of this session's graph");
  }
  if (auto q = resources_.Lookup<QueueInterface>(queue_handle.node())) return q;
  // Running the queue op creates the queue in this session.
  std::vector<Tensor> ignored;
  SLUICE_RETURN_IF_ERROR(Run({}, {queue_handle}, &ignored));
  auto q = resources_.Lookup<QueueInterface>(queue_handle.node());
  if (q == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", queue_handle.node()->name(), "' is not a queue op"));
  }
  return q;
}

}  // namespace sluice

