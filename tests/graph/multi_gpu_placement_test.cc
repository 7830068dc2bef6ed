// Placement over several GPUs with a simulated device platform
// (SetGpuPlatformForTesting, device/device_registry.h): what a default
// Session does on a machine with GPUs, "/gpu:N" on device N, soft
// placement and its error, and log_device_placement's lines, all without
// a GPU. The op Triple has a CPU and a GPU kernel; Add has only a CPU
// kernel in this binary.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "../support/simulated_device.h"
#include "../support/triple_op.h"
#include "device/device_registry.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/ops/ops.h"
#include "graph/session.h"

namespace sluice {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// `n` simulated GPUs; each remembers how many kernels ran on it.
class SimPlatform final : public DevicePlatform {
 public:
  explicit SimPlatform(int n) {
    for (int i = 0; i < n; ++i) {
      devices_.push_back(std::make_unique<testing_sim::SimDevice>(/*threaded=*/false, i));
    }
  }
  int device_count() const override { return static_cast<int>(devices_.size()); }
  absl::StatusOr<DeviceContext*> Context(int index) override { return devices_[index].get(); }
  Allocator* pinned_host_allocator() override { return HostAllocator(); }

 private:
  std::vector<std::unique_ptr<testing_sim::SimDevice>> devices_;
};

// Installs a platform for one test.
class ScopedPlatform {
 public:
  explicit ScopedPlatform(int gpus) : platform_(gpus) { old_ = SetGpuPlatformForTesting(&platform_); }
  ~ScopedPlatform() { SetGpuPlatformForTesting(old_); }

 private:
  SimPlatform platform_;
  DevicePlatform* old_;
};

using testing_sim::RegisterTripleOp;
using testing_sim::ResetTripleRuns;
using testing_sim::TripleRuns;

struct Program {
  Graph g;
  Output x, y, z;
  std::vector<std::string> log;
  // y = Triple(x) on `device`; z = y + 1 (CPU kernel only).
  explicit Program(const std::string& device) {
    RegisterTripleOp();
    ResetTripleRuns();
    Scope root = Scope::Root(&g);
    x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, TensorShape{2});
    y = Output(root.WithDevice(device).AddNode("Triple", "y", {x}), 0);
    z = ops::Add(root.WithOpName("z"), y, 1.0f);
    EXPECT_TRUE(root.ok()) << root.status();
  }
  SessionOptions Options(bool soft) {
    SessionOptions so;
    so.allow_soft_placement = soft;
    so.log_device_placement = true;
    so.log_sink = [this](std::string_view l) { log.emplace_back(l); };
    return so;
  }
  absl::StatusOr<std::vector<float>> Run(Session* s) {
    std::vector<Tensor> out;
    SLUICE_RETURN_IF_ERROR(s->Run({{x, Tensor::FromVector<float>({1, 2}, TensorShape{2})}}, {z}, &out));
    return std::vector<float>(out[0].flat<float>().begin(), out[0].flat<float>().end());
  }
};

constexpr char kCpu[] = "/job:localhost/replica:0/task:0/device:CPU:0";

TEST(MultiGpuPlacementTest, WithoutGpusADefaultSessionIsCpuOnly) {
  ScopedPlatform none(0);
  Program p("");
  Session s(&p.g, p.Options(false));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{4, 7}));
  EXPECT_EQ(TripleRuns()[0].load(), 1);
  EXPECT_THAT(s.placement_log(), Contains(absl::StrCat("y: (Triple): ", kCpu)));
}

TEST(MultiGpuPlacementTest, ADefaultSessionPlacesOpsWithAGpuKernelOnGpu0) {
  ScopedPlatform two(2);
  Program p("");
  Session s(&p.g, p.Options(false));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{4, 7}));
  EXPECT_EQ(TripleRuns()[1].load(), 1);  // GPU:0
  EXPECT_EQ(TripleRuns()[0].load(), 0);
  // TensorFlow's log_device_placement lines, on the sink and in the log.
  EXPECT_THAT(
      p.log,
      Contains("y: (Triple): /job:localhost/replica:0/task:0/device:GPU:0"));
  EXPECT_THAT(p.log, Contains(absl::StrCat("z: (Add): ", kCpu)));  // no GPU kernel
}

TEST(MultiGpuPlacementTest, SlashGpuNPlacesOnDeviceN) {
  ScopedPlatform two(2);
  Program p("/gpu:1");
  Session s(&p.g, p.Options(false));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{4, 7}));
  EXPECT_EQ(TripleRuns()[2].load(), 1);  // GPU:1
  EXPECT_EQ(TripleRuns()[1].load(), 0);
  EXPECT_THAT(
      p.log,
      Contains("y: (Triple): /job:localhost/replica:0/task:0/device:GPU:1"));
}

TEST(MultiGpuPlacementTest, AMissingGpuFailsNamingOpAndDeviceUnlessSoftPlacement) {
  ScopedPlatform two(2);
  {
    Program p("/device:GPU:2");
    Session s(&p.g, p.Options(false));
    auto v = p.Run(&s);
    ASSERT_TRUE(absl::IsInvalidArgument(v.status())) << v.status();
    EXPECT_THAT(v.status().message(), HasSubstr("Cannot assign a device for operation 'y'"));
    EXPECT_THAT(v.status().message(), HasSubstr("/device:GPU:2"));
    EXPECT_THAT(v.status().message(), HasSubstr("device:GPU:1"));  // the available devices
  }
  Program p("/device:GPU:2");
  Session s(&p.g, p.Options(true));
  auto v = p.Run(&s);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<float>{4, 7}));
  EXPECT_EQ(TripleRuns()[0].load(), 1);  // fell back to the CPU
  EXPECT_THAT(p.log, Contains(absl::StrCat("y: (Triple): ", kCpu)));
}

TEST(MultiGpuPlacementTest, TheDeviceRegistryNamesAGpuThatDoesNotExist) {
  ScopedPlatform two(2);
  EXPECT_EQ(GpuDeviceCount(), 2);
  ASSERT_TRUE(GpuContext(1).ok());
  EXPECT_EQ((*GpuContext(1))->index(), 1);
  absl::StatusOr<DeviceContext*> missing = GpuContext(2);
  ASSERT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("GPU 2 does not exist"));
  ScopedPlatform none(0);
  EXPECT_TRUE(absl::IsFailedPrecondition(GpuContext(0).status()));
}

}  // namespace
}  // namespace sluice
