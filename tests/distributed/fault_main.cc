// distributed_fault MODE RANK STALL_TIMEOUT_S: ranks run gradient
// allreduce steps; at step 3 rank RANK misbehaves:
//   stall  sleeps for 10 minutes (stuck in its input, say): the others
//          must name it within the stall timeout and end the job;
//   die    kills itself with SIGKILL: the job must end, non-zero;
//   stop   asks to stop: every rank must stop at that step and exit 0.
// Exit codes: 0 all steps (or the stop) agreed; 3 a collective failed
// (after MPI_Abort, mpirun's code). Used by the ctest cases in
// CMakeLists.txt, each under a timeout.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "distributed/gradient_allreducer.h"
#include "distributed/world.h"

int main(int argc, char** argv) {
  using namespace sluice;
  if (argc != 4 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: distributed_fault stall|die|stop RANK STALL_TIMEOUT_S (under mpirun)\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int bad = std::atoi(argv[2]);
  auto w = distributed::World::Init({.stall_timeout = absl::Seconds(std::atof(argv[3]))});
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    return 1;
  }
  distributed::World* world = *w;
  distributed::GradientAllreducer ar(world);
  for (int step = 0; step < 20; ++step) {
    bool stop = false;
    if (step == 3 && world->rank() == bad) {
      if (mode == "stall") std::this_thread::sleep_for(std::chrono::minutes(10));
      if (mode == "die") std::raise(SIGKILL);
      if (mode == "stop") stop = true;
    }
    std::vector<Tensor> g{Tensor::Zeros(DType::kFloat32, TensorShape{1000})};
    auto a = ar.Average(&g, 1, stop, "step " + std::to_string(step));
    if (!a.ok()) world->Abort(3, a.status().ToString());
    if (a->stop) {
      std::printf("rank %d stopped at step %d\n", world->rank(), step);
      return step == 3 ? 0 : 1;
    }
  }
  std::printf("rank %d finished\n", world->rank());
  return 0;
}
