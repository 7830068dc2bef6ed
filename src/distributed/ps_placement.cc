#include "distributed/ps_placement.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "graph/device.h"

namespace sluice::distributed {

std::vector<std::string> ReplicaDeviceSetter(const std::vector<int64_t>& bytes,
                                             int ps_tasks,
                                             PsStrategy strategy) {
  std::vector<std::string> out;
  std::vector<int64_t> load(std::max(ps_tasks, 1), 0);
  for (size_t i = 0; i < bytes.size(); ++i) {
    int task = 0;
    if (strategy == PsStrategy::kRoundRobin) {
      task = static_cast<int>(i % load.size());
    } else {
      task = static_cast<int>(std::min_element(load.begin(), load.end()) -
                              load.begin());
    }
    load[task] += bytes[i];
    out.push_back(absl::StrCat("/job:ps/task:", task));
  }
  return out;
}

std::vector<int> PsPlacement::VariablesOf(int ps_task) const {
  std::vector<int> v;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i] == ps_task) v.push_back(static_cast<int>(i));
  }
  return v;
}

absl::StatusOr<PsPlacement> ResolvePsPlacement(
    const ClusterSpec& cluster, const std::vector<std::string>& devices) {
  PsPlacement p;
  p.num_ps_tasks = cluster.num_tasks("ps");
  for (int t = 0; t < p.num_ps_tasks; ++t)
    p.task_ranks.push_back(*cluster.RankOf("ps", t));
  for (size_t i = 0; i < devices.size(); ++i) {
    auto where = [&] {
      return absl::StrCat("variable ", i, " placed on '", devices[i], "'");
    };
    absl::StatusOr<DeviceSpec> spec = DeviceSpec::Parse(devices[i]);
    if (!spec.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": ", spec.status().message()));
    if (!spec->job.has_value() || *spec->job != "ps") {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), ": not a parameter server task (/job:ps/task:I)"));
    }
    const int task = std::max(spec->task, 0);
    absl::StatusOr<int> rank = cluster.RankOf("ps", task);
    if (!rank.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": ", rank.status().message()));
    }
    p.devices.push_back(devices[i]);
    p.tasks.push_back(task);
    p.ranks.push_back(*rank);
  }
  return p;
}

}  // namespace sluice::distributed
