// Gradients of the array-manipulation, selection, batched-matmul and cond
// ops checked against central finite differences (gradient_check.h).

#include "gtest/gtest.h"

#include "gradient_check.h"
#include "graph/gradients/gradients.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/ops/manip_ops.h"
#include "graph/ops/math_ops.h"

namespace sluice {
namespace {

using gradcheck::CheckGradients;
using gradcheck::RandomTensor;
using Outs = std::vector<Output>;

TEST(ManipGradientsTest, StackAndUnstack) {
  Tensor a = RandomTensor({2, 3}, 1), b = RandomTensor({2, 3}, 2);
  for (int64_t axis : {0, 1, 2, -1}) {
    CheckGradients(
        [axis](const Scope& r, const Outs& x) {
          return ops::Stack(r, {x[0], x[1]}, axis);
        },
        {a, b});
  }
  // Unstack, then weigh the parts differently so each gets its own gradient.
  CheckGradients(
      [](const Scope& r, const Outs& x) {
        Outs p = ops::Unstack(r, x[0], std::nullopt, 1);
        return ops::Add(r, ops::Mul(r, p[0], 2.0),
                        ops::Square(r, p[2]));  // p[1] gets no gradient
      },
      {RandomTensor({2, 3, 2}, 3)});
}

TEST(ManipGradientsTest, TilePadSqueezeExpandDims) {
  Tensor x = RandomTensor({2, 3}, 4);
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Tile(r, in[0], {2, 3});
      },
      {x});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Tile(r, in[0], {1, 2});
      },
      {x});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Pad(r, in[0], {{1, 0}, {2, 1}});
      },
      {x});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::PadV2(r, in[0], {{0, 2}, {1, 1}}, 3.0);
      },
      {x});
  Tensor y = RandomTensor({1, 3, 1}, 5);
  CheckGradients(
      [](const Scope& r, const Outs& in) { return ops::Squeeze(r, in[0]); },
      {y});
  CheckGradients([](const Scope& r,
                    const Outs& in) { return ops::Squeeze(r, in[0], {2}); },
                 {y});
  CheckGradients([](const Scope& r,
                    const Outs& in) { return ops::ExpandDims(r, in[0], 1); },
                 {x});
}

TEST(ManipGradientsTest, GatherSumsRepeatedIndices) {
  Tensor p = RandomTensor({4, 3}, 6);
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Gather(r, in[0], {3, 0, 3});
      },
      {p});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Gather(r, in[0], {{2, 2}, {0, 1}}, 1);
      },
      {p});
  Tensor q = RandomTensor({2, 3, 4}, 7);
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::Gather(r, in[0], {1, 1, 0}, 1);
      },
      {q});
  CheckGradients([](const Scope& r,
                    const Outs& in) { return ops::Gather(r, in[0], 3, -1); },
                 {q});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::UnsortedSegmentSum(r, in[0], {1, 0, 1, 3}, 4);
      },
      {RandomTensor({4, 2}, 8)});
}

TEST(ManipGradientsTest, SelectAndCheckNumerics) {
  Tensor a = RandomTensor({2, 3}, 9), b = RandomTensor({2, 3}, 10);
  CheckGradients(
      [](const Scope& r, const Outs& x) {
        return ops::Select(
            r,
            ops::Const(r, Tensor::FromVector<bool>(
                              {true, false, true, false, false, true}, {2, 3})),
            x[0], x[1]);
      },
      {a, b});
  CheckGradients(
      [](const Scope& r, const Outs& x) {
        return ops::Select(
            r, ops::Const(r, Tensor::FromVector<bool>({false, true}, {2})),
            x[0], x[1]);
      },
      {a, b});
  CheckGradients(
      [](const Scope& r, const Outs& x) {
        return ops::CheckNumerics(r, ops::Square(r, x[0]), "sq");
      },
      {a});
}

TEST(ManipGradientsTest, BatchMatMulEveryAdjointAndBroadcast) {
  for (bool ax : {false, true}) {
    for (bool ay : {false, true}) {
      Tensor x =
          RandomTensor(ax ? TensorShape{2, 4, 3} : TensorShape{2, 3, 4}, 11);
      Tensor y =
          RandomTensor(ay ? TensorShape{2, 2, 4} : TensorShape{2, 4, 2}, 12);
      CheckGradients(
          [ax, ay](const Scope& r, const Outs& in) {
            return ops::BatchMatMul(r, in[0], in[1], {ax, ay});
          },
          {x, y});
    }
  }
  // y broadcast over x's batch; x broadcast over a leading batch dim of y.
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::BatchMatMul(r, in[0], in[1]);
      },
      {RandomTensor({3, 2, 4}, 13), RandomTensor({4, 2}, 14)});
  CheckGradients(
      [](const Scope& r, const Outs& in) {
        return ops::BatchMatMul(r, in[0], in[1]);
      },
      {RandomTensor({1, 2, 4}, 15), RandomTensor({2, 3, 4, 2}, 16)});
}

TEST(ManipGradientsTest, CondDifferentiatesTheTakenBranch) {
  Tensor a = RandomTensor({3}, 17), b = RandomTensor({3}, 18);
  for (bool pred : {true, false}) {
    CheckGradients(
        [pred](const Scope& r, const Outs& x) {
          Outs out = ops::Cond(
              r, pred, {x[0], x[1]},
              [](const Scope& s, const Outs& v) {
                return Outs{ops::Mul(s, v[0], v[1])};
              },
              [](const Scope& s, const Outs& v) {
                return Outs{ops::Add(s, ops::Square(s, v[0]), 1.0)};
              });
          return out.empty() ? Output() : out[0];
        },
        {a, b});
  }
}

}  // namespace
}  // namespace sluice
