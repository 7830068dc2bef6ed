// Placement and host<->device copies with a simulated GPU device: a
// DeviceContext that counts copies and a test op with a kGPU kernel. This
// is the seam the GPU device (graph/cuda) plugs into.
#include "graph/placement.h"

#include <atomic>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/ops/ops.h"
#include "graph/session.h"

namespace sluice {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class FakeGpuContext final : public DeviceContext {
 public:
  DeviceType type() const override { return DeviceType::kGPU; }
  Allocator* allocator() const override { return HostAllocator(); }
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override {
    to_device.fetch_add(1);
    return host.DeepCopy();
  }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override {
    to_host.fetch_add(1);
    return t.DeepCopy();
  }
  mutable std::atomic<int> to_device{0}, to_host{0};
};

void RegisterGpuOnlyOp() {
  static bool once = [] {
    (void)OpRegistry::Global()->Register(OpDef{"TestGpuDouble", shape_fns::UnchangedShape});
    KernelDef k;
    k.op = "TestGpuDouble";
    k.device = DeviceType::kGPU;
    k.fn = [](OpKernelContext* ctx) {
      if (ctx->device()->type() != DeviceType::kGPU) return absl::InternalError("not on the GPU");
      Tensor out(DType::kFloat32, ctx->input(0).shape());
      for (int64_t i = 0; i < out.NumElements(); ++i) {
        out.data<float>()[i] = 2 * ctx->input(0).data<float>()[i];
      }
      ctx->set_output(0, out);
      return absl::OkStatus();
    };
    KernelRegistry::Global()->Register(std::move(k));
    return true;
  }();
  (void)once;
}

std::shared_ptr<const DeviceSet> CpuAndFakeGpu(FakeGpuContext* gpu) {
  std::vector<std::unique_ptr<Device>> d;
  d.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
  d.push_back(std::make_unique<Device>(DeviceType::kGPU, 0, gpu));
  return std::make_shared<const DeviceSet>(std::move(d));
}

TEST(DeviceSpecTest, ParsesTensorFlowSpellings) {
  for (const char* s : {"/gpu:0", "/device:GPU:0", "/job:localhost/replica:0/task:0/device:GPU:0",
                        "GPU:0", "/GPU:0"}) {
    auto spec = DeviceSpec::Parse(s);
    ASSERT_TRUE(spec.ok()) << s;
    EXPECT_EQ(spec->type, DeviceType::kGPU) << s;
    EXPECT_EQ(spec->index, 0) << s;
  }
  auto any_cpu = DeviceSpec::Parse("/cpu:*");
  ASSERT_TRUE(any_cpu.ok());
  EXPECT_EQ(any_cpu->index, -1);
  EXPECT_TRUE(DeviceSpec::Parse("")->empty());
  EXPECT_EQ(DeviceSpec::Parse("/tpu:0").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlacementTest, GpuKernelRunsOnTheGpuWithCopiesAtTheEdges) {
  RegisterGpuOnlyOp();
  FakeGpuContext gpu;
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Const(root, {1.0f, 2.0f});
  Output doubled = Output(root.WithDevice("/gpu:0").AddNode("TestGpuDouble", "double", {x}), 0);
  Output y = ops::Add(root, doubled, 1.0f);
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> log;
  Session s(&g, SessionOptions{.log_device_placement = true,
                               .log_sink = [&](std::string_view l) { log.emplace_back(l); },
                               .devices = CpuAndFakeGpu(&gpu)});
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {y, doubled}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[1], 5.0f);
  EXPECT_EQ(out[1].data<float>()[0], 2.0f);
  EXPECT_THAT(log, Contains("double: (TestGpuDouble): /job:localhost/replica:0/task:0/device:GPU:0"));
  EXPECT_THAT(log, Contains("Add: (Add): /job:localhost/replica:0/task:0/device:CPU:0"));
  // Const -> double (to device), double -> Add (to host), and the fetch of
  // `doubled` back to host.
  EXPECT_EQ(gpu.to_device.load(), 1);
  EXPECT_EQ(gpu.to_host.load(), 2);
}

TEST(PlacementTest, NoKernelForTheRequestedDevice) {
  FakeGpuContext gpu;
  Graph g;
  Scope root = Scope::Root(&g);
  // Add has only a CPU kernel: a /gpu:0 request is soft-placed or refused.
  Output y = ops::Add(root.WithDevice("/gpu:0"), 1.0f, 2.0f);
  {
    Session soft(&g, SessionOptions{.allow_soft_placement = true, .devices = CpuAndFakeGpu(&gpu)});
    std::vector<Tensor> out;
    ASSERT_TRUE(soft.Run({}, {y}, &out).ok());
    EXPECT_EQ(out[0].scalar<float>(), 3.0f);
  }
  Session hard(&g, SessionOptions{.devices = CpuAndFakeGpu(&gpu)});
  std::vector<Tensor> out;
  absl::Status st = hard.Run({}, {y}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("no supported kernel for GPU devices"));
}

TEST(PlacementTest, AssignIsColocatedWithItsVariable) {
  RegisterGpuOnlyOp();
  FakeGpuContext gpu;
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root.WithDevice("/cpu:0"), 1.0f);
  Output two = ops::Const(root, 2.0f);
  Output a = ops::Assign(root.WithDevice("/gpu:0"), v, two);
  std::vector<std::string> log;
  Session s(&g, SessionOptions{.log_device_placement = true,
                               .log_sink = [&](std::string_view l) { log.emplace_back(l); },
                               .devices = CpuAndFakeGpu(&gpu)});
  std::vector<Tensor> out;
  absl::Status st = s.Run({}, {a}, &out);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(log, Contains("Assign: (Assign): /job:localhost/replica:0/task:0/device:CPU:0"));
}

}  // namespace
}  // namespace sluice
