#pragma once
// Where each variable of a parameter-server job lives: TF1's
// replica_device_setter. Every variable gets a device string
// "/job:ps/task:I", then the strings are resolved against the cluster to
// the MPI rank that keeps the variable (and its optimizer slots, and
// applies its updates).
//
//   std::vector<std::string> d = ReplicaDeviceSetter(bytes, 2,
//   PsStrategy::kRoundRobin);
//   // {"/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0", ...}
//   SLUICE_ASSIGN_OR_RETURN(PsPlacement p, ResolvePsPlacement(cluster, d));
//   p.VariablesOf(1);  // indices of the variables ps task 1 serves
//
// Strategies (TensorFlow's): kRoundRobin gives variable i to task i mod K
// (replica_device_setter's default); kGreedyBySize gives each variable, in
// order, to the task with the fewest bytes so far, lowest task on ties
// (GreedyLoadBalancingStrategy with byte_size_load_fn).
//
// Errors: InvalidArgument naming the variable and the device when a device
// string is malformed, names another job than "ps", or a ps task the
// cluster does not have. Thread-safe (pure functions).

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "distributed/cluster.h"

namespace sluice::distributed {

enum class PsStrategy { kRoundRobin, kGreedyBySize };

// One device string per variable (`bytes[i]`: variable i's size) over
// `ps_tasks` tasks (>= 1) of job "ps".
std::vector<std::string> ReplicaDeviceSetter(
    const std::vector<int64_t>& bytes, int ps_tasks,
    PsStrategy strategy = PsStrategy::kRoundRobin);

struct PsPlacement {
  std::vector<std::string> devices;  // per variable, as given
  std::vector<int> tasks;            // per variable: its ps task
  std::vector<int> ranks;            // per variable: that task's MPI rank
  int num_ps_tasks = 0;              // the cluster's ps tasks
  std::vector<int> task_ranks;       // per ps task: its MPI rank

  // The variables task `ps_task` serves, in variable order.
  std::vector<int> VariablesOf(int ps_task) const;
};

absl::StatusOr<PsPlacement> ResolvePsPlacement(
    const ClusterSpec& cluster, const std::vector<std::string>& devices);

}  // namespace sluice::distributed
