// Parameter servers and their clients under mpirun (see CMakeLists.txt:
// -np 3: one ps task and two workers; -np 4: two ps tasks, the variables
// split between them, and two workers). Every rank runs every test: the ps
// ranks serve (and check their counts), the workers push and check the
// values they get back. Plain SGD on two variables, so every expected value
// is exact.
#define OMPI_SKIP_MPICXX 1
#include <atomic>
#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <mpi.h>

#include "distributed/cluster.h"
#include "distributed/parameter_server.h"
#include "distributed/ps_channel.h"
#include "distributed/ps_client.h"
#include "distributed/ps_placement.h"
#include "distributed/world.h"
#include "graph/ops/ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/session.h"

namespace sluice::distributed {
namespace {

World* W() {
  static World* w = [] {
    auto r = World::Init({.stall_timeout = absl::Seconds(30)});
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }();
  return w;
}

const std::vector<TensorShape> kShapes = {TensorShape{4}, TensorShape{3}};

// Two workers; the ranks before them are ps tasks.
struct Job {
  Server server;
  std::unique_ptr<PsChannel> channel;
  PsPlacement placement;
};

Job MakeJob() {
  auto server = Server::FromWorld(*W(), W()->size() - 2);
  EXPECT_TRUE(server.ok()) << server.status();
  auto ch = PsChannel::Create(W(), absl::Seconds(30));
  EXPECT_TRUE(ch.ok()) << ch.status();
  auto p = ResolvePsPlacement(server->cluster(),
                              ReplicaDeviceSetter({16, 12}, W()->size() - 2));
  EXPECT_TRUE(p.ok()) << p.status();
  return Job{*server, std::move(*ch), *p};
}

// A ps task's whole life: zero-initialised variables, SGD at `lr`, served
// until both workers finish.
PsServeStats Serve(Job& job, int replicas, float lr,
                   const std::atomic<bool>* stop = nullptr) {
  Graph g("ps");
  Scope root = Scope::Root(&g);
  std::vector<Variable> mine;
  for (int i : job.placement.VariablesOf(job.server.task())) {
    mine.push_back(
        NewVariable(root, Tensor::Zeros(DType::kFloat32, kShapes[i]),
                    VariableOptions{.name = "v" + std::to_string(i)}));
  }
  GradientDescentOptimizer sgd(lr);
  auto shard = BuildPsShard(
      root.WithDevice("/job:ps/task:" + std::to_string(job.server.task())),
      &sgd, mine, std::nullopt);
  EXPECT_TRUE(shard.ok()) << shard.status();
  SessionOptions so;
  so.devices = job.server.devices();
  Session session(&g, so);
  EXPECT_TRUE(
      session.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  ParameterServer ps(job.channel.get(), job.server.cluster(), job.server.task(),
                     &session, *shard,
                     {.replicas_to_aggregate = replicas,
                      .stall_timeout = absl::Seconds(30),
                      .stop = stop});
  auto stats = ps.Serve();
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? *stats : PsServeStats{};
}

PsClient MakeClient(Job& job) {
  return PsClient(job.channel.get(), job.placement, kShapes, absl::Seconds(30));
}

std::vector<Tensor> Grads(float v) {
  std::vector<Tensor> g;
  for (const TensorShape& s : kShapes) {
    Tensor t(DType::kFloat32, s);
    for (float& x : t.flat<float>()) x = v;
    g.push_back(std::move(t));
  }
  return g;
}

// Every element of every value equals `v`.
void ExpectAll(const std::vector<Tensor>& values, float v) {
  ASSERT_EQ(values.size(), kShapes.size());
  for (const Tensor& t : values) {
    for (float x : t.flat<float>()) EXPECT_EQ(x, v);
  }
}

// Worker-to-worker signals that order the pushes (MPI_COMM_WORLD, a tag of
// the test's own), each wait bounded.
constexpr int kSignalTag = 9301;
void Signal(int to_rank) {
  int one = 1;
  MPI_Send(&one, 1, MPI_INT, to_rank, kSignalTag, MPI_COMM_WORLD);
}
void AwaitSignal(int from_rank) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int flag = 0;
  while (!flag) {
    MPI_Iprobe(from_rank, kSignalTag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "no signal from rank " << from_rank;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  int v = 0;
  MPI_Recv(&v, 1, MPI_INT, from_rank, kSignalTag, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
}

// Synchronous, 2 replicas: one update per step, the sample-weighted mean of
// both workers' gradients; both wait for it.
TEST(ParameterServerTest, SyncStepAppliesWeightedMeanOfFreshGradients) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 2, 1.0f);
    EXPECT_EQ(s.step, 2);
    EXPECT_EQ(s.pushes, 4);
    EXPECT_EQ(s.applied, 4);
    EXPECT_EQ(s.stale_dropped, 0);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  ASSERT_TRUE(c.Pull(&values).ok());
  ExpectAll(values, 0.0f);
  const int t = job.server.task();
  // (1 * 1 + 3 * 3) / (1 + 3) = 2.5
  auto r =
      c.PushPull(Grads(t == 0 ? 1.0f : 3.0f), t == 0 ? 1 : 3, false, &values);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->step, 1);
  EXPECT_EQ(r->stale_tasks, 0);
  ExpectAll(values, -2.5f);
  r = c.PushPull(Grads(1.0f), 5, false, &values);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->step, 2);
  ExpectAll(values, -3.5f);
  auto stopped = c.Finish(false, &values);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_FALSE(*stopped);
  ExpectAll(values, -3.5f);
}

// Synchronous, 1 replica of 2 workers: worker 1 computes from step 0's
// values, worker 0's push makes step 1, and worker 1's push (token 0) is
// stale: dropped and counted, its worker gets step 1's values.
TEST(ParameterServerTest, SyncDropsStaleGradients) {
  Job job = MakeJob();
  const int w0 = *job.server.cluster().RankOf("worker", 0);
  const int w1 = *job.server.cluster().RankOf("worker", 1);
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 1, 1.0f);
    EXPECT_EQ(s.stale_dropped, 1);
    EXPECT_EQ(s.pushes, 3);
    EXPECT_EQ(s.applied, 2);
    EXPECT_EQ(s.step, 2);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  if (job.server.task() == 1) {
    ASSERT_TRUE(c.Pull(&values).ok());  // step 0's values
    Signal(w0);
    AwaitSignal(w0);  // worker 0 has made step 1
    auto r = c.PushPull(Grads(5.0f), 1, false, &values);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->stale_tasks, job.placement.num_ps_tasks);
    EXPECT_EQ(r->step, 1);
    ExpectAll(values, -1.0f);  // the stale 5s were not applied
    EXPECT_EQ(c.stale_pushes(), 1);
    r = c.PushPull(Grads(1.0f), 1, false, &values);  // fresh now (token 1)
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->stale_tasks, 0);
    EXPECT_EQ(r->step, 2);
    ExpectAll(values, -2.0f);
  } else {
    ASSERT_TRUE(c.Pull(&values).ok());
    AwaitSignal(w1);
    auto r = c.PushPull(Grads(1.0f), 1, false, &values);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->step, 1);
    ExpectAll(values, -1.0f);
    Signal(w1);
  }
  std::vector<Tensor> final_values;
  ASSERT_TRUE(c.Finish(false, &final_values).ok());
  ExpectAll(final_values, -2.0f);
}

// Asynchronous: every push is applied on arrival, whatever it was computed
// from: 2 workers x 5 pushes of 1 at rate 0.5 end at -5 on every worker.
TEST(ParameterServerTest, AsyncAppliesEveryPushOnArrival) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 0, 0.5f);
    EXPECT_EQ(s.step, 10);
    EXPECT_EQ(s.applied, 10);
    EXPECT_EQ(s.stale_dropped, 0);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  ASSERT_TRUE(c.Pull(&values).ok());
  for (int i = 0; i < 5; ++i) {
    auto r = c.PushPull(Grads(1.0f), 8, false, &values);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->stop);
  }
  ASSERT_TRUE(c.Finish(false, &values).ok());
  ExpectAll(values, -5.0f);
}

// A worker that finished early lowers the quorum: the other's push is
// applied alone instead of waiting forever for a second replica.
TEST(ParameterServerTest, FinishedWorkersDoNotHangASyncStep) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 2, 1.0f);
    EXPECT_EQ(s.step, 1);
    EXPECT_EQ(s.applied, 1);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  ASSERT_TRUE(c.Pull(&values).ok());
  if (job.server.task() == 0) {
    auto r = c.PushPull(Grads(2.0f), 4, false, &values);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->step, 1);
    ExpectAll(values, -2.0f);
  }
  ASSERT_TRUE(c.Finish(false, &values).ok());
  ExpectAll(values, job.server.task() == 0 ? -2.0f : -2.0f);
}

// A stop asked by worker 0 reaches worker 1 in its next reply; both finish
// and the ps ends its serving, stopped.
TEST(ParameterServerTest, StopAskedByOneWorkerEndsTheJob) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 0, 0.1f);
    EXPECT_TRUE(s.stopped);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  ASSERT_TRUE(c.Pull(&values).ok());
  const int w1 = *job.server.cluster().RankOf("worker", 1);
  bool stopped = false;
  if (job.server.task() == 0) {
    AwaitSignal(w1);  // worker 1 is pushing
    auto r = c.PushPull(Grads(1.0f), 1, /*stop=*/true, &values);
    ASSERT_TRUE(r.ok()) << r.status();
    stopped = r->stop;
  } else {
    for (int i = 0; i < 100000 && !stopped; ++i) {
      auto r = c.PushPull(Grads(0.0f), 1, false, &values);
      ASSERT_TRUE(r.ok()) << r.status();
      stopped = r->stop;
      if (i == 0) Signal(*job.server.cluster().RankOf("worker", 0));
    }
  }
  EXPECT_TRUE(stopped);
  auto f = c.Finish(false, &values);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(*f);
}

// A stop asked on the ps rank (its SIGUSR1 / SIGINT in `sluice train`)
// reaches every worker in its next reply; the job ends, nothing hangs.
TEST(ParameterServerTest, StopAskedOnThePsEndsTheJob) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    std::atomic<bool> stop{job.server.task() == 0};
    PsServeStats s = Serve(job, 2, 0.1f, &stop);
    EXPECT_EQ(s.stopped, job.server.task() == 0);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  ASSERT_TRUE(c.Pull(&values).ok());
  auto r = c.PushPull(Grads(1.0f), 1, false, &values);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stop);
  auto f = c.Finish(false, &values);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(*f);
}

// The chief (worker task 0) restores a state (SetState) before any worker
// gets values: worker 1's Pull, sent first, is answered with the restored
// values; GetState returns every task's variables by name.
TEST(ParameterServerTest, ChiefRestoresStateBeforeOtherWorkersPull) {
  Job job = MakeJob();
  if (job.server.job() == "ps") {
    PsServeStats s = Serve(job, 0, 1.0f);
    EXPECT_EQ(s.step, 1);
    return;
  }
  PsClient c = MakeClient(job);
  std::vector<Tensor> values;
  const int w0 = *job.server.cluster().RankOf("worker", 0);
  const int w1 = *job.server.cluster().RankOf("worker", 1);
  if (job.server.task() == 1) {
    Signal(w0);  // then pulls at once: held until the chief has restored
    ASSERT_TRUE(c.Pull(&values).ok());
    ExpectAll(values, 7.0f);
    AwaitSignal(w0);
  } else {
    AwaitSignal(w1);
    NamedTensors restored;
    for (size_t i = 0; i < kShapes.size(); ++i) {
      Tensor t(DType::kFloat32, kShapes[i]);
      for (float& x : t.flat<float>()) x = 7.0f;
      restored.emplace_back("v" + std::to_string(i), std::move(t));
    }
    // A tensor no task keeps (another run's variable) is ignored.
    restored.emplace_back("other", Tensor::Scalar<int64_t>(3));
    ASSERT_TRUE(c.SetState(restored).ok());
    ASSERT_TRUE(c.Pull(&values).ok());
    ExpectAll(values, 7.0f);
    auto r = c.PushPull(Grads(2.0f), 1, false, &values);  // lr 1: 7 - 2
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectAll(values, 5.0f);
    auto state = c.GetState();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_EQ(state->size(), kShapes.size());
    std::vector<Tensor> by_index(kShapes.size());
    for (auto& [name, t] : *state) by_index[name == "v0" ? 0 : 1] = t;
    ExpectAll(by_index, 5.0f);
    Signal(w1);
  }
  auto f = c.Finish(false, &values);
  ASSERT_TRUE(f.ok()) << f.status();
  ExpectAll(values, 5.0f);
}

}  // namespace
}  // namespace sluice::distributed
