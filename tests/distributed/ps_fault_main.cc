// distributed_ps_fault MODE STALL_TIMEOUT_S (under mpirun -np 3): rank 0 is
// a parameter server (synchronous, 2 replicas), ranks 1 and 2 workers that
// push 20 steps; at step 3 worker task 1 (rank 2) misbehaves:
//   stall  sleeps for 10 minutes: the ps must name it within the stall
//          timeout ("worker task 1 (rank 2) sent nothing for ...") and end
//          the job;
//   die    kills itself with SIGKILL: the job must end, non-zero;
//   none   behaves: every rank, the ps included, exits 0.
// Exit codes: 0 the job ended normally; 3 (through MPI_Abort) the ps or a
// worker failed. Used by the ctest cases in CMakeLists.txt, each under a
// timeout.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "distributed/cluster.h"
#include "distributed/parameter_server.h"
#include "distributed/ps_channel.h"
#include "distributed/ps_client.h"
#include "distributed/ps_placement.h"
#include "distributed/world.h"
#include "graph/optimizers/gradient_descent.h"

int main(int argc, char** argv) {
  using namespace sluice;
  using namespace sluice::distributed;
  if (argc != 3 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: distributed_ps_fault stall|die|none STALL_TIMEOUT_S "
                 "(mpirun -np 3)\n");
    return 2;
  }
  const std::string mode = argv[1];
  auto w = World::Init({.stall_timeout = absl::Seconds(std::atof(argv[2]))});
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    return 1;
  }
  World* world = *w;
  auto fail = [&](const absl::Status& st) { world->Abort(3, st.ToString()); };
  auto server = Server::FromWorld(*world, 1);
  if (!server.ok()) fail(server.status());
  auto channel = PsChannel::Create(world, world->stall_timeout());
  if (!channel.ok()) fail(channel.status());
  const TensorShape shape{1000};
  auto placement =
      ResolvePsPlacement(server->cluster(), ReplicaDeviceSetter({4000}, 1));
  if (!placement.ok()) fail(placement.status());
  if (server->job() == "ps") {
    Graph g("ps");
    Scope root = Scope::Root(&g);
    Variable v = NewVariable(root, Tensor::Zeros(DType::kFloat32, shape),
                             VariableOptions{.name = "v"});
    GradientDescentOptimizer sgd(0.1);
    auto shard = BuildPsShard(root, &sgd, {v}, std::nullopt);
    if (!shard.ok()) fail(shard.status());
    SessionOptions so;
    so.devices = server->devices();
    Session session(&g, so);
    if (absl::Status st =
            session.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr);
        !st.ok())
      fail(st);
    ParameterServer ps(
        channel->get(), server->cluster(), 0, &session, *shard,
        {.replicas_to_aggregate = 2, .stall_timeout = world->stall_timeout()});
    auto stats = ps.Serve();
    if (!stats.ok()) fail(stats.status());
    std::printf("ps exits after %lld steps\n",
                static_cast<long long>(stats->step));
    return 0;
  }
  PsClient client(channel->get(), *placement, {shape}, world->stall_timeout());
  std::vector<Tensor> values;
  if (absl::Status st = client.Pull(&values); !st.ok()) fail(st);
  for (int step = 0; step < 20; ++step) {
    if (step == 3 && server->task() == 1) {
      if (mode == "stall")
        std::this_thread::sleep_for(std::chrono::minutes(10));
      if (mode == "die") std::raise(SIGKILL);
    }
    auto r = client.PushPull({Tensor::Zeros(DType::kFloat32, shape)}, 1, false,
                             &values);
    if (!r.ok()) fail(r.status());
  }
  auto f = client.Finish(false, &values);
  if (!f.ok()) fail(f.status());
  std::printf("worker %d finished\n", server->task());
  return 0;
}
