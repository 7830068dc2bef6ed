#include "train/ps_training.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "distributed/parameter_server.h"
#include "distributed/ps_placement.h"
#include "distributed/variable_sync.h"
#include "graph/ops/ops.h"

namespace sluice::train {

absl::StatusOr<distributed::PsPlacement> PlaceVariables(
    const distributed::ClusterSpec& cluster,
    const std::vector<Variable>& vars) {
  std::vector<int64_t> bytes;
  for (const Variable& v : vars) bytes.push_back(v.shape().num_elements() * 4);
  return distributed::ResolvePsPlacement(
      cluster,
      distributed::ReplicaDeviceSetter(bytes, cluster.num_tasks("ps")));
}

absl::StatusOr<TrainResult> ServeParameters(const TrainOptions& o,
                                            const distributed::Server& server,
                                            distributed::PsChannel* channel) {
  // The same model as the workers' (same seed, same variables in the same
  // order); this task keeps its share of them.
  Graph g("ps");
  Scope root = Scope::Root(&g);
  g.set_seed(o.seed);
  Output images = ops::Placeholder(root.WithOpName("images"), DType::kUInt8,
                                   TensorShape{-1, o.height * o.width});
  Output x =
      ops::Mul(root, ops::Cast(root, images, DType::kFloat32), 1.0f / 255.0f);
  SLUICE_ASSIGN_OR_RETURN(Model m, BuildModel(root, o.model, x, o.height,
                                              o.width, o.num_classes, o.seed));
  VariableOptions gs;
  gs.name = "global_step";
  gs.trainable = false;
  Variable global_step = NewVariable(root, Tensor::Scalar<int64_t>(0), gs);
  SLUICE_RETURN_IF_ERROR(root.status());
  SLUICE_ASSIGN_OR_RETURN(distributed::PsPlacement placement,
                          PlaceVariables(server.cluster(), m.weights));
  std::vector<Variable> mine;
  for (int i : placement.VariablesOf(server.task()))
    mine.push_back(m.weights[i]);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> opt,
                          MakeOptimizer(o, /*gpu=*/false, global_step));
  // The update runs where the device string says: this task (the session
  // checks it against the cluster).
  const std::string device = absl::StrCat("/job:ps/task:", server.task());
  SLUICE_ASSIGN_OR_RETURN(
      distributed::PsShard shard,
      distributed::BuildPsShard(root.WithDevice(device), opt.get(), mine,
                                global_step));
  SessionOptions so;
  so.devices = server.devices();
  Session session(&g, so);
  SLUICE_RETURN_IF_ERROR(session.Run(
      {}, {}, {GlobalVariablesInitializer(Scope::Root(&g))}, nullptr));
  // The workers' collective before serving (a restored state comes from
  // the chief's first requests).
  SLUICE_RETURN_IF_ERROR(ResumeEpoch(o.world, 0).status());
  const auto start = std::chrono::steady_clock::now();
  distributed::ParameterServer ps(
      channel, server.cluster(), server.task(), &session, shard,
      {.replicas_to_aggregate = o.replicas_to_aggregate,
       .stall_timeout = o.world->stall_timeout(),
       .stop = o.stop});
  SLUICE_ASSIGN_OR_RETURN(distributed::PsServeStats stats, ps.Serve());
  TrainResult r;
  r.model = ModelKindName(o.model);
  r.device = "cpu";
  r.rank = o.world->rank();
  r.world_size = o.world->size();
  r.job = "ps";
  r.task = server.task();
  r.global_step = stats.step;
  r.steps = stats.step;
  r.stale_gradients_dropped = stats.stale_dropped;
  r.stopped = stats.stopped;
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  SLUICE_ASSIGN_OR_RETURN(r.params_sha256,
                          distributed::VariablesSha256(&session, mine));
  if (o.progress != nullptr && server.task() == 0) {
    *o.progress << "ps task 0: " << stats.step << " updates from "
                << stats.pushes << " gradients (" << stats.applied
                << " applied, " << stats.stale_dropped << " stale dropped)"
                << (stats.stopped ? ", stopped" : "") << "\n";
  }
  return r;
}

absl::StatusOr<int> ResumeEpoch(distributed::World* world, int first_epoch) {
  int64_t epoch = first_epoch;
  SLUICE_RETURN_IF_ERROR(world->AllreduceSum(&epoch, 1, "resume epoch"));
  return static_cast<int>(epoch);
}

absl::Status PsWorkerStep::AssignState(const distributed::NamedTensors& state) {
  std::map<std::string_view, const Tensor*> by_name;
  for (const auto& [name, t] : state) by_name[name] = &t;
  for (const Variable& v : state_vars_) {
    const auto it = by_name.find(v.op_name());
    if (it == by_name.end() || it->second->dtype() != v.dtype() ||
        it->second->shape() != v.shape()) {
      return absl::InternalError(
          absl::StrCat("the parameter servers' state has no ",
                       Sv(DTypeName(v.dtype())), v.shape().DebugString(), " '",
                       v.op_name(), "' (their graph and the chief's differ)"));
    }
    SLUICE_RETURN_IF_ERROR(session_->AssignVariable(v, *it->second));
  }
  return absl::OkStatus();
}

absl::Status PsWorkerStep::FetchState() {
  if (finished_) return absl::OkStatus();  // Finish fetched the final state
  SLUICE_ASSIGN_OR_RETURN(distributed::NamedTensors state, client_->GetState());
  return AssignState(state);
}

absl::Status PsWorkerStep::RestoreState() {
  distributed::NamedTensors state;
  for (const Variable& v : state_vars_) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session_->ReadVariable(v));
    state.emplace_back(v.op_name(), std::move(t));
  }
  return client_->SetState(state);
}

absl::Status PsWorkerStep::Assign(const std::vector<Tensor>& values) {
  for (size_t i = 0; i < vars_.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(session_->AssignVariable(vars_[i], values[i]));
  }
  return absl::OkStatus();
}

absl::Status PsWorkerStep::Start() {
  std::vector<Tensor> values;
  SLUICE_RETURN_IF_ERROR(client_->Pull(&values));
  return Assign(values);
}

absl::StatusOr<distributed::PsStepResult> PsWorkerStep::Step(
    const FeedList& feeds, int64_t samples, const std::vector<Output>& fetches,
    bool stop, std::vector<Tensor>* out) {
  std::vector<Output> f = grads_;
  f.insert(f.end(), fetches.begin(), fetches.end());
  std::vector<Tensor> values;
  SLUICE_RETURN_IF_ERROR(session_->Run(feeds, f, &values));
  std::vector<Tensor> grads(values.begin(), values.begin() + grads_.size());
  out->assign(values.begin() + grads_.size(), values.end());
  const auto t0 = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(distributed::PsStepResult r,
                          client_->PushPull(grads, samples, stop, &values));
  comm_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  global_step_ = r.step;
  SLUICE_RETURN_IF_ERROR(Assign(values));
  return r;
}

absl::StatusOr<bool> PsWorkerStep::Finish(bool stop) {
  std::vector<Tensor> values;
  distributed::NamedTensors state;
  const bool want_state = !state_vars_.empty();
  SLUICE_ASSIGN_OR_RETURN(
      bool stopped,
      client_->Finish(stop, &values, want_state ? &state : nullptr));
  finished_ = true;
  SLUICE_RETURN_IF_ERROR(Assign(values));
  if (want_state) SLUICE_RETURN_IF_ERROR(AssignState(state));
  return stopped;
}

}  // namespace sluice::train
