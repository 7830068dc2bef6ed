// replica_device_setter placement over ps tasks, and device strings that
// name a ps task the cluster lacks (InvalidArgument naming it).
#include "distributed/ps_placement.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::distributed {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ReplicaDeviceSetterTest, RoundRobinOverPsTasks) {
  EXPECT_THAT(ReplicaDeviceSetter({4, 4, 4, 4, 4}, 2),
              ElementsAre("/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0",
                          "/job:ps/task:1", "/job:ps/task:0"));
  EXPECT_THAT(ReplicaDeviceSetter({4, 4}, 3),
              ElementsAre("/job:ps/task:0", "/job:ps/task:1"));
}

TEST(ReplicaDeviceSetterTest, GreedyBySizeBalancesBytes) {
  // 100 -> t0; 10 -> t1; 10 -> t1 (10 < 100); 50 -> t1 (20 < 100); 1 -> t1 (70
  // < 100)
  EXPECT_THAT(
      ReplicaDeviceSetter({100, 10, 10, 50, 1}, 2, PsStrategy::kGreedyBySize),
      ElementsAre("/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:1",
                  "/job:ps/task:1", "/job:ps/task:1"));
}

TEST(ResolvePsPlacementTest, ResolvesTasksToRanks) {
  auto cluster = *ClusterSpec::FromWorld(5, 2);  // ps ranks 0, 1; workers 2..4
  auto p = ResolvePsPlacement(cluster, ReplicaDeviceSetter({8, 8, 8}, 2));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->tasks, ElementsAre(0, 1, 0));
  EXPECT_THAT(p->ranks, ElementsAre(0, 1, 0));
  EXPECT_THAT(p->task_ranks, ElementsAre(0, 1));
  EXPECT_THAT(p->VariablesOf(0), ElementsAre(0, 2));
  EXPECT_THAT(p->VariablesOf(1), ElementsAre(1));
  // A full device name is accepted too.
  auto full =
      ResolvePsPlacement(cluster, {"/job:ps/replica:0/task:1/device:CPU:0"});
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_THAT(full->ranks, ElementsAre(1));
}

TEST(ResolvePsPlacementTest, PsTaskOutsideTheClusterIsInvalidArgument) {
  auto cluster = *ClusterSpec::FromWorld(4, 1);
  auto p = ResolvePsPlacement(cluster, {"/job:ps/task:0", "/job:ps/task:3"});
  EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << p.status();
  EXPECT_THAT(p.status().message(),
              HasSubstr("variable 1 placed on '/job:ps/task:3'"));
  EXPECT_THAT(p.status().message(), HasSubstr("unknown task 3 of job 'ps'"));
  // Three ps tasks' placement in a one-ps cluster: the same error.
  auto rr = ResolvePsPlacement(cluster, ReplicaDeviceSetter({4, 4, 4}, 3));
  EXPECT_TRUE(absl::IsInvalidArgument(rr.status()));
  EXPECT_THAT(rr.status().message(), HasSubstr("unknown task 1 of job 'ps'"));
}

TEST(ResolvePsPlacementTest, NonPsDevicesAreInvalidArgument) {
  auto cluster = *ClusterSpec::FromWorld(3, 1);
  for (const char* d : {"/job:worker/task:0", "/cpu:0", "/job:ps/task:x"}) {
    auto p = ResolvePsPlacement(cluster, {d});
    EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << d << ": " << p.status();
    EXPECT_THAT(p.status().message(), HasSubstr(d));
  }
  // A cluster without a ps job.
  auto no_ps = *ClusterSpec::FromWorld(3, 0);
  auto p = ResolvePsPlacement(no_ps, {"/job:ps/task:0"});
  EXPECT_TRUE(absl::IsInvalidArgument(p.status()));
  EXPECT_THAT(p.status().message(), HasSubstr("unknown job 'ps'"));
}

}  // namespace
}  // namespace sluice::distributed
