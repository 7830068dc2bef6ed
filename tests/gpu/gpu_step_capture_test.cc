// Step capture (SessionOptions::capture_device_steps) on a CUDA device: a
// momentum-SGD MLP step recorded as a CUDA graph and replayed must compute
// what ordinary runs compute, step after step, including after a variable
// is reassigned from the host and when the batch shape changes; and the
// recording must actually be used (capture_stats).

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"
#include "graph/ops/ops.h"
#include "graph/optimizers/adam.h"
#include "graph/optimizers/momentum.h"
#include "graph/session.h"
#include "graph/cuda/gpu_device.h"
#include "pipeline/prefetch/device_prefetcher.h"

namespace sluice {
namespace {

#define SKIP_WITHOUT_GPU()                                     \
  if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  ASSERT_TRUE(RegisterGpuKernels().ok())

Tensor Uniform(const TensorShape& s, uint64_t seed, float lo, float hi) {
  Random r(seed);
  Tensor t(DType::kFloat32, s);
  for (float& v : t.flat<float>())
    v = lo + (hi - lo) * static_cast<float>(r.UniformDouble());
  return t;
}

Tensor Labels(int64_t n, uint64_t seed) {
  Random r(seed);
  Tensor t(DType::kInt64, TensorShape{n});
  for (int64_t& v : t.flat<int64_t>()) v = static_cast<int64_t>(r.Uniform(10));
  return t;
}

// One training setup: x [B,64] -> 32 relu -> 10, sparse softmax loss,
// momentum (or Adam) on /gpu:0, global_step on the CPU (a host node in the
// same run, as in `sluice train`).
struct Model {
  Graph g;
  Output x, y, loss;
  Operation train;
  Variable w1, b1, w2, step;
  std::unique_ptr<Session> session;

  Model(bool capture, bool adam) {
    Scope root = Scope::Root(&g);
    Scope s = root.WithDevice("/gpu:0");
    x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32,
                         TensorShape{-1, 64});
    y = ops::Placeholder(root.WithOpName("y"), DType::kInt64, TensorShape{-1});
    w1 = NewVariable(s, Uniform({64, 32}, 1, -0.2f, 0.2f), {.name = "w1"});
    b1 = NewVariable(s, Uniform({32}, 2, -0.1f, 0.1f), {.name = "b1"});
    w2 = NewVariable(s, Uniform({32, 10}, 3, -0.2f, 0.2f), {.name = "w2"});
    step = NewVariable(root.WithDevice("/cpu:0"), Tensor::Scalar<int64_t>(0),
                       {.name = "global_step", .trainable = false});
    Output h = ops::Relu(
        s, ops::BiasAdd(s, ops::MatMul(s, ops::Mul(s, x, 0.5f), w1.value()),
                        b1.value()));
    Output logits = ops::MatMul(s, h, w2.value());
    loss = ops::ReduceMean(
        s.WithOpName("loss"),
        ops::SparseSoftmaxCrossEntropyWithLogits(s, y, logits).loss);
    std::unique_ptr<Optimizer> opt;
    if (adam) {
      opt = std::make_unique<AdamOptimizer>(0.01);
    } else {
      opt = std::make_unique<MomentumOptimizer>(0.1, 0.9);
    }
    auto t =
        opt->Minimize(s, loss, {.var_list = {w1, b1, w2}, .global_step = step});
    EXPECT_TRUE(t.ok()) << t.status();
    train = *t;
    EXPECT_TRUE(root.ok()) << root.status();
    SessionOptions so;
    so.allow_soft_placement = true;
    so.capture_device_steps = capture;
    so.log_sink = [](std::string_view) {};
    so.devices = *GpuDeviceSet();
    session = std::make_unique<Session>(&g, so);
    EXPECT_TRUE(
        session->Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  }
  DeviceContext* gpu() const {
    return session->options().devices->devices()[1]->context();
  }

  // A step fed with device tensors (as the trainer's prefetcher gives
  // them); returns the loss when asked (a fetch), else NaN.
  float Step(const Tensor& xs, const Tensor& ys, bool fetch) {
    auto dx = gpu()->CopyToDevice(xs);
    auto dy = gpu()->CopyToDevice(ys);
    EXPECT_TRUE(dx.ok() && dy.ok());
    return StepOn(*dx, *dy, fetch);
  }
  float StepOn(const Tensor& dx, const Tensor& dy, bool fetch) {
    std::vector<Tensor> out;
    absl::Status st =
        session->Run({{x, dx}, {y, dy}},
                     fetch ? std::vector<Output>{loss} : std::vector<Output>{},
                     {train}, &out);
    EXPECT_TRUE(st.ok()) << st;
    return fetch && st.ok() ? out[0].scalar<float>() : NAN;
  }
  std::vector<Tensor> Weights() {
    std::vector<Tensor> out;
    EXPECT_TRUE(
        session
            ->Run({}, {w1.value(), b1.value(), w2.value(), step.value()}, &out)
            .ok());
    return out;
  }
};

void ExpectSameWeights(const std::vector<Tensor>& a,
                       const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    ASSERT_EQ(a[i].NumElements(), b[i].NumElements());
    for (int64_t k = 0; k < a[i].NumElements(); ++k) {
      ASSERT_NEAR(a[i].data<float>()[k], b[i].data<float>()[k], 1e-4f)
          << "tensor " << i << " at " << k;
    }
  }
  EXPECT_EQ(a.back().scalar<int64_t>(), b.back().scalar<int64_t>());
}

// Runs `steps` steps on both models from the same batches, fetching (and
// comparing) the loss every `fetch_every` steps (0: never; the steps then
// use one run signature).
void Train(Model* captured, Model* eager, int steps, int64_t batch,
           uint64_t seed, int fetch_every = 3) {
  for (int i = 0; i < steps; ++i) {
    const Tensor xs = Uniform({batch, 64}, seed + i, 0.f, 1.f),
                 ys = Labels(batch, seed + 1000 + i);
    const bool fetch = fetch_every > 0 && i % fetch_every == 0;
    const float lc = captured->Step(xs, ys, fetch),
                le = eager->Step(xs, ys, fetch);
    if (fetch) {
      ASSERT_TRUE(std::isfinite(lc));
      ASSERT_NEAR(lc, le, 1e-4f) << "step " << i;
    }
  }
}

TEST(GpuStepCaptureTest, ReplayedStepsMatchOrdinaryRuns) {
  SKIP_WITHOUT_GPU();
  Model captured(true, false), eager(false, false);
  Train(&captured, &eager, 20, 128, 100);
  ExpectSameWeights(captured.Weights(), eager.Weights());
  EXPECT_EQ(captured.Weights().back().scalar<int64_t>(),
            20);  // the host node ran every step
  // Two run signatures (with and without the loss fetch), each recorded
  // after two ordinary runs; variables are updated in place by both, so
  // neither invalidates the other's recording.
  const CaptureStats cs = captured.session->capture_stats();
  EXPECT_EQ(cs.failures, 0) << cs.last_failure;
  EXPECT_EQ(cs.captures, 2);
  EXPECT_EQ(cs.replays, 16);
  EXPECT_EQ(eager.session->capture_stats().replays, 0);
}

TEST(GpuStepCaptureTest, AssignedVariablesAndNewShapesAreRecordedAgain) {
  SKIP_WITHOUT_GPU();
  Model captured(true, false), eager(false, false);
  // One run signature: 2 ordinary runs, a recording (its first launch)
  // and 5 replays.
  Train(&captured, &eager, 8, 128, 200, 0);
  // A host value replaces a variable (as a checkpoint restore does): the
  // next run sees the variable's memory changed and starts over.
  const Tensor w2 = Uniform({32, 10}, 9, -0.3f, 0.3f);
  ASSERT_TRUE(captured.session->AssignVariable(captured.w2, w2).ok());
  ASSERT_TRUE(eager.session->AssignVariable(eager.w2, w2).ok());
  Train(&captured, &eager, 8, 128, 300, 0);
  ExpectSameWeights(captured.Weights(), eager.Weights());
  // A smaller batch (the last of an epoch), then the usual size again.
  Train(&captured, &eager, 5, 40, 400, 0);
  Train(&captured, &eager, 6, 128, 500, 0);
  ExpectSameWeights(captured.Weights(), eager.Weights());
  const CaptureStats cs = captured.session->capture_stats();
  EXPECT_EQ(cs.failures, 0) << cs.last_failure;
  EXPECT_EQ(cs.captures, 4);
  EXPECT_EQ(cs.replays, 6 + 6 + 3 + 4);
}

// The staging op on CUDA: batches staged by a DevicePrefetcher on the
// session's GPU are read in place by the recorded step (one recording per
// staging slot, no feed copy) and give what ordinary runs give.
TEST(GpuStepCaptureTest, StagedBatchesAreReadInPlace) {
  SKIP_WITHOUT_GPU();
  Model captured(true, false), eager(false, false);
  constexpr int kSteps = 16, kDepth = 3;
  constexpr int64_t kBatch = 128;
  auto next = std::make_shared<int>(0);
  BatchSource source = [next](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    const int i = (*next)++;
    if (i >= kSteps) return absl::OutOfRangeError("done");
    return TensorTuple{Uniform({kBatch, 64}, 700 + i, 0.f, 1.f), Labels(kBatch, 1700 + i)};
  };
  DevicePrefetchOptions po;
  po.depth = kDepth;
  po.device = captured.gpu();
  auto prefetch = DevicePrefetcher::Create(source, po);
  ASSERT_TRUE(prefetch.ok()) << prefetch.status();
  for (int i = 0; i < kSteps; ++i) {
    auto b = (*prefetch)->Next(WaitOptions::Timeout(absl::Seconds(60)));
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(IsStagingSlot(b->tensors[0]));
    ASSERT_TRUE(captured.gpu()->WaitFor(*b->ready).ok());
    captured.StepOn(b->tensors[0], b->tensors[1], false);
    eager.Step(Uniform({kBatch, 64}, 700 + i, 0.f, 1.f), Labels(kBatch, 1700 + i), false);
  }
  ExpectSameWeights(captured.Weights(), eager.Weights());
  const CaptureStats cs = captured.session->capture_stats();
  EXPECT_EQ(cs.failures, 0) << cs.last_failure;
  EXPECT_EQ(cs.captures, kDepth);
  EXPECT_EQ(cs.replays, kSteps - 2);
  prefetch->reset();
}

TEST(GpuStepCaptureTest, AdamStepsMatchOrdinaryRuns) {
  SKIP_WITHOUT_GPU();
  Model captured(true, true), eager(false, true);
  Train(&captured, &eager, 12, 64, 600);
  ExpectSameWeights(captured.Weights(), eager.Weights());
  const CaptureStats cs = captured.session->capture_stats();
  // Adam's composed update either records in place or falls back; both
  // must give the same numbers. Report which.
  std::printf("adam: captures %lld replays %lld failures %lld (%s)\n",
              static_cast<long long>(cs.captures),
              static_cast<long long>(cs.replays),
              static_cast<long long>(cs.failures), cs.last_failure.c_str());
}

}  // namespace
}  // namespace sluice
