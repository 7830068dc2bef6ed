// The NCCL gradient path on one GPU, one rank (NCCL refuses two ranks on
// one GPU, and the GPU machines lent here have one): the communicator's
// calls, the device arena's sums and buckets, and a data-parallel training
// step through NCCL against the same step through MPI's host path. Label
// gpu: every test skips without a device or in a build without NCCL.
// Run outside mpirun: the World is this process alone (size 1), so the
// NCCL id's broadcast and the step agreement are MPI-free.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "device/device_communicator.h"
#include "device/device_registry.h"
#include "distributed/nccl_allreducer.h"
#include "distributed/world.h"
#include "graph/cuda/gpu_device.h"
#include "graph/ops/ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/session.h"
#include "train/data_parallel.h"

namespace sluice {
namespace {

#define SKIP_WITHOUT_NCCL_GPU()                                            \
  if (!CommunicatorsAvailable()) GTEST_SKIP() << "this build has no NCCL"; \
  if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";             \
  ASSERT_TRUE(RegisterGpuKernels().ok())

Tensor Ramp(const TensorShape& shape, float start) {
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.NumElements(); ++i)
    t.data<float>()[i] = start + 0.5f * i;
  return t;
}

Tensor ToHost(DeviceContext* gpu, const Tensor& t) {
  absl::StatusOr<Tensor> h = gpu->CopyToHost(t);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Tensor();
}

distributed::World* LoneWorld() {
  absl::StatusOr<distributed::World*> w = distributed::World::Init();
  EXPECT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)->size(), 1) << "run this test outside mpirun";
  return *w;
}

TEST(NcclCommunicatorTest, OneRankSumsBroadcastsWaitsAndAborts) {
  SKIP_WITHOUT_NCCL_GPU();
  absl::StatusOr<DeviceContext*> gpu = GpuContext(0);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  absl::StatusOr<std::string> id = NewCommunicatorId();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), kCommunicatorIdBytes);
  EXPECT_EQ(NewDeviceCommunicator(*gpu, "short", 0, 1, absl::Seconds(30))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      NewDeviceCommunicator(*gpu, *id, 1, 1, absl::Seconds(30)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewDeviceCommunicator(CpuDeviceContext::Get(), *id, 0, 1,
                                  absl::Seconds(30))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<DeviceCommunicator>> comm =
      NewDeviceCommunicator(*gpu, *id, 0, 1, absl::Seconds(30));
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_EQ((*comm)->rank(), 0);
  EXPECT_EQ((*comm)->size(), 1);

  const Tensor host = Ramp({1000}, -3.f);
  absl::StatusOr<Tensor> dev = (*gpu)->CopyToDevice(host);
  ASSERT_TRUE(dev.ok()) << dev.status();
  ASSERT_TRUE((*comm)->AllReduceSum(dev->data<float>(), 1000).ok());
  ASSERT_TRUE((*comm)->Broadcast(dev->raw_data(), 4000, 0).ok());
  EXPECT_EQ((*comm)->Broadcast(dev->raw_data(), 4000, 1).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status st = (*comm)->Wait(absl::Seconds(30), "test sum", {});
  ASSERT_TRUE(st.ok()) << st;
  const Tensor back = ToHost(*gpu, *dev);
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(back.data<float>()[i], host.data<float>()[i]) << i;

  // A cancelled wait aborts; every later call says so.
  ASSERT_TRUE((*comm)->AllReduceSum(dev->data<float>(), 1000).ok());
  st = (*comm)->Wait(absl::Seconds(30), "cancelled sum", [] { return true; });
  // The sum may finish before the first look at `cancelled`.
  if (!st.ok()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
    EXPECT_TRUE((*comm)->aborted());
  }
  (*comm)->Abort();
  EXPECT_TRUE((*comm)->aborted());
  EXPECT_EQ((*comm)->AllReduceSum(dev->data<float>(), 1000).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*gpu)->Sync().ok());  // the device is still usable
}

TEST(NcclGradientAllreducerTest, SumsInBucketsIntoADeviceArena) {
  SKIP_WITHOUT_NCCL_GPU();
  distributed::World* world = LoneWorld();
  DeviceContext* gpu = *GpuContext(0);
  // 64-byte buckets: every slot (and padding) spans several.
  absl::StatusOr<std::unique_ptr<distributed::NcclGradientAllreducer>> r =
      distributed::NcclGradientAllreducer::Create(world, gpu,
                                                  {.bucket_bytes = 64});
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<distributed::StepAgreement> a =
      (*r)->Agree(7, true, "agreement");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->total_samples, 7);
  EXPECT_TRUE(a->stop);

  const std::vector<TensorShape> shapes = {{3, 5}, {7}, {1}, {33}};
  std::vector<Tensor> host;
  std::vector<Tensor> grads;
  for (size_t i = 0; i < shapes.size(); ++i) {
    host.push_back(Ramp(shapes[i], 10.f * i - 1.f));
    // A device gradient (as the session fetches it) and host ones.
    grads.push_back(i % 2 == 0 ? *gpu->CopyToDevice(host.back()) : host.back());
  }
  absl::Status st = (*r)->Sum(shapes, &grads, "step 1");
  ASSERT_TRUE(st.ok()) << st;
  // 16 + 16 + 16 + 48 floats of slots: 96 floats, 6 buckets of 16.
  EXPECT_EQ((*r)->last_bytes(), 96 * 4);
  EXPECT_EQ((*r)->num_buckets(), 6);
  ASSERT_EQ(grads.size(), shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(grads[i].buffer()->allocator()->kind(), MemoryKind::kDevice) << i;
    const Tensor back = ToHost(gpu, grads[i]);
    ASSERT_EQ(back.shape(), shapes[i]);
    for (int64_t k = 0; k < back.NumElements(); ++k) {
      ASSERT_EQ(back.data<float>()[k], host[i].data<float>()[k])
          << i << " at " << k;
    }
  }
  // A rank without a batch brings zeros.
  std::vector<Tensor> none;
  ASSERT_TRUE((*r)->Sum(shapes, &none, "step 2").ok());
  ASSERT_EQ(none.size(), shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Tensor back = ToHost(gpu, none[i]);
    for (int64_t k = 0; k < back.NumElements(); ++k)
      ASSERT_EQ(back.data<float>()[k], 0.f);
  }
  std::vector<Tensor> wrong = {Ramp({4}, 0.f)};
  EXPECT_EQ((*r)->Sum({{3}}, &wrong, "step 3").code(),
            absl::StatusCode::kInvalidArgument);
}

// A least-squares layer trained by the data-parallel step; returns the
// weights after `steps` steps, through NCCL or MPI's host path.
std::vector<Tensor> TrainSteps(bool nccl, int steps, std::string* allreduce) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope s = root.WithDevice("/gpu:0");
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32,
                              TensorShape{8, 20});
  Output y = ops::Placeholder(root.WithOpName("y"), DType::kFloat32,
                              TensorShape{8, 4});
  Variable w = NewVariable(s, Ramp({20, 4}, -0.3f), {.name = "w"});
  Variable b = NewVariable(s, Ramp({4}, 0.1f), {.name = "b"});
  Output pred = ops::BiasAdd(s, ops::MatMul(s, x, w.value()), b.value());
  Output loss = ops::ReduceMean(s, ops::Square(s, ops::Sub(s, pred, y)));
  GradientDescentOptimizer opt(0.01);
  absl::StatusOr<train::DataParallelGraph> dpg =
      train::BuildDataParallelGraph(s, &opt, loss, {w, b}, std::nullopt);
  EXPECT_TRUE(dpg.ok()) << dpg.status();
  SessionOptions so;
  so.allow_soft_placement = true;
  so.devices = *GpuDeviceSet();
  Session session(&g, so);
  EXPECT_TRUE(
      session.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  distributed::World* world = LoneWorld();
  train::DataParallelStep step(world, &session, *dpg, {},
                               {.batch_size = 8, .overlap = false});
  if (nccl) {
    DeviceContext* gpu = so.devices->devices()[1]->context();
    auto r = distributed::NcclGradientAllreducer::Create(world, gpu,
                                                         {.bucket_bytes = 128});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    EXPECT_TRUE((*r)->BroadcastVariables(&session, {w, b}).ok());
    step.UseNccl(*std::move(r));
  }
  *allreduce = step.uses_nccl() ? "nccl" : "mpi";
  for (int i = 0; i < steps; ++i) {
    Tensor xs(DType::kFloat32, {8, 20}), ys(DType::kFloat32, {8, 4});
    for (int64_t k = 0; k < xs.NumElements(); ++k)
      xs.data<float>()[k] = std::sin(0.37f * (k + 11 * i));
    for (int64_t k = 0; k < ys.NumElements(); ++k)
      ys.data<float>()[k] = std::cos(0.21f * (k + 5 * i));
    const FeedList feeds = {{x, xs}, {y, ys}};
    std::vector<Tensor> out;
    absl::StatusOr<distributed::StepAgreement> a =
        step.Step(&feeds, 8, {loss}, false, &out);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return {};
    EXPECT_EQ(a->total_samples, 8);
    EXPECT_EQ(out.size(), 1u);
    if (!out.empty()) {
      EXPECT_NE(out[0].buffer()->allocator()->kind(), MemoryKind::kDevice);
      EXPECT_TRUE(std::isfinite(out[0].scalar<float>()));
    }
  }
  std::vector<Tensor> values;
  for (const Variable& v : {w, b}) {
    absl::StatusOr<Tensor> t = session.ReadVariable(v);
    EXPECT_TRUE(t.ok()) << t.status();
    values.push_back(ToHost(so.devices->devices()[1]->context(), *t));
  }
  return values;
}

TEST(NcclDataParallelStepTest, NcclStepsMatchTheHostPath) {
  SKIP_WITHOUT_NCCL_GPU();
  std::string via_nccl, via_mpi;
  const std::vector<Tensor> nccl = TrainSteps(true, 5, &via_nccl);
  const std::vector<Tensor> mpi = TrainSteps(false, 5, &via_mpi);
  EXPECT_EQ(via_nccl, "nccl");
  EXPECT_EQ(via_mpi, "mpi");
  ASSERT_EQ(nccl.size(), 2u);
  ASSERT_EQ(mpi.size(), 2u);
  const Tensor w0 = Ramp({20, 4}, -0.3f);
  float moved = 0;
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(nccl[i].shape(), mpi[i].shape());
    for (int64_t k = 0; k < nccl[i].NumElements(); ++k) {
      ASSERT_NEAR(nccl[i].data<float>()[k], mpi[i].data<float>()[k], 1e-5f)
          << i << " at " << k;
      if (i == 0)
        moved += std::fabs(nccl[0].data<float>()[k] - w0.data<float>()[k]);
    }
  }
  EXPECT_GT(moved, 1e-3f) << "the steps did not train";
}

}  // namespace
}  // namespace sluice
