// Op builders through a Session: shape inference, dtype handling of
// literals, and results of the composite ops.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;

template <typename T>
std::vector<T> V(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

class OpsTest : public ::testing::Test {
 protected:
  std::vector<Tensor> Run(const std::vector<Output>& fetches, const FeedList& feeds = {}) {
    EXPECT_TRUE(root_.ok()) << root_.status();
    std::vector<Tensor> out;
    absl::Status st = session_.Run(feeds, fetches, &out);
    EXPECT_TRUE(st.ok()) << st;
    return out;
  }
  Graph g_;
  Scope root_ = Scope::Root(&g_);
  Session session_{&g_};
};

TEST_F(OpsTest, ShapeInferenceKeepsUnknownBatch) {
  Output x = ops::Placeholder(root_, DType::kFloat32, {-1, 784});
  Output w = ops::Const(root_, 0.0f, DType::kFloat32, {784, 10});
  Output logits = ops::MatMul(root_, x, w);
  EXPECT_EQ(logits.shape(), TensorShape({-1, 10}));
  Output biased = ops::BiasAdd(root_, logits, ops::Const(root_, 0.0f, DType::kFloat32, {10}));
  EXPECT_EQ(biased.shape(), TensorShape({-1, 10}));
  EXPECT_EQ(ops::ReduceSum(root_, biased, std::vector<int64_t>{1}).shape(), TensorShape({-1}));
  EXPECT_EQ(ops::ReduceMean(root_, biased).shape(), TensorShape({}));
  EXPECT_EQ(ops::ArgMax(root_, biased, 1).shape(), TensorShape({-1}));
  EXPECT_EQ(ops::Reshape(root_, ops::Const(root_, 0.0f, DType::kFloat32, {4, 6}), {-1, 3}).shape(),
            TensorShape({8, 3}));
  Output img = ops::Placeholder(root_, DType::kFloat32, {-1, 28, 28, 1});
  Output conv = ops::Conv2D(root_, img, ops::Const(root_, 0.0f, DType::kFloat32, {5, 5, 1, 32}),
                            {1, 1, 1, 1}, "SAME");
  EXPECT_EQ(conv.shape(), TensorShape({-1, 28, 28, 32}));
  EXPECT_EQ(ops::MaxPool(root_, conv, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME").shape(),
            TensorShape({-1, 14, 14, 32}));
  ASSERT_TRUE(root_.ok()) << root_.status();
  // Incompatible static shapes fail at build time.
  ops::MatMul(root_, x, ops::Const(root_, 0.0f, DType::kFloat32, {10, 10}));
  EXPECT_EQ(root_.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OpsTest, LiteralsTakeTheOtherOperandsDtype) {
  Output d = ops::Const(root_, Tensor::Scalar<double>(1.5));
  Output sum = ops::Add(root_, d, 2);  // int literal -> double
  EXPECT_EQ(sum.dtype(), DType::kFloat64);
  Output i = ops::Const(root_, 3);
  Output prod = ops::Mul(root_, i, 4);
  EXPECT_EQ(prod.dtype(), DType::kInt32);
  auto out = Run({sum, prod});
  EXPECT_EQ(out[0].scalar<double>(), 3.5);
  EXPECT_EQ(out[1].scalar<int32_t>(), 12);
  // Mismatched non-literal dtypes are an error naming both.
  ops::Add(root_, d, i);
  EXPECT_EQ(root_.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OpsTest, AccuracyAsInTheSeedsMnistProgram) {
  // accr = mean(cast(equal(argmax(actv, 1), argmax(y, 1)), float))
  Output actv = ops::Softmax(root_, ops::Const(root_, {{1.0f, 3.0f}, {5.0f, 0.0f}, {0.0f, 1.0f}}));
  Output y = ops::Const(root_, {{0.0f, 1.0f}, {0.0f, 1.0f}, {0.0f, 1.0f}});
  Output correct = ops::Equal(root_, ops::ArgMax(root_, actv, 1), ops::ArgMax(root_, y, 1));
  Output accr = ops::ReduceMean(root_, ops::Cast(root_, correct, DType::kFloat32));
  // cost = mean(-sum(y * log(actv), 1))
  Output cost = ops::ReduceMean(
      root_, ops::Neg(root_, ops::ReduceSum(root_, ops::Mul(root_, y, ops::Log(root_, actv)),
                                            std::vector<int64_t>{1})));
  auto out = Run({accr, cost});
  EXPECT_FLOAT_EQ(out[0].scalar<float>(), 2.0f / 3.0f);
  const double c = (std::log(1 + std::exp(-2.0)) + std::log(1 + std::exp(5.0)) +
                    std::log(1 + std::exp(-1.0))) / 3;
  EXPECT_NEAR(out[1].scalar<float>(), c, 1e-4);
}

TEST_F(OpsTest, CrossEntropyOpsAgree) {
  Output logits = ops::Const(root_, {{2.0f, -1.0f, 0.5f}, {0.0f, 0.0f, 3.0f}});
  Output labels = ops::Const(root_, {{1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
  Output ids = ops::Const(root_, {0, 2});
  auto dense = ops::SoftmaxCrossEntropyWithLogits(root_, labels, logits);
  auto sparse = ops::SparseSoftmaxCrossEntropyWithLogits(root_, ids, logits);
  Output manual = ops::Neg(root_, ops::ReduceSum(root_, ops::Mul(root_, labels,
                                                                 ops::LogSoftmax(root_, logits)),
                                                 std::vector<int64_t>{1}));
  auto out = Run({dense.loss, sparse.loss, manual, dense.backprop});
  EXPECT_THAT(V<float>(out[0]), ::testing::Pointwise(FloatNear(1e-5), V<float>(out[2])));
  EXPECT_THAT(V<float>(out[1]), ::testing::Pointwise(FloatNear(1e-5), V<float>(out[2])));
  EXPECT_EQ(out[3].shape(), TensorShape({2, 3}));
}

TEST_F(OpsTest, SigmoidAndWeightedCrossEntropy) {
  Output x = ops::Const(root_, {-2.0f, 0.0f, 3.0f});
  Output z = ops::Const(root_, {0.0f, 1.0f, 1.0f});
  Output sce = ops::SigmoidCrossEntropyWithLogits(root_, z, x);
  Output wce = ops::WeightedCrossEntropyWithLogits(root_, z, x, 2.0);
  auto out = Run({sce, wce});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double xs[] = {-2, 0, 3}, zs[] = {0, 1, 1};
  for (int i = 0; i < 3; ++i) {
    const double p = sig(xs[i]);
    EXPECT_NEAR(out[0].data<float>()[i], -zs[i] * std::log(p) - (1 - zs[i]) * std::log(1 - p), 1e-5);
    EXPECT_NEAR(out[1].data<float>()[i], -2 * zs[i] * std::log(p) - (1 - zs[i]) * std::log(1 - p),
                1e-5);
  }
}

TEST_F(OpsTest, DropoutKeepsOrScalesEveryElement) {
  Output x = ops::Const(root_, 1.0f, DType::kFloat32, {1000});
  Output kept_all = ops::Dropout(root_, x, 1.0f);
  Output half = ops::Dropout(root_, x, 0.5f, /*seed=*/3);
  auto out = Run({kept_all, half});
  EXPECT_THAT(V<float>(out[0]), ::testing::Each(1.0f));
  int zeros = 0;
  for (float v : V<float>(out[1])) {
    EXPECT_TRUE(v == 0.0f || v == 2.0f) << v;
    zeros += v == 0.0f;
  }
  EXPECT_GT(zeros, 350);
  EXPECT_LT(zeros, 650);
}

TEST_F(OpsTest, SplitConcatOneHotSliceReshape) {
  Output x = ops::Const(root_, {{1.0f, 2.0f, 3.0f, 4.0f}, {5.0f, 6.0f, 7.0f, 8.0f}});
  std::vector<Output> halves = ops::Split(root_, 1, x, 2);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_EQ(halves[0].shape(), TensorShape({2, 2}));
  Output back = ops::Concat(root_, {halves[1], halves[0]}, 1);
  Output hot = ops::OneHot(root_, ops::Const(root_, {1, 0}), 3, 1.0f, 0.0f);
  Output sl = ops::Slice(root_, x, {0, 1}, {2, 2});
  Output re = ops::Reshape(root_, x, {-1});
  Output tr = ops::Transpose(root_, halves[0], {1, 0});
  auto out = Run({back, hot, sl, re, tr});
  EXPECT_THAT(V<float>(out[0]), ElementsAre(3, 4, 1, 2, 7, 8, 5, 6));
  EXPECT_THAT(V<float>(out[1]), ElementsAre(0, 1, 0, 1, 0, 0));
  EXPECT_THAT(V<float>(out[2]), ElementsAre(2, 3, 6, 7));
  EXPECT_EQ(out[3].shape(), TensorShape({8}));
  EXPECT_THAT(V<float>(out[4]), ElementsAre(1, 5, 2, 6));
}

TEST_F(OpsTest, ControlDependenciesOrderSideEffects) {
  Variable v = NewVariable(root_, 1.0f);
  Output doubled = ops::Assign(root_, v, ops::Mul(root_, v, 2.0f));
  // read runs after the assignment because of the control dependency.
  Output read = ops::Identity(root_.WithControlDependencies(doubled), v);
  Operation group = ops::Group(root_, {doubled.op()});
  ASSERT_TRUE(session_.Run({}, {}, {v.initializer()}, nullptr).ok());
  auto out = Run({read});
  EXPECT_EQ(out[0].scalar<float>(), 2.0f);
  ASSERT_TRUE(session_.Run({}, {}, {group}, nullptr).ok());
  EXPECT_EQ(session_.ReadVariable(v)->scalar<float>(), 4.0f);
}

TEST_F(OpsTest, GraphSeedMakesInitializersReproducible) {
  auto draw = [](int64_t graph_seed) {
    Graph g;
    g.set_seed(graph_seed);
    Scope root = Scope::Root(&g);
    Variable w = GetVariable(root, "w", {3, 4}, {.initializer = TruncatedNormalInitializer(0, 0.1)});
    Variable u = GetVariable(root, "u", {30, 40});  // default: glorot uniform
    Session s(&g);
    EXPECT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    return std::make_pair(*s.ReadVariable(w), *s.ReadVariable(u));
  };
  auto [a, au] = draw(42);
  auto [b, bu] = draw(42);
  auto [c, cu] = draw(43);
  EXPECT_TRUE(a.ContentEquals(b));
  EXPECT_FALSE(a.ContentEquals(c));
  for (float v : V<float>(a)) EXPECT_LE(std::abs(v), 0.2f);
  const float limit = std::sqrt(6.0f / 70.0f);
  for (float v : V<float>(au)) EXPECT_LE(std::abs(v), limit);
}

TEST_F(OpsTest, GetVariableReuseRules) {
  Scope layer = root_.VariableScope("layer");
  Variable w = GetVariable(layer, "w", {2});
  ASSERT_TRUE(root_.ok());
  Scope reuse = root_.VariableScope("layer", {.reuse = VariableReuse::kReuse});
  EXPECT_EQ(GetVariable(reuse, "w", {2}), w);
  Scope auto_reuse = root_.VariableScope("layer", {.reuse = VariableReuse::kAutoReuse});
  EXPECT_EQ(GetVariable(auto_reuse, "w", {2}), w);
  Variable fresh = GetVariable(auto_reuse, "b", {2});
  EXPECT_EQ(fresh.name(), "layer/b:0");
  ASSERT_TRUE(root_.ok());
  GetVariable(reuse, "missing", {2});
  EXPECT_EQ(root_.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(root_.status().message()), ::testing::HasSubstr("does not exist"));
  EXPECT_EQ(GlobalVariables(g_).size(), 2u);
}

TEST_F(OpsTest, PrintFormatsLikeNumpy) {
  std::vector<std::string> lines;
  Session s(&g_, SessionOptions{.print_sink = [&](std::string_view l) { lines.emplace_back(l); }});
  Operation p = ops::Print(root_, {"m:", ops::Const(root_, {{1, 2}, {3, 4}}), "v:",
                                   ops::Const(root_, {1.5f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f})});
  ASSERT_TRUE(s.Run({}, {}, {p}, nullptr).ok());
  EXPECT_THAT(lines, ElementsAre("m: [[1 2]\n [3 4]] v: [1.5 2 3 ... 5 6 7]"));
}

}  // namespace
}  // namespace sluice
