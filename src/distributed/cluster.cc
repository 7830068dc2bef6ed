#include "distributed/cluster.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "device/device_context.h"

namespace sluice::distributed {

absl::StatusOr<ClusterSpec> ClusterSpec::Create(std::vector<std::pair<std::string, int>> jobs) {
  if (jobs.empty()) return absl::InvalidArgumentError("a cluster needs at least one job");
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].first.empty()) return absl::InvalidArgumentError(absl::StrCat("job ", i, " has no name"));
    if (jobs[i].second < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("job '", jobs[i].first, "' has ", jobs[i].second, " tasks (at least 1)"));
    }
    for (size_t k = 0; k < i; ++k) {
      if (jobs[k].first == jobs[i].first) {
        return absl::InvalidArgumentError(absl::StrCat("job '", jobs[i].first, "' given twice"));
      }
    }
  }
  ClusterSpec c;
  c.jobs_ = std::move(jobs);
  return c;
}

absl::StatusOr<ClusterSpec> ClusterSpec::FromWorld(int world_size, int ps_tasks) {
  if (ps_tasks < 0 || ps_tasks >= world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        ps_tasks, " parameter server tasks in a world of ", world_size,
        " ranks leaves no worker (run more ranks with mpirun -np)"));
  }
  std::vector<std::pair<std::string, int>> jobs;
  if (ps_tasks > 0) jobs.emplace_back("ps", ps_tasks);
  jobs.emplace_back("worker", world_size - ps_tasks);
  return Create(std::move(jobs));
}

int ClusterSpec::num_tasks(std::string_view job) const {
  for (const auto& j : jobs_) {
    if (j.first == job) return j.second;
  }
  return 0;
}

int ClusterSpec::num_ranks() const {
  int n = 0;
  for (const auto& j : jobs_) n += j.second;
  return n;
}

absl::StatusOr<int> ClusterSpec::RankOf(std::string_view job, int task) const {
  int base = 0;
  for (const auto& j : jobs_) {
    if (j.first == job) {
      if (task < 0 || task >= j.second) {
        return absl::InvalidArgumentError(absl::StrCat("unknown task ", task, " of job '", Sv(job),
                                                       "': it has ", j.second, " task",
                                                       j.second == 1 ? "" : "s"));
      }
      return base + task;
    }
    base += j.second;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown job '", Sv(job), "': the cluster has ", DebugString()));
}

absl::StatusOr<TaskAddress> ClusterSpec::TaskOf(int rank) const {
  int base = 0;
  for (const auto& j : jobs_) {
    if (rank >= base && rank < base + j.second) return TaskAddress{j.first, rank - base};
    base += j.second;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("rank ", rank, " is not in the cluster (", num_ranks(), " ranks)"));
}

std::string ClusterSpec::DebugString() const {
  std::string s;
  for (const auto& j : jobs_) {
    absl::StrAppend(&s, s.empty() ? "" : ", ", j.first, ": ", j.second, " task",
                    j.second == 1 ? "" : "s");
  }
  return s;
}

Server::Server(ClusterSpec c, std::string job, int task, int rank)
    : cluster_(std::move(c)), job_(std::move(job)), task_(task), rank_(rank) {
  std::vector<std::unique_ptr<Device>> d;
  d.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get(), job_, task_));
  devices_ = std::make_shared<const DeviceSet>(std::move(d), cluster_.jobs());
}

absl::StatusOr<Server> Server::Create(ClusterSpec cluster, std::string job, int task) {
  SLUICE_ASSIGN_OR_RETURN(int rank, cluster.RankOf(job, task));
  return Server(std::move(cluster), std::move(job), task, rank);
}

absl::StatusOr<Server> Server::FromWorld(const World& world, int ps_tasks) {
  SLUICE_ASSIGN_OR_RETURN(ClusterSpec c, ClusterSpec::FromWorld(world.size(), ps_tasks));
  SLUICE_ASSIGN_OR_RETURN(TaskAddress t, c.TaskOf(world.rank()));
  return Create(std::move(c), t.job, t.task);
}

absl::StatusOr<int> Server::ResolveRank(std::string_view device) const {
  SLUICE_ASSIGN_OR_RETURN(DeviceSpec spec, DeviceSpec::Parse(device));
  if (!spec.names_task()) return rank_;
  const std::string job = spec.job.value_or(job_);
  return cluster_.RankOf(job, spec.task >= 0 ? spec.task : (job == job_ ? task_ : 0));
}

}  // namespace sluice::distributed
