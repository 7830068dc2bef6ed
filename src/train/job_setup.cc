#include "train/internal/job_setup.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

#include "graph/scope.h"
#if SLUICE_TRAIN_HAVE_GPU
#include "graph/cuda/gpu_device.h"
#endif

namespace sluice::train::internal {

absl::StatusOr<int> RankGpuIndex(const TrainOptions& o) {
  RankOnHost where;
  if (o.world != nullptr) {
    where = {.rank = o.world->rank(),
             .world_size = o.world->size(),
             .local_rank = o.world->local_rank(),
             .local_size = o.world->local_size(),
             .parameter_servers = o.ps_tasks > 0};
  }
  return TrainingGpu(o.device, where);
}

absl::StatusOr<JobRoles> AssignRoles(const TrainOptions& o) {
  JobRoles r;
  r.world = o.world;
  r.rank = r.world ? r.world->rank() : 0;
  r.world_size = r.world ? r.world->size() : 1;
  r.ps_mode = r.world != nullptr && o.ps_tasks > 0;
  if (r.ps_mode) {
    SLUICE_ASSIGN_OR_RETURN(
        r.server, distributed::Server::FromWorld(*r.world, o.ps_tasks));
    SLUICE_ASSIGN_OR_RETURN(
        r.ps_channel,
        distributed::PsChannel::Create(r.world, r.world->stall_timeout()));
    if (r.serves_parameters()) return r;
  }
  r.shard_rank = r.ps_mode ? r.server->task() : r.rank;
  r.shard_size =
      r.ps_mode ? r.server->cluster().num_tasks("worker") : r.world_size;
  r.log = r.shard_rank == 0 ? o.progress : nullptr;
  return r;
}

absl::StatusOr<std::unique_ptr<JobSession>> StartSession(const TrainOptions& o,
                                                         int gpu_index,
                                                         std::ostream* log) {
  auto js = std::make_unique<JobSession>();
  js->gpu_index = gpu_index;
  SLUICE_ASSIGN_OR_RETURN(js->parts, BuildTrainGraph(&js->graph, o, gpu_index));
  SessionOptions so;
  so.allow_soft_placement = true;
  so.capture_device_steps = js->gpu() && o.capture_steps;
  so.capture_feeds_in_place = o.capture_feeds_in_place;
  so.log_device_placement = o.log_device_placement;
  if (log != nullptr)
    so.log_sink = [log](std::string_view line) { *log << line << "\n"; };
  js->device = CpuDeviceContext::Get();
#if SLUICE_TRAIN_HAVE_GPU
  if (js->gpu()) {
    SLUICE_RETURN_IF_ERROR(RegisterGpuKernels());
    // The CPU and this process's GPU only: the host's other GPUs are never
    // set up (N ranks on an N-GPU host make one CUDA context per GPU).
    SLUICE_ASSIGN_OR_RETURN(so.devices, TrainingDeviceSet(gpu_index));
    js->device = so.devices->devices()[1]->context();  // [0] is the CPU
  }
#endif
  js->capture_steps = so.capture_device_steps;
  js->session = std::make_unique<Session>(&js->graph, so);
  js->globals = GlobalVariables(js->graph);
  SLUICE_RETURN_IF_ERROR(js->session->Run(
      {}, {}, {GlobalVariablesInitializer(Scope::Root(&js->graph))}, nullptr));
  return js;
}

absl::StatusOr<int64_t> StepsPerEpoch(const TrainOptions& o,
                                      const JobRoles& roles) {
  // Data-parallel epochs end when every rank is out of data (a rank's
  // share may be uneven); this is their length with even shares.
  const int64_t per_step = o.batch_size * roles.shard_size;
  const int64_t steps = roles.world
                            ? (o.train.records + per_step - 1) / per_step
                            : o.train.records / o.batch_size;
  if (steps < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "fewer records than one batch: ", o.train.records,
        " training records, batch size ", o.batch_size,
        roles.world ? absl::StrCat(" on ", roles.shard_size, " ranks")
                    : std::string()));
  return steps;
}

}  // namespace sluice::train::internal
