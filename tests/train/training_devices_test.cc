// The devices a training process sets up (train/trainer.h: TrainingGpu,
// TrainingDeviceSet), on a simulated platform of two GPUs that counts how
// often each GPU's context is asked for: under mpirun each rank requests
// its local rank's GPU and no other; `--device gpu:N` requests N alone.
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "../support/counting_platform.h"
#include "device/device_registry.h"
#include "train/trainer.h"

namespace sluice::train {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_sim::CountingPlatform;

// A build without CUDA trains on the CPU whatever the platform says.
bool BuildUsesGpus() {
  CountingPlatform one(1);
  return GpuAvailable();
}
#define SKIP_WITHOUT_GPU_BUILD()                     \
  if (!BuildUsesGpus())                              \
  GTEST_SKIP() << "this build has no CUDA: the CPU " \
                  "always"

// The GPU rank `where` takes for `device`, and what setting up its
// devices asked the platform for.
struct RankDevices {
  int gpu = -1;
  std::vector<std::string> devices;
  std::vector<int> setups;
};
RankDevices SetUpRank(std::string_view device, const RankOnHost& where) {
  CountingPlatform two(2);
  RankDevices s;
  absl::StatusOr<int> gpu = TrainingGpu(device, where);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  if (!gpu.ok()) return s;
  s.gpu = *gpu;
  absl::StatusOr<std::shared_ptr<const DeviceSet>> set =
      TrainingDeviceSet(*gpu);
  EXPECT_TRUE(set.ok()) << set.status();
  if (!set.ok()) return s;
  for (const auto& d : (*set)->devices()) s.devices.push_back(d->name());
  s.setups = two.SetUpCounts();
  return s;
}

constexpr char kCpu[] = "/job:localhost/replica:0/task:0/device:CPU:0";
constexpr char kGpu0[] = "/job:localhost/replica:0/task:0/device:GPU:0";
constexpr char kGpu1[] = "/job:localhost/replica:0/task:0/device:GPU:1";

TEST(TrainingDevicesTest, EachRankSetsUpOnlyItsLocalRanksGpu) {
  SKIP_WITHOUT_GPU_BUILD();
  // mpirun -np 2 on one host with 2 GPUs.
  RankDevices r0 = SetUpRank(
      "gpu", {.rank = 0, .world_size = 2, .local_rank = 0, .local_size = 2});
  EXPECT_EQ(r0.gpu, 0);
  EXPECT_THAT(r0.devices, ElementsAre(kCpu, kGpu0));
  EXPECT_THAT(r0.setups, ElementsAre(1, 0));
  RankDevices r1 = SetUpRank(
      "gpu", {.rank = 1, .world_size = 2, .local_rank = 1, .local_size = 2});
  EXPECT_EQ(r1.gpu, 1);
  EXPECT_THAT(r1.devices, ElementsAre(kCpu, kGpu1));
  EXPECT_THAT(r1.setups, ElementsAre(0, 1));
  // Rank 3 of 4 on the second of two hosts; "auto" finds the GPUs.
  RankDevices r3 = SetUpRank(
      "auto", {.rank = 3, .world_size = 4, .local_rank = 1, .local_size = 2});
  EXPECT_EQ(r3.gpu, 1);
  EXPECT_THAT(r3.setups, ElementsAre(0, 1));
}

TEST(TrainingDevicesTest, ANamedGpuIsTheOnlyOneSetUp) {
  SKIP_WITHOUT_GPU_BUILD();
  RankDevices one = SetUpRank("gpu:1", {});
  EXPECT_EQ(one.gpu, 1);
  EXPECT_THAT(one.devices, ElementsAre(kCpu, kGpu1));
  EXPECT_THAT(one.setups, ElementsAre(0, 1));
  // --device gpu:0 overrides the local rank.
  RankDevices r1 = SetUpRank(
      "gpu:0", {.rank = 1, .world_size = 2, .local_rank = 1, .local_size = 2});
  EXPECT_EQ(r1.gpu, 0);
  EXPECT_THAT(r1.setups, ElementsAre(1, 0));
  // Parameter-server workers do not take a GPU per local rank.
  RankDevices ps = SetUpRank("gpu", {.rank = 1,
                                     .world_size = 3,
                                     .local_rank = 1,
                                     .local_size = 3,
                                     .parameter_servers = true});
  EXPECT_EQ(ps.gpu, 0);
  EXPECT_THAT(ps.setups, ElementsAre(1, 0));
}

TEST(TrainingDevicesTest, TheCpuSetsUpNoGpu) {
  RankDevices cpu = SetUpRank(
      "cpu", {.rank = 1, .world_size = 2, .local_rank = 1, .local_size = 2});
  EXPECT_EQ(cpu.gpu, -1);
  EXPECT_THAT(cpu.devices, ElementsAre(kCpu));
  EXPECT_THAT(cpu.setups, ElementsAre(0, 0));
}

TEST(TrainingDevicesTest,
     MoreRanksThanGpusIsAnErrorNamingTheRankBeforeAnySetup) {
  SKIP_WITHOUT_GPU_BUILD();
  CountingPlatform two(2);
  absl::StatusOr<int> gpu = TrainingGpu(
      "gpu", {.rank = 5, .world_size = 6, .local_rank = 2, .local_size = 3});
  ASSERT_TRUE(absl::IsFailedPrecondition(gpu.status())) << gpu.status();
  EXPECT_THAT(gpu.status().message(), HasSubstr("rank 5 is local rank 2 of 3"));
  EXPECT_THAT(two.SetUpCounts(), ElementsAre(0, 0));
  absl::Status missing = TrainingDeviceSet(2).status();
  EXPECT_TRUE(absl::IsInvalidArgument(missing)) << missing;
  EXPECT_THAT(missing.message(), HasSubstr("GPU 2"));
}

}  // namespace
}  // namespace sluice::train
