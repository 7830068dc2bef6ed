// graph.train.mlp.cpu: one SGD step of a 784-256-10 MLP (ReLU, sparse
// softmax cross-entropy, mean over a batch of 128) run through the graph
// Session: forward, the backward graph Gradients built, GradientDescent
// updates. graph.baseline.eigen_mlp does the same math as a hand-written
// Eigen loop (same GEMM kernels, no graph), so the ratio is the Session's
// cost. Items are samples.
//
// graph.session.step_overhead: ~50 cheap nodes on [4] float tensors (a
// chain of Add/Mul/Relu, a few parallel branches, an AssignAdd on a
// variable), run with the same fetch and target every step, so the time is
// the Session's per-run and per-node host cost. Items are steps; the label
// gives microseconds per node.

#include <Eigen/Core>
#include <random>

#include "absl/strings/str_cat.h"
#include "bench/harness.h"
#include "benchmark/benchmark.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"
#include "graph/ops/state_ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

constexpr int kBatch = 128, kIn = 784, kHidden = 256, kOut = 10;
constexpr float kLr = 0.05f;

struct Batch {
  Tensor x, labels;
};

Batch MakeBatch() {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Batch b{Tensor(DType::kFloat32, {kBatch, kIn}), Tensor(DType::kInt64, {kBatch})};
  for (float& v : b.x.flat<float>()) v = u(rng);
  for (int i = 0; i < kBatch; ++i) b.labels.flat<int64_t>()[i] = i % kOut;
  return b;
}

void BM_GraphMlp(benchmark::State& state) {
  Graph g;
  Scope root = Scope::Root(&g);
  g.set_seed(3);
  Output x = ops::Placeholder(root, DType::kFloat32, {-1, kIn});
  Output y = ops::Placeholder(root, DType::kInt64, {-1});
  Variable w1 = GetVariable(root, "w1", {kIn, kHidden});
  Variable b1 = GetVariable(root, "b1", {kHidden}, {.initializer = ZerosInitializer()});
  Variable w2 = GetVariable(root, "w2", {kHidden, kOut});
  Variable b2 = GetVariable(root, "b2", {kOut}, {.initializer = ZerosInitializer()});
  Output h = ops::Relu(root, ops::BiasAdd(root, ops::MatMul(root, x, w1), b1));
  Output logits = ops::BiasAdd(root, ops::MatMul(root, h, w2), b2);
  Output loss = ops::ReduceMean(root, ops::SparseSoftmaxCrossEntropyWithLogits(root, y, logits).loss);
  GradientDescentOptimizer opt(kLr);
  auto train = opt.Minimize(root, loss);
  if (!train.ok()) {
    state.SkipWithError(std::string(train.status().message()).c_str());
    return;
  }
  Session sess(&g);
  if (!sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok()) {
    state.SkipWithError("init failed");
    return;
  }
  Batch b = MakeBatch();
  FeedList feeds = {{x, b.x}, {y, b.labels}};
  std::vector<Tensor> out;
  if (!sess.Run(feeds, {loss}, &out).ok()) {
    state.SkipWithError("loss failed");
    return;
  }
  const float initial_loss = out[0].scalar<float>();
  for (auto _ : state) {
    absl::Status s = sess.Run(feeds, {}, {*train}, nullptr);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  // The model must have learned something from the repeated batch.
  if (!sess.Run(feeds, {loss}, &out).ok() || !(out[0].scalar<float>() < initial_loss)) {
    state.SkipWithError("graph MLP did not reduce the loss");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_EigenMlp(benchmark::State& state) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Vec = Eigen::RowVectorXf;
  std::mt19937 rng(3);
  auto glorot = [&](int in, int out) {
    std::uniform_real_distribution<float> u(-std::sqrt(6.f / (in + out)), std::sqrt(6.f / (in + out)));
    Mat m(in, out);
    for (int i = 0; i < m.size(); ++i) m.data()[i] = u(rng);
    return m;
  };
  Mat w1 = glorot(kIn, kHidden), w2 = glorot(kHidden, kOut);
  Vec b1 = Vec::Zero(kHidden), b2 = Vec::Zero(kOut);
  Batch b = MakeBatch();
  Eigen::Map<const Mat> x(b.x.data<float>(), kBatch, kIn);
  const int64_t* labels = b.labels.data<int64_t>();
  Mat h(kBatch, kHidden), logits(kBatch, kOut), d(kBatch, kOut), dh(kBatch, kHidden);
  Mat dw1(kIn, kHidden), dw2(kHidden, kOut);
  float loss = 0, first_loss = -1;
  for (auto _ : state) {
    h.noalias() = x * w1;
    h.rowwise() += b1;
    h = h.cwiseMax(0.f);
    logits.noalias() = h * w2;
    logits.rowwise() += b2;
    loss = 0;
    for (int i = 0; i < kBatch; ++i) {
      const float m = logits.row(i).maxCoeff();
      auto e = (logits.row(i).array() - m).exp();
      const float sum = e.sum();
      d.row(i) = e / sum;
      loss += std::log(sum) + m - logits(i, labels[i]);
      d(i, labels[i]) -= 1.f;
    }
    if (first_loss < 0) first_loss = loss;
    d /= static_cast<float>(kBatch);
    dw2.noalias() = h.transpose() * d;
    dh.noalias() = d * w2.transpose();
    dh = (h.array() > 0.f).select(dh, 0.f);
    dw1.noalias() = x.transpose() * dh;
    w2 -= kLr * dw2;
    b2 -= kLr * d.colwise().sum();
    w1 -= kLr * dw1;
    b1 -= kLr * dh.colwise().sum();
    benchmark::DoNotOptimize(w1.data());
  }
  if (state.iterations() > 1 && !(loss < first_loss)) state.SkipWithError("Eigen MLP did not reduce the loss");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_StepOverhead(benchmark::State& state) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Const(root, {0.5f, -1.f, 2.f, -0.25f});
  Output c = ops::Const(root, {1.f, 1.f, 1.f, 1.f});
  Output half = ops::Const(root, {0.5f, 0.5f, 0.5f, 0.5f});
  // Three independent branches of three nodes each, joined into the chain.
  std::vector<Output> branches;
  for (int b = 0; b < 3; ++b) {
    Output t = ops::Mul(root, ops::Relu(root, ops::Add(root, x, c)), half);
    branches.push_back(t);
  }
  Output h = ops::Add(root, ops::Add(root, branches[0], branches[1]), branches[2]);
  for (int i = 0; i < 11; ++i) {
    h = ops::Relu(root, ops::Mul(root, ops::Add(root, h, c), half));
  }
  Variable v = GetVariable(root, "acc", {4}, {.initializer = ZerosInitializer()});
  Output update = ops::AssignAdd(root, v, h);
  if (!root.status().ok()) {
    state.SkipWithError(std::string(root.status().message()).c_str());
    return;
  }
  Session sess(&g);
  if (!sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok()) {
    state.SkipWithError("init failed");
    return;
  }
  std::vector<Tensor> out;
  RunMetadata meta;
  if (!sess.Run(RunOptions{}, {}, {h}, {update.op()}, &out, &meta).ok()) {
    state.SkipWithError("first run failed");
    return;
  }
  const int64_t nodes = meta.nodes_executed;
  for (auto _ : state) {
    absl::Status s = sess.Run(RunOptions{}, {}, {h}, {update.op()}, &out);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  benchmark::DoNotOptimize(out.data());
  state.SetItemsProcessed(state.iterations());
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["us_per_node"] = benchmark::Counter(
      static_cast<double>(state.iterations() * nodes) / 1e6,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(absl::StrCat(nodes, " nodes"));
}

}  // namespace
}  // namespace sluice

BENCHMARK(sluice::BM_GraphMlp)->Name("graph.train.mlp.cpu")->UseRealTime();
BENCHMARK(sluice::BM_StepOverhead)->Name("graph.session.step_overhead")->UseRealTime();
BENCHMARK(sluice::BM_EigenMlp)->Name("graph.baseline.eigen_mlp")->UseRealTime();
SLUICE_BENCH_BASELINE("graph.train.mlp.cpu", "graph.baseline.eigen_mlp");
