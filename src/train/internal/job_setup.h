#pragma once
// The training job's setup (private to src/train): who this process is in
// the job, which device it trains on, and its graph in a Session.
//
// Roles. Alone (TrainOptions::world null) a process reads every record and
// reports. Under a world without ps tasks every rank reads its share
// (share rank of size ranks) and rank 0 reports. With ps tasks the first
// TrainOptions::ps_tasks ranks are parameter servers (serves_parameters():
// the caller hands them to ServeParameters) and the others workers, which
// read the share of their worker task; worker task 0 reports.
//
// Device. RankGpuIndex is TrainingGpu (trainer.h) for this process's place
// in TrainOptions::world: GpuIndex(TrainOptions::device), except that a
// data-parallel rank asking for a GPU without naming one (gpu, auto) takes
// the GPU of its local rank (distributed::GpuForRank). StartSession's
// devices are TrainingDeviceSet's: the CPU and that GPU alone.
//
// Errors: GpuIndex's and GpuForRank's (RankGpuIndex); the cluster's and
// the ps channel's (AssignRoles); the graph's, the GPU kernels' and the
// variables' initialisation (StartSession); InvalidArgument when the
// training set has fewer records than one batch (StepsPerEpoch).
// Not thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "core/status.h"
#include "device/device_context.h"
#include "distributed/cluster.h"
#include "distributed/ps_channel.h"
#include "distributed/world.h"
#include "graph/graph.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "train/internal/train_graph.h"
#include "train/trainer.h"

namespace sluice::train::internal {

struct JobRoles {
  distributed::World* world = nullptr;  // null: alone
  int rank = 0;
  int world_size = 1;
  bool ps_mode = false;  // a world with parameter servers
  // Parameter-server mode: this process's task, and its channel to the
  // others.
  std::optional<distributed::Server> server;
  std::unique_ptr<distributed::PsChannel> ps_channel;
  // The share of the training records this process reads (see above).
  int shard_rank = 0;
  int shard_size = 1;
  // TrainOptions::progress on the process that reports, else null.
  std::ostream* log = nullptr;

  bool serves_parameters() const { return ps_mode && server->job() == "ps"; }
};

absl::StatusOr<int> RankGpuIndex(const TrainOptions& o);
absl::StatusOr<JobRoles> AssignRoles(const TrainOptions& o);

// The job's graph in a Session on its device (soft placement, step
// capture on the GPU as TrainOptions asks; the Session's log lines go to
// `log` when not null), every global variable initialised.
struct JobSession {
  int gpu_index = -1;  // -1: the CPU
  Graph graph{"train"};
  TrainGraph parts;
  // The device the job trains on: the CPU's context or GPU gpu_index's.
  DeviceContext* device = nullptr;
  bool capture_steps = false;  // SessionOptions::capture_device_steps
  std::unique_ptr<Session> session;
  std::vector<Variable> globals;  // every global variable (the Saver's)

  bool gpu() const { return gpu_index >= 0; }
};

absl::StatusOr<std::unique_ptr<JobSession>> StartSession(const TrainOptions& o,
                                                         int gpu_index,
                                                         std::ostream* log);

// Steps in an epoch: alone, whole batches of the training set; with a
// world, batches of the largest share when shares are even (an epoch ends
// when every rank is out of data).
absl::StatusOr<int64_t> StepsPerEpoch(const TrainOptions& o,
                                      const JobRoles& roles);

}  // namespace sluice::train::internal
