#pragma once
// TF1's cluster over an MPI world: a ClusterSpec names jobs and their task
// counts, tasks map to MPI ranks in job order (ps first in FromWorld), and
// a Server is one task of it: its job, task index, rank, and the devices a
// Session of that task places on.
//
//   ClusterSpec c = ClusterSpec::FromWorld(/*world_size=*/4, /*ps_tasks=*/1);
//   // jobs: ps (rank 0), worker (ranks 1..3)
//   SLUICE_ASSIGN_OR_RETURN(Server s, Server::Create(c, "worker", 2));   // rank 3
//   SessionOptions so; so.devices = s.devices();
//   // "/job:worker/task:2/cpu:0" runs here; "/job:ps/task:0" is another
//   // task (InvalidArgument at placement); "/job:chief" is no job of the
//   // cluster (InvalidArgument naming it).
//
// Thread-safe (immutable after construction).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "distributed/world.h"
#include "graph/device.h"

namespace sluice::distributed {

struct TaskAddress {
  std::string job;
  int task = 0;
};

class ClusterSpec {
 public:
  // Jobs in rank order, each with its task count (>= 1). InvalidArgument
  // for an empty or repeated job name or a count below 1.
  static absl::StatusOr<ClusterSpec> Create(std::vector<std::pair<std::string, int>> jobs);
  // "ps" with `ps_tasks` ranks (none when 0), then "worker" with the rest.
  // InvalidArgument when no rank is left for workers.
  static absl::StatusOr<ClusterSpec> FromWorld(int world_size, int ps_tasks);

  const std::vector<std::pair<std::string, int>>& jobs() const { return jobs_; }
  int num_tasks(std::string_view job) const;  // 0 for no such job
  int num_ranks() const;
  // The rank of /job:job/task:task; InvalidArgument naming an unknown job
  // or task.
  absl::StatusOr<int> RankOf(std::string_view job, int task) const;
  // The task at `rank`; InvalidArgument when out of range.
  absl::StatusOr<TaskAddress> TaskOf(int rank) const;
  // "ps: 1 task, worker: 3 tasks".
  std::string DebugString() const;

 private:
  std::vector<std::pair<std::string, int>> jobs_;
};

class Server {
 public:
  // Task `task` of `job`; InvalidArgument for one the cluster lacks.
  static absl::StatusOr<Server> Create(ClusterSpec cluster, std::string job, int task);
  // This process's task: ClusterSpec::FromWorld(world->size(), ps_tasks)
  // at world->rank().
  static absl::StatusOr<Server> FromWorld(const World& world, int ps_tasks);

  const ClusterSpec& cluster() const { return cluster_; }
  const std::string& job() const { return job_; }
  int task() const { return task_; }
  int rank() const { return rank_; }
  // This task's CPU, named /job:JOB/replica:0/task:T/device:CPU:0, knowing
  // the whole cluster's jobs (for SessionOptions::devices).
  std::shared_ptr<const DeviceSet> devices() const { return devices_; }
  // The rank that runs `device` ("/job:ps/task:1/cpu:0"; no job or task
  // part: this task's rank). InvalidArgument for a malformed string or a
  // job / task the cluster does not have.
  absl::StatusOr<int> ResolveRank(std::string_view device) const;

 private:
  Server(ClusterSpec c, std::string job, int task, int rank);
  ClusterSpec cluster_;
  std::string job_;
  int task_;
  int rank_;
  std::shared_ptr<const DeviceSet> devices_;
};

}  // namespace sluice::distributed
