// Visible devices (DeviceSet::WithGpus, SessionOptions.visible_device_list,
// TensorFlow's GPUOptions.visible_device_list) on a simulated platform of
// two GPUs (SetGpuPlatformForTesting) that counts how often each GPU's
// context is asked for: only listed GPUs are set up, they keep their
// indices, an unlisted GPU is a missing device for placement, and a list
// naming a GPU that does not exist is InvalidArgument naming it.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "../support/counting_platform.h"
#include "../support/triple_op.h"
#include "device/device_registry.h"
#include "graph/device.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/ops/ops.h"
#include "graph/session.h"

namespace sluice {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_sim::CountingPlatform;

using testing_sim::RegisterTripleOp;
using testing_sim::ResetTripleRuns;
using testing_sim::TripleRuns;

// y = Triple(x) requested on `device`.
struct Program {
  Graph g;
  Output x, y;
  explicit Program(const std::string& device) {
    RegisterTripleOp();
    ResetTripleRuns();
    Scope root = Scope::Root(&g);
    x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, TensorShape{2});
    y = Output(root.WithDevice(device).AddNode("Triple", "y", {x}), 0);
    EXPECT_TRUE(root.ok()) << root.status();
  }
  absl::StatusOr<std::vector<float>> Run(Session* s) {
    std::vector<Tensor> out;
    SLUICE_RETURN_IF_ERROR(s->Run(
        {{x, Tensor::FromVector<float>({1, 2}, TensorShape{2})}}, {y}, &out));
    return std::vector<float>(out[0].flat<float>().begin(),
                              out[0].flat<float>().end());
  }
};

SessionOptions Visible(const std::string& list, bool soft = false) {
  SessionOptions so;
  so.visible_device_list = list;
  so.allow_soft_placement = soft;
  so.log_device_placement = true;
  so.log_sink = [](std::string_view) {};
  return so;
}

constexpr char kGpu1[] = "/job:localhost/replica:0/task:0/device:GPU:1";
constexpr char kCpu[] = "/job:localhost/replica:0/task:0/device:CPU:0";

TEST(VisibleDevicesTest, WithGpusSetsUpOnlyTheListedGpuKeepingItsIndex) {
  CountingPlatform two(2);
  absl::StatusOr<std::shared_ptr<const DeviceSet>> set =
      DeviceSet::WithGpus({1});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(two.SetUpCounts(), ElementsAre(0, 1));
  ASSERT_EQ((*set)->devices().size(), 2u);
  EXPECT_EQ((*set)->devices()[1]->name(), kGpu1);
  EXPECT_EQ((*set)->devices()[1]->context()->index(), 1);
  EXPECT_EQ((*set)->Find(*DeviceSpec::Parse("/gpu:0")), nullptr);
  EXPECT_TRUE((*set)->prefers_gpu());
}

TEST(VisibleDevicesTest, ADefaultSessionStillSetsUpEveryGpu) {
  CountingPlatform two(2);
  Program p("/gpu:0");
  Session s(&p.g, SessionOptions{});
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(TripleRuns()[1].load(), 1);  // GPU:0
  for (int n : two.SetUpCounts()) EXPECT_GE(n, 1);
}

TEST(VisibleDevicesTest, SlashGpu1RunsOnGpu1AndGpu0IsNeverSetUp) {
  CountingPlatform two(2);
  Program p("/gpu:1");
  Session s(&p.g, Visible("1"));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{3, 6}));
  EXPECT_EQ(TripleRuns()[2].load(), 1);  // GPU:1
  EXPECT_THAT(s.placement_log(),
              Contains(absl::StrCat("y: (Triple): ", kGpu1)));
  EXPECT_EQ(two.SetUpCounts()[0], 0);
  EXPECT_GE(two.SetUpCounts()[1], 1);
  // The kernel's device was made the thread's current one; GPU 0 never.
  EXPECT_THAT(two.Binds(), ElementsAre(0, 1));
}

TEST(VisibleDevicesTest, UnrequestedNodesGoToTheFirstListedGpu) {
  CountingPlatform two(2);
  Program p("");
  Session s(&p.g, Visible("1"));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(TripleRuns()[2].load(),
            1);  // GPU:1, the one TensorFlow would call /gpu:0
  EXPECT_EQ(two.SetUpCounts()[0], 0);
}

TEST(VisibleDevicesTest, AnUnlistedGpuIsAMissingDeviceUnlessSoftPlacement) {
  CountingPlatform two(2);
  {
    Program p("/gpu:0");
    Session s(&p.g, Visible("1"));
    auto v = p.Run(&s);
    ASSERT_TRUE(absl::IsInvalidArgument(v.status())) << v.status();
    EXPECT_THAT(v.status().message(),
                HasSubstr("Cannot assign a device for operation 'y'"));
    EXPECT_THAT(v.status().message(), HasSubstr("/device:GPU:0"));
    EXPECT_THAT(v.status().message(),
                HasSubstr("device:GPU:1"));  // the available devices
  }
  Program p("/gpu:0");
  Session s(&p.g, Visible("1", /*soft=*/true));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{3, 6}));
  EXPECT_EQ(TripleRuns()[0].load(),
            1);  // on the CPU, as TensorFlow's soft placement
  EXPECT_THAT(s.placement_log(), Contains(absl::StrCat("y: (Triple): ", kCpu)));
  EXPECT_EQ(two.SetUpCounts()[0], 0);
}

TEST(VisibleDevicesTest, AListNamingAMissingGpuIsInvalidArgumentNamingIt) {
  CountingPlatform two(2);
  absl::StatusOr<std::shared_ptr<const DeviceSet>> set =
      DeviceSet::WithGpus({1, 2});
  ASSERT_TRUE(absl::IsInvalidArgument(set.status())) << set.status();
  EXPECT_THAT(set.status().message(), HasSubstr("GPU 2"));
  EXPECT_THAT(set.status().message(), HasSubstr("sees 2 GPUs"));
  EXPECT_THAT(two.SetUpCounts(),
              ElementsAre(0, 0));  // checked before any setup

  Program p("/gpu:1");
  Session s(&p.g, Visible("2", /*soft=*/true));
  auto v = p.Run(&s);
  ASSERT_TRUE(absl::IsInvalidArgument(v.status())) << v.status();
  EXPECT_THAT(v.status().message(), HasSubstr("visible_device_list '2'"));
  EXPECT_THAT(v.status().message(), HasSubstr("GPU 2"));
  EXPECT_EQ(
      TripleRuns()[0].load() + TripleRuns()[1].load() + TripleRuns()[2].load(),
      0);

  EXPECT_TRUE(absl::IsInvalidArgument(DeviceSet::WithGpus({-1}).status()));
  absl::Status twice = DeviceSet::WithGpus({1, 1}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(twice)) << twice;
  EXPECT_THAT(twice.message(), HasSubstr("GPU 1 twice"));
  CountingPlatform none(0);
  EXPECT_TRUE(absl::IsInvalidArgument(DeviceSet::WithGpus({0}).status()));
  EXPECT_EQ(*DeviceSet::WithGpus({}), DeviceSet::Local());
}

TEST(VisibleDevicesTest, TheListParsesTensorFlowsSpelling) {
  EXPECT_THAT(*ParseVisibleDeviceList("1, 0"), ElementsAre(1, 0));
  EXPECT_THAT(*ParseVisibleDeviceList("3"), ElementsAre(3));
  EXPECT_TRUE(ParseVisibleDeviceList("")->empty());
  for (const char* bad : {"a", "1,", "-1", "0;1"}) {
    absl::StatusOr<std::vector<int>> v = ParseVisibleDeviceList(bad);
    ASSERT_TRUE(absl::IsInvalidArgument(v.status())) << bad;
    EXPECT_THAT(v.status().message(), HasSubstr(absl::StrCat("'", bad, "'")))
        << bad;
  }
}

TEST(VisibleDevicesTest, ListOrderChoosesTheDefaultGpu) {
  CountingPlatform two(2);
  absl::StatusOr<std::shared_ptr<const DeviceSet>> set =
      DeviceSet::WithGpus({1, 0});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->devices()[1]->index(), 1);
  Program p("");
  Session s(&p.g, Visible("1,0"));
  ASSERT_TRUE(p.Run(&s).ok());
  EXPECT_EQ(TripleRuns()[2].load(), 1);  // GPU:1 first
}

}  // namespace
}  // namespace sluice
