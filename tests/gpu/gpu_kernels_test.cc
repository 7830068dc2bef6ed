// GPU kernels against their CPU kernels on fresh random inputs (never
// zeros), gradients through both, and a short GPU training run. Every test
// skips when no CUDA device is visible.

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "cli/convert.h"
#include "core/random.h"
#include "graph/gradients/gradients.h"
#include "graph/optimizers/adam.h"
#include "graph/optimizers/training_ops.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "graph/cuda/gpu_device.h"
#include "readers/idx.h"
#include "train/trainer.h"

namespace sluice {
namespace {

#define SKIP_WITHOUT_GPU()                                          \
  if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";      \
  ASSERT_TRUE(RegisterGpuKernels().ok())

Tensor RandomTensor(const TensorShape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Random r(seed ^ static_cast<uint64_t>(
                      std::chrono::steady_clock::now().time_since_epoch().count()));
  Tensor t(DType::kFloat32, s);
  for (float& v : t.flat<float>()) {
    v = lo + (hi - lo) * static_cast<float>(r.UniformDouble());
    if (v == 0.f) v = 0.5f;
  }
  return t;
}

Tensor RandomLabels(int64_t n, int64_t classes, uint64_t seed) {
  Random r(seed);
  Tensor t(DType::kInt64, TensorShape{n});
  for (int64_t& v : t.flat<int64_t>()) v = static_cast<int64_t>(r.Uniform(classes));
  return t;
}

// Builds `body` over placeholders shaped like `inputs` in a graph placed
// on `device`, runs it and returns the fetched values (on the host).
using Body = std::function<std::vector<Output>(const Scope&, const std::vector<Output>&)>;

std::vector<Tensor> RunOn(const std::string& device, const std::vector<Tensor>& inputs,
                          const Body& body) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope s = root.WithDevice(device);
  std::vector<Output> ph;
  FeedList feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ph.push_back(ops::Placeholder(root.WithOpName("in" + std::to_string(i)), inputs[i].dtype(),
                                  inputs[i].shape()));
    feeds.push_back({ph.back(), inputs[i]});
  }
  std::vector<Output> fetch = body(s, ph);
  EXPECT_TRUE(root.ok()) << root.status();
  SessionOptions so;
  so.allow_soft_placement = false;  // every op must have a kernel on `device`
  if (device.rfind("/gpu:", 0) == 0) so.devices = *GpuDeviceSet();
  Session session(&g, so);
  std::vector<Tensor> out;
  absl::Status st = session.Run(feeds, fetch, &out);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

void ExpectNear(const std::vector<Tensor>& a, const std::vector<Tensor>& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape()) << "output " << i;
    ASSERT_EQ(a[i].dtype(), b[i].dtype()) << "output " << i;
    if (a[i].dtype() == DType::kInt64) {
      for (int64_t k = 0; k < a[i].NumElements(); ++k) {
        ASSERT_EQ(a[i].data<int64_t>()[k], b[i].data<int64_t>()[k]) << "output " << i << " at " << k;
      }
      continue;
    }
    for (int64_t k = 0; k < a[i].NumElements(); ++k) {
      const float x = a[i].data<float>()[k], y = b[i].data<float>()[k];
      ASSERT_NEAR(x, y, tol * (1.f + std::fabs(y))) << "output " << i << " at " << k;
    }
  }
}

void CompareCpuGpu(const std::vector<Tensor>& inputs, const Body& body, float tol = 1e-4f) {
  std::vector<Tensor> cpu = RunOn("/cpu:0", inputs, body);
  std::vector<Tensor> gpu = RunOn("/gpu:0", inputs, body);
  ExpectNear(gpu, cpu, tol);
}

TEST(GpuKernelsTest, ElementwiseWithBroadcastingMatchesCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({37, 19}, 1), RandomTensor({19}, 2), RandomTensor({37, 1}, 3)},
                [](const Scope& s, const std::vector<Output>& in) {
                  return std::vector<Output>{
                      ops::Add(s, in[0], in[1]), ops::Sub(s, in[0], in[2]),
                      ops::Mul(s, in[0], in[2]), ops::Div(s, in[0], ops::Add(s, in[1], 3.0f)),
                      ops::Mul(s, in[0], 0.25f), ops::Maximum(s, in[0], in[1]),
                      ops::Relu(s, in[0]), ops::ReluGrad(s, in[2], in[2])};
                });
}

TEST(GpuKernelsTest, MatMulAllTransposesMatchCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({33, 70}, 4), RandomTensor({70, 21}, 5), RandomTensor({21, 70}, 6),
                 RandomTensor({70, 33}, 7)},
                [](const Scope& s, const std::vector<Output>& in) {
                  return std::vector<Output>{
                      ops::MatMul(s, in[0], in[1]),
                      ops::MatMul(s, in[0], in[2], {.transpose_b = true}),
                      ops::MatMul(s, in[3], in[1], {.transpose_a = true}),
                      ops::MatMul(s, in[3], in[2], {.transpose_a = true, .transpose_b = true})};
                },
                1e-4f);
}

TEST(GpuKernelsTest, ReductionsSoftmaxArgMaxBiasMatchCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({41, 10}, 8), RandomTensor({10}, 9)},
                [](const Scope& s, const std::vector<Output>& in) {
                  return std::vector<Output>{
                      ops::ReduceMean(s, in[0]), ops::ReduceSum(s, in[0], std::vector<int64_t>{0}),
                      ops::ReduceSum(s, in[0], std::vector<int64_t>{1}, {.keep_dims = true}),
                      ops::Softmax(s, in[0]), ops::LogSoftmax(s, in[0]), ops::ArgMax(s, in[0], 1),
                      ops::BiasAdd(s, in[0], in[1]), ops::BiasAddGrad(s, in[0]),
                      ops::Cast(s, ops::Cast(s, ops::Mul(s, in[0], 100.0f), DType::kInt32),
                                DType::kFloat32)};
                });
}

TEST(GpuKernelsTest, SparseCrossEntropyLossAndBackpropMatchCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({64, 10}, 10, -4.f, 4.f), RandomLabels(64, 10, 11)},
                [](const Scope& s, const std::vector<Output>& in) {
                  auto x = ops::SparseSoftmaxCrossEntropyWithLogits(s, in[1], in[0]);
                  return std::vector<Output>{x.loss, x.backprop};
                });
}

TEST(GpuKernelsTest, ConvAndPoolForwardAndGradientsMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (const char* padding : {"SAME", "VALID"}) {
    CompareCpuGpu(
        {RandomTensor({3, 9, 8, 4}, 12), RandomTensor({3, 3, 4, 5}, 13)},
        [padding](const Scope& s, const std::vector<Output>& in) {
          Output y = ops::Conv2D(s, in[0], in[1], {1, 2, 1, 1}, padding);
          Output p = ops::MaxPool(s, y, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
          Output loss = ops::ReduceSum(s, ops::Mul(s, p, p));
          auto g = Gradients(s, {loss}, {in[0], in[1]});
          EXPECT_TRUE(g.ok()) << g.status();
          return std::vector<Output>{y, p, (*g)[0], (*g)[1]};
        },
        2e-4f);
  }
}

TEST(GpuKernelsTest, MlpLossGradientsAndMomentumUpdateMatchCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({32, 50}, 14, 0.f, 1.f), RandomTensor({50, 16}, 15),
                 RandomTensor({16}, 16), RandomTensor({16, 10}, 17), RandomLabels(32, 10, 18)},
                [](const Scope& s, const std::vector<Output>& in) {
                  Output h = ops::Relu(s, ops::BiasAdd(s, ops::MatMul(s, in[0], in[1]), in[2]));
                  Output logits = ops::MatMul(s, h, in[3]);
                  Output loss = ops::ReduceMean(
                      s, ops::SparseSoftmaxCrossEntropyWithLogits(s, in[4], logits).loss);
                  auto g = Gradients(s, {loss}, {in[1], in[2], in[3]});
                  EXPECT_TRUE(g.ok()) << g.status();
                  return std::vector<Output>{loss, (*g)[0], (*g)[1], (*g)[2]};
                });
}

TEST(GpuKernelsTest, UnaryOpsMatchCpu) {
  SKIP_WITHOUT_GPU();
  CompareCpuGpu({RandomTensor({37, 19}, 19, 0.1f, 2.f)},
                [](const Scope& s, const std::vector<Output>& in) {
                  return std::vector<Output>{ops::Sqrt(s, in[0]), ops::Rsqrt(s, in[0]),
                                             ops::Square(s, in[0]), ops::Neg(s, in[0])};
                });
}

// Three Adam steps and three plain SGD steps with a learning rate computed
// on the device, from a constant gradient (the optimizer gates its updates
// on the gradient ops, so the gradient cannot be a fed placeholder): the
// weights after them, per device.
// Returns the placement log too.
std::vector<Tensor> OptimizerSteps(const std::string& device, const Tensor& w0, const Tensor& grad,
                                   std::vector<std::string>* placements) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope s = root.WithDevice(device);
  Output gp = ops::Const(s.WithOpName("grad"), grad);
  Variable wa = NewVariable(s, w0, {.name = "wa"});
  Variable ws = NewVariable(s, w0, {.name = "ws"});
  AdamOptimizer adam(0.01);
  auto adam_op = adam.ApplyGradients(s, {{gp, wa}});
  EXPECT_TRUE(adam_op.ok()) << adam_op.status();
  // A learning rate produced by a GPU kernel: a device scalar.
  Output lr = ops::Mul(s, ops::Const(s, 0.5f), 0.2f);
  Output sgd = ops::ApplyGradientDescent(s.WithOpName("sgd"), ws, lr, gp);
  EXPECT_TRUE(root.ok()) << root.status();
  SessionOptions so;
  so.allow_soft_placement = true;  // initializers may fall back to the CPU
  so.log_device_placement = true;
  so.log_sink = [](std::string_view) {};
  if (device == "/gpu:0") so.devices = *GpuDeviceSet();
  Session session(&g, so);
  EXPECT_TRUE(session.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  for (int i = 0; i < 3; ++i) {
    absl::Status st = session.Run({}, {}, {*adam_op, sgd.op()}, nullptr);
    EXPECT_TRUE(st.ok()) << st;
  }
  std::vector<Tensor> out;
  EXPECT_TRUE(session.Run({}, {wa.value(), ws.value()}, &out).ok());
  *placements = session.placement_log();
  return out;
}

TEST(GpuKernelsTest, AdamAndDeviceLearningRateUpdatesRunOnTheGpuAndMatchCpu) {
  SKIP_WITHOUT_GPU();
  const Tensor w0 = RandomTensor({16, 8}, 20), grad = RandomTensor({16, 8}, 21);
  std::vector<std::string> cpu_log, gpu_log;
  std::vector<Tensor> cpu = OptimizerSteps("/cpu:0", w0, grad, &cpu_log);
  std::vector<Tensor> gpu = OptimizerSteps("/gpu:0", w0, grad, &gpu_log);
  ExpectNear(gpu, cpu, 1e-5f);
  // Adam's element-wise update must not bounce through the host.
  int checked = 0;
  for (const std::string& line : gpu_log) {
    for (const char* type : {"(Sqrt)", "(Square)", "(AssignSub)", "(ApplyGradientDescent)"}) {
      if (line.find(type) != std::string::npos) {
        EXPECT_NE(line.find("GPU"), std::string::npos) << line;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 4);
}

TEST(GpuKernelsTest, CudaErrorsAreStatusesNamingTheOp) {
  SKIP_WITHOUT_GPU();
  Graph g;
  Scope root = Scope::Root(&g);
  Scope s = root.WithDevice("/gpu:0");
  Output a = ops::Placeholder(root, DType::kFloat32, TensorShape{-1, -1});
  Output b = ops::Placeholder(root, DType::kFloat32, TensorShape{-1, -1});
  Output y = ops::MatMul(s.WithOpName("bad_matmul"), a, b);
  SessionOptions so;
  so.devices = *GpuDeviceSet();
  Session session(&g, so);
  std::vector<Tensor> out;
  absl::Status st = session.Run({{a, RandomTensor({3, 4}, 1)}, {b, RandomTensor({5, 2}, 2)}}, {y}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bad_matmul"), std::string::npos) << st;
}

// Images whose class is written into them (a bright band at rows 2k, 2k+1
// plus noise): an MLP must learn them almost perfectly in two epochs.
void WriteSyntheticIdx(const std::string& dir, const std::string& name, int n, uint64_t seed) {
  Random r(seed);
  IdxArray images{IdxType::kUInt8, {n, 28, 28}, std::string(n * 784, '\0')};
  IdxArray labels{IdxType::kUInt8, {n}, std::string(n, '\0')};
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(r.Uniform(10));
    labels.data[i] = static_cast<char>(k);
    for (int p = 0; p < 784; ++p) {
      const int row = p / 28;
      int v = static_cast<int>(r.Uniform(90));
      if (row / 2 == k) v += 150;
      images.data[i * 784 + p] = static_cast<char>(v);
    }
  }
  std::ofstream(dir + "/" + name + "-images-idx3-ubyte", std::ios::binary) << EncodeIdx(images);
  std::ofstream(dir + "/" + name + "-labels-idx1-ubyte", std::ios::binary) << EncodeIdx(labels);
}

TEST(GpuTrainingTest, ShortMlpTrainingOnTheGpuReachesTargetAccuracy) {
  SKIP_WITHOUT_GPU();
  const std::string dir = (std::filesystem::temp_directory_path() / ("sluice_gpu_train_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  WriteSyntheticIdx(dir, "train", 6000, 1);
  WriteSyntheticIdx(dir, "t10k", 1000, 2);
  auto tr = cli::ConvertIdx({dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte", dir + "/data", 2, Compression::kGzip, "train"});
  auto te = cli::ConvertIdx({dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte", dir + "/data", 1, Compression::kGzip, "test"});
  ASSERT_TRUE(tr.ok()) << tr.status();
  ASSERT_TRUE(te.ok()) << te.status();
  train::TrainOptions o;
  o.device = "gpu";
  o.epochs = 2;
  o.batch_size = 100;
  o.train = {tr->files, tr->records, tr->compression};
  o.test = {te->files, te->records, te->compression};
  o.logdir = dir + "/run";
  auto r = train::Train(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->device, "gpu");
  EXPECT_GE(r->test_accuracy, 0.95);
  // Resuming after the last epoch restores host copies of GPU variables
  // and evaluates the same model.
  o.resume = true;
  o.epochs = 3;
  auto r2 = train::Train(o);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->epochs, 3);
  EXPECT_GE(r2->test_accuracy, 0.95);
  std::filesystem::remove_all(dir);
}

// Several GPUs: "/gpu:N" runs on device N (every visible GPU), and a
// Session given no devices places an op with a GPU kernel on GPU:0 and
// logs it as TensorFlow does.
TEST(GpuKernelsTest, SlashGpuNRunsOnDeviceNAndADefaultSessionUsesGpu0) {
  SKIP_WITHOUT_GPU();
  const Tensor a = RandomTensor({64, 32}, 1), b = RandomTensor({32, 16}, 2);
  const Body mm = [](const Scope& s, const std::vector<Output>& in) {
    return std::vector<Output>{ops::MatMul(s, in[0], in[1])};
  };
  const std::vector<Tensor> cpu = RunOn("/cpu:0", {a, b}, mm);
  for (int n = 0; n < GpuDeviceCount(); ++n) {
    ExpectNear(RunOn(absl::StrCat("/gpu:", n), {a, b}, mm), cpu, 1e-4f);
  }
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, a.shape());
  Output y = ops::Placeholder(root.WithOpName("y"), DType::kFloat32, b.shape());
  Output prod = ops::MatMul(root.WithOpName("prod"), x, y);
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> log;
  SessionOptions so;
  so.log_device_placement = true;
  so.log_sink = [&log](std::string_view l) { log.emplace_back(l); };
  Session session(&g, so);
  std::vector<Tensor> out;
  ASSERT_TRUE(session.Run({{x, a}, {y, b}}, {prod}, &out).ok());
  ExpectNear(out, cpu, 1e-4f);
  EXPECT_THAT(log, ::testing::Contains(
                       "prod: (MatMul): /job:localhost/replica:0/task:0/device:GPU:0"));
}

}  // namespace
}  // namespace sluice
