// Every gradient function checked against central finite differences in
// float64: for y = f(x...), the analytic d(sum(w ⊙ y))/dx with random
// weights w against (L(x + h) - L(x - h)) / 2h, element by element.

#include "graph/gradients/gradients.h"

#include <cmath>
#include <functional>
#include <optional>
#include <random>

#include "gmock/gmock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "gradient_check.h"

namespace sluice {
namespace {

using gradcheck::CheckGradients;
using gradcheck::Fn;
using gradcheck::RandomTensor;

TEST(GradientsTest, BroadcastingArithmetic) {
  Tensor a = RandomTensor({2, 3}, 1), b = RandomTensor({3}, 2), c = RandomTensor({1, 3}, 3);
  Tensor s = RandomTensor({}, 4), col = RandomTensor({2, 1}, 5);
  Tensor pos = RandomTensor({3}, 6, 0.5, 2.0);
  for (auto op : {ops::Add, ops::Sub, ops::Mul}) {
    Fn f = [op](const Scope& r, const std::vector<Output>& x) { return op(r, x[0], x[1]); };
    CheckGradients(f, {a, b});
    CheckGradients(f, {c, a});
    CheckGradients(f, {a, s});
    CheckGradients(f, {col, b});  // both sides broadcast
  }
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Div(r, x[0], x[1]); }, {a, pos});
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Div(r, x[1], x[0]); }, {pos, s});
}

TEST(GradientsTest, PowMaximumMinimumSquaredDifference) {
  Tensor base = RandomTensor({2, 3}, 7, 0.5, 2.0), expo = RandomTensor({3}, 8, -1.5, 2.5);
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Pow(r, x[0], x[1]); },
                 {base, expo}, 1e-5);
  Tensor a = RandomTensor({2, 3}, 9), b = RandomTensor({2, 3}, 10);
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Maximum(r, x[0], x[1]); }, {a, b});
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Minimum(r, x[0], x[1]); }, {a, b});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& x) { return ops::SquaredDifference(r, x[0], x[1]); },
      {a, RandomTensor({3}, 11)});
}

TEST(GradientsTest, UnaryFunctions) {
  Tensor any = RandomTensor({2, 3}, 12), pos = RandomTensor({2, 3}, 13, 0.3, 2.0);
  Tensor away = RandomTensor({2, 3}, 14, 0.2, 1.0);  // |x| away from 0 for Abs / Relu
  away.flat<double>()[1] *= -1;
  away.flat<double>()[4] *= -1;
  using U = Output (*)(const Scope&, const Input&);
  for (U op : {static_cast<U>(ops::Neg), static_cast<U>(ops::Exp), static_cast<U>(ops::Square),
               static_cast<U>(ops::Sigmoid), static_cast<U>(ops::Tanh)}) {
    CheckGradients([op](const Scope& r, const std::vector<Output>& x) { return op(r, x[0]); }, {any});
  }
  for (U op : {static_cast<U>(ops::Log), static_cast<U>(ops::Sqrt), static_cast<U>(ops::Rsqrt),
               static_cast<U>(ops::Reciprocal)}) {
    CheckGradients([op](const Scope& r, const std::vector<Output>& x) { return op(r, x[0]); }, {pos}, 1e-5);
  }
  for (U op : {static_cast<U>(ops::Abs), static_cast<U>(ops::Relu)}) {
    CheckGradients([op](const Scope& r, const std::vector<Output>& x) { return op(r, x[0]); }, {away});
  }
}

TEST(GradientsTest, MatMulEveryTransposeCombination) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      Tensor a = RandomTensor(ta ? TensorShape{4, 2} : TensorShape{2, 4}, 15);
      Tensor b = RandomTensor(tb ? TensorShape{3, 4} : TensorShape{4, 3}, 16);
      CheckGradients(
          [=](const Scope& r, const std::vector<Output>& x) { return ops::MatMul(r, x[0], x[1], {ta, tb}); },
          {a, b});
    }
  }
}

TEST(GradientsTest, Reductions) {
  Tensor x = RandomTensor({2, 3, 4}, 17);
  using R = Output (*)(const Scope&, const Input&, std::optional<std::vector<int64_t>>, ops::ReduceOptions);
  for (R op : {static_cast<R>(ops::ReduceSum), static_cast<R>(ops::ReduceMean), static_cast<R>(ops::ReduceMax),
               static_cast<R>(ops::ReduceMin)}) {
    for (std::optional<std::vector<int64_t>> axes :
         {std::optional<std::vector<int64_t>>{}, std::optional<std::vector<int64_t>>{{0}},
          std::optional<std::vector<int64_t>>{{1, 2}}, std::optional<std::vector<int64_t>>{{-1}}}) {
      for (bool keep : {false, true}) {
        CheckGradients([=](const Scope& r, const std::vector<Output>& in) { return op(r, in[0], axes, {keep}); },
                       {x});
      }
    }
  }
}

TEST(GradientsTest, MaxGradientIsSharedAmongTies) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Const(root, Tensor::FromVector<double>({1, 3, 3, 2}, {4}));
  auto grads = Gradients(root, {ops::ReduceMax(root, x)}, {x});
  ASSERT_TRUE(grads.ok());
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {(*grads)[0]}, &out).ok());
  EXPECT_TRUE(out[0].ContentEquals(Tensor::FromVector<double>({0, 0.5, 0.5, 0}, {4}))) << out[0].DebugString();
}

TEST(GradientsTest, SoftmaxFamilyAndCrossEntropies) {
  Tensor logits = RandomTensor({3, 4}, 18, -2, 2);
  Tensor labels(DType::kFloat64, {3, 4});
  Tensor raw = RandomTensor({3, 4}, 19, 0.1, 1.0);
  for (int r = 0; r < 3; ++r) {
    double sum = 0;
    for (int c = 0; c < 4; ++c) sum += raw.flat<double>()[r * 4 + c];
    for (int c = 0; c < 4; ++c) labels.flat<double>()[r * 4 + c] = raw.flat<double>()[r * 4 + c] / sum;
  }
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::Softmax(r, x[0]); }, {logits});
  CheckGradients([](const Scope& r, const std::vector<Output>& x) { return ops::LogSoftmax(r, x[0]); }, {logits});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& x) {
        return ops::SoftmaxCrossEntropyWithLogits(r, x[1], x[0]).loss;
      },
      {logits, labels});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& x) {
        Output ids = ops::Const(r, Tensor::FromVector<int64_t>({2, 0, 3}, {3}));
        return ops::SparseSoftmaxCrossEntropyWithLogits(r, ids, x[0]).loss;
      },
      {logits});
  Tensor binary = RandomTensor({3, 4}, 20, 0, 1);
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& x) { return ops::SigmoidCrossEntropyWithLogits(r, x[1], x[0]); },
      {logits, binary});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& x) {
        return ops::WeightedCrossEntropyWithLogits(r, x[1], x[0], 2.5);
      },
      {logits, binary});
}

TEST(GradientsTest, BiasAddReshapeIdentityTransposeCastAddN) {
  Tensor x = RandomTensor({2, 3}, 21), b = RandomTensor({3}, 22);
  CheckGradients([](const Scope& r, const std::vector<Output>& in) { return ops::BiasAdd(r, in[0], in[1]); }, {x, b});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::Square(r, ops::Reshape(r, ops::Identity(r, in[0]), {3, 2}));
      },
      {x});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::Mul(r, ops::Transpose(r, in[0], {1, 0}), ops::Const(r, Tensor::FromVector<double>({1, 2, 3, 4, 5, 6}, {3, 2})));
      },
      {x});
  // float64 → float64 through float32 casts keeps the path differentiable.
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::Cast(r, ops::Square(r, ops::Cast(r, in[0], DType::kFloat32)), DType::kFloat64);
      },
      {x}, 1e-3);
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::AddN(r, {in[0], ops::Square(r, in[0]), in[1]});
      },
      {x, RandomTensor({2, 3}, 23)});
}

TEST(GradientsTest, ConcatSplitSlice) {
  Tensor a = RandomTensor({2, 3}, 24), b = RandomTensor({2, 2}, 25);
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::Square(r, ops::Concat(r, {in[0], in[1]}, 1));
      },
      {a, b});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        std::vector<Output> parts = ops::Split(r, 0, in[0], 2);
        // Only part 1 used: part 0 gets a zero gradient.
        return ops::Mul(r, parts[1], 3.0f);
      },
      {RandomTensor({4, 3}, 26)});
  CheckGradients(
      [](const Scope& r, const std::vector<Output>& in) {
        return ops::Square(r, ops::Slice(r, in[0], {1, 1}, {2, -1}));
      },
      {RandomTensor({3, 4}, 27)});
}

TEST(GradientsTest, Conv2DAndMaxPool) {
  Tensor input = RandomTensor({2, 5, 5, 2}, 28), filter = RandomTensor({3, 3, 2, 3}, 29);
  for (const char* padding : {"SAME", "VALID"}) {
    for (int64_t stride : {1, 2}) {
      CheckGradients(
          [=](const Scope& r, const std::vector<Output>& in) {
            return ops::Conv2D(r, in[0], in[1], {1, stride, stride, 1}, padding);
          },
          {input, filter}, 1e-5);
    }
    CheckGradients(
        [=](const Scope& r, const std::vector<Output>& in) {
          return ops::MaxPool(r, in[0], {1, 2, 2, 1}, {1, 2, 2, 1}, padding);
        },
        {input});
  }
}

TEST(GradientsTest, DropoutGradientIsTheMaskOverKeepProb) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat64, {50});
  Output y = ops::Dropout(root, x, 0.5, /*seed=*/7);
  auto grads = Gradients(root, {ops::ReduceSum(root, y)}, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session sess(&g);
  Tensor ones(DType::kFloat64, {50});
  for (double& v : ones.flat<double>()) v = 1.0;
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({{x, ones}}, {y, (*grads)[0]}, &out).ok());
  int kept = 0;
  for (int i = 0; i < 50; ++i) {
    const double yi = out[0].flat<double>()[i];
    EXPECT_TRUE(yi == 0.0 || yi == 2.0);
    EXPECT_EQ(out[1].flat<double>()[i], yi);  // d(x·m/k)/dx = m/k = y at x = 1
    kept += yi != 0.0;
  }
  EXPECT_GT(kept, 5);
  EXPECT_LT(kept, 45);
}

TEST(GradientsTest, UnconnectedInputHasNoGradientAndStopGradientBlocks) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output a = ops::Placeholder(root, DType::kFloat64, {2});
  Output b = ops::Placeholder(root, DType::kFloat64, {2});
  Output y = ops::ReduceSum(root, ops::Add(root, ops::Square(root, a), ops::StopGradient(root, b)));
  auto grads = Gradients(root, {y}, {a, b});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_TRUE((*grads)[0].valid());
  EXPECT_FALSE((*grads)[1].valid());
}

TEST(GradientsTest, VariablesAndSharedSubexpressionsAccumulate) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, Tensor::FromVector<double>({1.5, -2.0}, {2}), {.name = "w"});
  Output sq = ops::Square(root, w);
  // y = sum(w² + 3w²) → dy/dw = 8w
  Output y = ops::ReduceSum(root, ops::Add(root, sq, ops::Mul(root, sq, 3.0)));
  auto grads = Gradients(root, {y}, {w.value()});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {(*grads)[0]}, &out).ok());
  EXPECT_TRUE(out[0].ContentEquals(Tensor::FromVector<double>({12.0, -16.0}, {2}))) << out[0].DebugString();
}

TEST(GradientsTest, OpWithoutGradientOnThePathIsNotFound) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat64, {2, 4});
  Output y = ops::ReduceSum(root, ops::BiasAddGrad(root, x));
  auto grads = Gradients(root, {y}, {x});
  EXPECT_EQ(grads.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(grads.status().message()), ::testing::HasSubstr("No gradient defined for operation"));
}

TEST(GradientsTest, ProdOverOneAxisAllAxesAndKeptDims) {
  Tensor x = RandomTensor({2, 3, 4}, 31, 0.5, 1.5);
  auto prod = [](std::optional<std::vector<int64_t>> axes, bool keep) -> Fn {
    return [axes, keep](const Scope& r, const std::vector<Output>& v) {
      return ops::ReduceProd(r, v[0], axes, {.keep_dims = keep});
    };
  };
  CheckGradients(prod(std::vector<int64_t>{1}, false), {x});
  CheckGradients(prod(std::vector<int64_t>{-1}, false), {x});
  CheckGradients(prod(std::nullopt, false), {x});
  CheckGradients(prod(std::vector<int64_t>{0, 2}, true), {x});
  CheckGradients(prod(std::vector<int64_t>{1}, true), {x});
  CheckGradients(prod(std::nullopt, true), {x});
}

// Dividing prod by x would give NaN or 0 here; the exclusive products are
// exact: with one zero only the zero's gradient is non-zero, with two zeros
// every gradient of the group is zero.
TEST(GradientsTest, ProdOfGroupsHoldingZeros) {
  Tensor x = RandomTensor({3, 4}, 32, 0.5, 1.5);
  auto xv = x.flat<double>();
  xv[1] = 0.0;               // row 0: one zero
  xv[4] = xv[7] = 0.0;       // row 1: two zeros
  Fn rows = [](const Scope& r, const std::vector<Output>& v) {
    return ops::ReduceProd(r, v[0], std::vector<int64_t>{1});
  };
  CheckGradients(rows, {x});
  CheckGradients([](const Scope& r, const std::vector<Output>& v) { return ops::ReduceProd(r, v[0]); }, {x});

  Graph g;
  Scope root = Scope::Root(&g);
  Output in = ops::Placeholder(root, DType::kFloat64, {3, 4});
  Output loss = ops::ReduceSum(root, rows(root, {in}));
  auto grads = Gradients(root, {loss}, {in});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({{in, x}}, {(*grads)[0]}, &out).ok());
  auto gv = out[0].flat<double>();
  EXPECT_DOUBLE_EQ(gv[1], xv[0] * xv[2] * xv[3]);
  EXPECT_EQ(gv[0], 0.0);
  EXPECT_EQ(gv[2], 0.0);
  for (int j = 4; j < 8; ++j) EXPECT_EQ(gv[j], 0.0) << j;
  for (int j = 8; j < 12; ++j) EXPECT_FALSE(std::isnan(gv[j]));
}

TEST(GradientsTest, ProdGradientInFloat32) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {3});
  Output loss = ops::ReduceProd(root, x);
  auto grads = Gradients(root, {loss}, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({{x, Tensor::FromVector<float>({2.0f, 0.0f, 5.0f}, {3})}}, {(*grads)[0]}, &out).ok());
  EXPECT_TRUE(out[0].ContentEquals(Tensor::FromVector<float>({0.0f, 10.0f, 0.0f}, {3}))) << out[0].DebugString();
}

Fn StridedSliceFn(StridedSliceSpec spec) {
  return [spec](const Scope& r, const std::vector<Output>& v) { return ops::StridedSlice(r, v[0], spec); };
}

TEST(GradientsTest, StridedSliceWithUnitAndLargerStrides) {
  Tensor x = RandomTensor({4, 5}, 33);
  CheckGradients(StridedSliceFn({.begin = {1, 0}, .end = {3, 4}, .strides = {1, 1}}), {x});
  CheckGradients(StridedSliceFn({.begin = {0, 1}, .end = {4, 5}, .strides = {2, 2}}), {x});
  CheckGradients(StridedSliceFn({.begin = {-3}, .end = {0}, .strides = {1}, .end_mask = 1}), {x});
  // x[2] (shrunk) and x[:, 3] via masks.
  CheckGradients(StridedSliceFn({.begin = {2}, .end = {3}, .strides = {1}, .shrink_axis_mask = 1}), {x});
  CheckGradients(StridedSliceFn({.begin = {0, 3}, .end = {0, 4}, .strides = {1, 1}, .begin_mask = 1,
                                 .end_mask = 1, .shrink_axis_mask = 2}),
                 {x});
}

TEST(GradientsTest, StridedSliceWithNegativeStride) {
  Tensor x = RandomTensor({3, 6}, 34);
  // x[:, ::-1] and x[2:0:-1, 5:0:-2]
  CheckGradients(StridedSliceFn({.begin = {0, 0}, .end = {0, 0}, .strides = {1, -1}, .begin_mask = 3,
                                 .end_mask = 3}),
                 {x});
  CheckGradients(StridedSliceFn({.begin = {2, 5}, .end = {0, 0}, .strides = {-1, -2}}), {x});
}

TEST(GradientsTest, StridedSliceGradientScattersIntoZeros) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {5});
  Output loss = ops::ReduceSum(root, ops::StridedSlice(root, x, {.begin = {4}, .end = {0}, .strides = {-3}}));
  auto grads = Gradients(root, {loss}, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({{x, Tensor::FromVector<float>({1, 2, 3, 4, 5}, {5})}}, {(*grads)[0]}, &out).ok());
  EXPECT_TRUE(out[0].ContentEquals(Tensor::FromVector<float>({0, 1, 0, 0, 1}, {5}))) << out[0].DebugString();
}

}  // namespace
}  // namespace sluice
