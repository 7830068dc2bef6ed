// ClusterSpec / Server and device strings naming jobs and tasks: a job or
// task the cluster lacks is InvalidArgument naming it, at resolution and
// at placement (never the local CPU by default).
#include "distributed/cluster.h"

#include "gmock/gmock.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "gtest/gtest.h"

namespace sluice::distributed {
namespace {

using ::testing::HasSubstr;

TEST(ClusterSpecTest, FromWorldPutsParameterServersFirst) {
  auto c = ClusterSpec::FromWorld(4, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_tasks("ps"), 1);
  EXPECT_EQ(c->num_tasks("worker"), 3);
  EXPECT_EQ(*c->RankOf("ps", 0), 0);
  EXPECT_EQ(*c->RankOf("worker", 2), 3);
  EXPECT_EQ(c->TaskOf(2)->job, "worker");
  EXPECT_EQ(c->TaskOf(2)->task, 1);
  EXPECT_EQ(c->DebugString(), "ps: 1 task, worker: 3 tasks");
}

TEST(ClusterSpecTest, NoWorkerLeftIsInvalidArgument) {
  auto c = ClusterSpec::FromWorld(2, 2);
  EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
  EXPECT_THAT(c.status().message(), HasSubstr("leaves no worker"));
}

TEST(ClusterSpecTest, ExplicitJobsValidated) {
  EXPECT_TRUE(absl::IsInvalidArgument(ClusterSpec::Create({{"ps", 1}, {"ps", 2}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ClusterSpec::Create({{"worker", 0}}).status()));
  auto c = ClusterSpec::Create({{"chief", 1}, {"worker", 2}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->num_ranks(), 3);
}

TEST(ClusterSpecTest, UnknownJobAndTaskAreNamed) {
  auto c = *ClusterSpec::FromWorld(3, 1);
  auto j = c.RankOf("chief", 0);
  EXPECT_TRUE(absl::IsInvalidArgument(j.status()));
  EXPECT_THAT(j.status().message(), HasSubstr("unknown job 'chief'"));
  auto t = c.RankOf("ps", 3);
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(), HasSubstr("unknown task 3 of job 'ps'"));
}

TEST(ServerTest, ResolvesDeviceStringsToRanks) {
  auto s = Server::Create(*ClusterSpec::FromWorld(4, 2), "worker", 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rank(), 3);
  EXPECT_EQ(*s->ResolveRank("/job:ps/task:1/device:CPU:0"), 1);
  EXPECT_EQ(*s->ResolveRank("/job:worker/task:0"), 2);
  EXPECT_EQ(*s->ResolveRank("/cpu:0"), 3);
  auto bad = s->ResolveRank("/job:evaluator/task:0");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(bad.status().message(), HasSubstr("'evaluator'"));
  EXPECT_EQ(s->devices()->cpu()->name(), "/job:worker/replica:0/task:1/device:CPU:0");
}

// A session of /job:worker/task:1 runs its own task's nodes; another task
// or an unknown job fails placement even with soft placement on.
TEST(ServerTest, SessionPlacementChecksJobAndTask) {
  auto server = *Server::Create(*ClusterSpec::FromWorld(3, 1), "worker", 1);
  struct Case {
    std::string device;
    std::string error;  // empty: runs
  };
  for (const Case& c : std::vector<Case>{
           {"/job:worker/task:1/cpu:0", ""},
           {"/job:worker/task:1", ""},
           {"/cpu:0", ""},
           {"/job:ps/task:0", "is task /job:ps/task:0 of the cluster"},
           {"/job:worker/task:0/cpu:0", "this session runs /job:worker/task:1 only"},
           {"/job:chief/task:0", "unknown job 'chief'"},
           {"/job:worker/task:7", "unknown task 7 of job 'worker'"},
       }) {
    Graph g("g");
    Scope root = Scope::Root(&g);
    Output x = ops::Const(root.WithDevice(c.device).WithOpName("x"), 3.0f);
    SessionOptions so;
    so.allow_soft_placement = true;
    so.devices = server.devices();
    Session s(&g, so);
    std::vector<Tensor> out;
    absl::Status st = s.Run({}, {x}, &out);
    if (c.error.empty()) {
      EXPECT_TRUE(st.ok()) << c.device << ": " << st;
    } else {
      EXPECT_TRUE(absl::IsInvalidArgument(st)) << c.device << ": " << st;
      EXPECT_THAT(st.message(), HasSubstr(c.error)) << c.device;
      EXPECT_THAT(std::string(st.message()), HasSubstr("Cannot assign a device for operation"))
          << c.device;
    }
  }
}

// Without a Server, a session is /job:localhost/task:0: a /job:ps string
// is an error, not the local CPU.
TEST(ServerTest, LocalSessionRejectsOtherJobs) {
  Graph g("g");
  Scope root = Scope::Root(&g);
  Output x = ops::Const(root.WithDevice("/job:ps/task:0/device:CPU:0").WithOpName("v"), 1.0f);
  Session s(&g, SessionOptions{.allow_soft_placement = true});
  std::vector<Tensor> out;
  absl::Status st = s.Run({}, {x}, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("unknown job 'ps'"));
  Output y = ops::Const(root.WithDevice("/job:localhost/replica:0/task:0/device:CPU:0"), 2.0f);
  EXPECT_TRUE(s.Run({}, {y}, &out).ok());
}

}  // namespace
}  // namespace sluice::distributed
