#include "train/internal/step_runner.h"

#include <atomic>
#include <utility>

#include "device/device_communicator.h"
#include "distributed/allreduce_path.h"
#include "distributed/nccl_allreducer.h"
#include "distributed/variable_sync.h"

namespace sluice::train::internal {

absl::StatusOr<std::unique_ptr<StepRunner>> StepRunner::Start(
    const TrainOptions& o, const JobRoles& roles, const JobSession& js,
    const Logdir& logdir, bool runs_steps, int* first_epoch) {
  std::unique_ptr<StepRunner> r(new StepRunner(o, js, runs_steps));
  if (roles.ps_mode) {
    SLUICE_RETURN_IF_ERROR(r->StartWorker(roles, logdir, first_epoch));
  } else if (roles.world) {
    SLUICE_RETURN_IF_ERROR(r->StartDataParallel(roles, first_epoch));
  }
  return r;
}

absl::Status StepRunner::StartWorker(const JobRoles& roles,
                                     const Logdir& logdir, int* first_epoch) {
  const TrainGraph& gr = js_.parts;
  SLUICE_ASSIGN_OR_RETURN(distributed::PsPlacement placement,
                          PlaceVariables(roles.server->cluster(), gr.weights));
  std::vector<TensorShape> shapes;
  for (const Variable& v : gr.weights) shapes.push_back(v.shape());
  ps_.emplace(js_.session.get(), gr.weights, gr.ps_grads,
              std::make_unique<distributed::PsClient>(
                  roles.ps_channel.get(), std::move(placement),
                  std::move(shapes), roles.world->stall_timeout()));
  SLUICE_ASSIGN_OR_RETURN(*first_epoch, ResumeEpoch(roles.world, *first_epoch));
  if (logdir.events() !=
      nullptr) {  // the chief checkpoints the ps tasks' state
    std::vector<Variable> state;
    for (const Variable& v : js_.globals) {
      if (v.op_name() != gr.epochs_done.op_name()) state.push_back(v);
    }
    ps_->set_state_variables(std::move(state));
    if (logdir.restored()) SLUICE_RETURN_IF_ERROR(ps_->RestoreState());
  }
  return ps_->Start();
}

absl::Status StepRunner::StartDataParallel(const JobRoles& roles,
                                           int* first_epoch) {
  distributed::World* world = roles.world;
  Session* session = js_.session.get();
  // GPU gradients through NCCL when the build has it (its id sent over
  // MPI), else through MPI on the host.
  SLUICE_ASSIGN_OR_RETURN(
      const distributed::AllreducePath path,
      distributed::ChooseAllreducePath(o_.allreduce, js_.gpu(),
                                       CommunicatorsAvailable()));
  allreduce_path_ = std::string(distributed::AllreducePathName(path));
  const distributed::AllreduceOptions reduce{.bucket_bytes =
                                                 o_.allreduce_bucket_bytes};
  std::unique_ptr<distributed::NcclGradientAllreducer> nccl;
  if (path == distributed::AllreducePath::kNccl) {
    SLUICE_ASSIGN_OR_RETURN(nccl, distributed::NcclGradientAllreducer::Create(
                                      world, js_.device, reduce));
  }
  if (roles.log != nullptr) {
    *roles.log << "gradient allreduce: " << allreduce_path_
               << (nccl        ? " (GPU to GPU, NCCL id sent over MPI)"
                   : js_.gpu() ? " (GPU gradients copied to the host"
                               : "")
               << (!nccl && js_.gpu() && !CommunicatorsAvailable()
                       ? "; NCCL: " + CommunicatorsUnavailableReason()
                       : "")
               << (!nccl && js_.gpu() ? ")" : "") << "\n";
  }
  // Every rank starts from rank 0's variables (its initialisation, or the
  // checkpoint it resumed), and from its epoch.
  if (nccl) {
    SLUICE_RETURN_IF_ERROR(nccl->BroadcastVariables(session, js_.globals));
  } else {
    SLUICE_RETURN_IF_ERROR(
        distributed::BroadcastVariables(world, session, js_.globals));
  }
  int64_t fe = *first_epoch;
  SLUICE_RETURN_IF_ERROR(world->Broadcast(&fe, sizeof(fe), "first epoch"));
  *first_epoch = static_cast<int>(fe);
  dp_.emplace(
      world, session, *js_.parts.dp, reduce,
      DataParallelOptions{
          .batch_size = o_.allreduce_weighted_in_graph ? o_.batch_size : 0,
          .overlap = o_.allreduce_overlap});
  if (nccl) dp_->UseNccl(std::move(nccl));
  return absl::OkStatus();
}

absl::StatusOr<StepRunner::Outcome> StepRunner::Run(const TensorTuple* batch,
                                                    int64_t rows,
                                                    bool fetch_loss,
                                                    std::vector<Tensor>* out) {
  const TrainGraph& gr = js_.parts;
  const std::vector<Output> fetches =
      fetch_loss ? std::vector<Output>{gr.loss} : std::vector<Output>{};
  const bool stop_here =
      o_.stop != nullptr && o_.stop->load(std::memory_order_relaxed);
  Outcome outcome;
  if (ps_) {
    SLUICE_ASSIGN_OR_RETURN(
        distributed::PsStepResult r,
        ps_->Step({{gr.images, (*batch)[0]}, {gr.labels, (*batch)[1]}}, rows,
                  fetches, stop_here, out));
    outcome.stop = r.stop;
    outcome.global_step = r.step;
  } else if (dp_) {
    const FeedList feeds =
        batch == nullptr
            ? FeedList{}
            : FeedList{{gr.images, (*batch)[0]}, {gr.labels, (*batch)[1]}};
    SLUICE_ASSIGN_OR_RETURN(distributed::StepAgreement agreed,
                            dp_->Step(batch == nullptr ? nullptr : &feeds, rows,
                                      fetches, stop_here, out));
    outcome.all_out = agreed.total_samples == 0;
    outcome.stop = agreed.stop;
  } else if (runs_steps_) {
    SLUICE_RETURN_IF_ERROR(
        js_.session->Run({{gr.images, (*batch)[0]}, {gr.labels, (*batch)[1]}},
                         fetches, {gr.train_op}, out));
  }
  return outcome;
}

absl::StatusOr<bool> StepRunner::EndEpoch(bool stopped, bool last) {
  if (!ps_ || !(stopped || last)) return stopped;
  SLUICE_ASSIGN_OR_RETURN(bool job_stopped, ps_->Finish(stopped));
  return stopped || job_stopped;
}

absl::StatusOr<bool> StepRunner::EndJob(bool stopped) {
  if (!ps_ || ps_->finished()) return stopped;
  SLUICE_ASSIGN_OR_RETURN(bool job_stopped, ps_->Finish(stopped));
  return stopped || job_stopped;
}

absl::Status StepRunner::BeforeCheckpoint() {
  return ps_ ? ps_->FetchState() : absl::OkStatus();
}

void StepRunner::Report(TrainResult* r) const {
  r->allreduce = allreduce_path_;
  if (dp_) r->comm_seconds = dp_->comm_seconds();
  if (ps_) {
    r->comm_seconds = ps_->comm_seconds();
    r->global_step = ps_->global_step();
    r->stale_gradients_dropped = ps_->stale_pushes();
  }
}

}  // namespace sluice::train::internal
