// Kernel results against hand-computed values.
#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/array_ops.h"
#include "kernels/cwise_ops.h"
#include "kernels/matmul_op.h"
#include "kernels/nn_ops.h"
#include "kernels/random_ops.h"
#include "kernels/reduction_ops.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;

template <typename T>
std::vector<T> V(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

TEST(CwiseOpsTest, AddBroadcastsScalarsAndRowVectors) {
  Tensor m = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = Tensor::FromVector<float>({10, 20, 30}, {3});
  Tensor col = Tensor::FromVector<float>({100, 200}, {2, 1});
  Tensor out;
  ASSERT_TRUE(BinaryCwise(BinaryOp::kAdd, m, row, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({2, 3}));
  EXPECT_THAT(V<float>(out), ElementsAre(11, 22, 33, 14, 25, 36));
  ASSERT_TRUE(BinaryCwise(BinaryOp::kAdd, m, col, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(101, 102, 103, 204, 205, 206));
  ASSERT_TRUE(BinaryCwise(BinaryOp::kMul, Tensor::Scalar<float>(2), m, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(2, 4, 6, 8, 10, 12));
  // [2,1] x [3] -> [2,3] (both sides broadcast).
  ASSERT_TRUE(BinaryCwise(BinaryOp::kSub, col, row, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(90, 80, 70, 190, 180, 170));
}

TEST(CwiseOpsTest, IncompatibleShapesAreInvalidArgument) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3}, {3});
  Tensor b = Tensor::FromVector<float>({1, 2}, {2});
  Tensor out;
  absl::Status s = BinaryCwise(BinaryOp::kAdd, a, b, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("Incompatible shapes: [3] vs. [2]"));
}

TEST(CwiseOpsTest, ComparisonsGiveBool) {
  Tensor a = Tensor::FromVector<int64_t>({1, 5, 3}, {3});
  Tensor b = Tensor::FromVector<int64_t>({1, 2, 4}, {3});
  Tensor out;
  ASSERT_TRUE(BinaryCwise(BinaryOp::kEqual, a, b, &out).ok());
  EXPECT_EQ(out.dtype(), DType::kBool);
  EXPECT_THAT(V<bool>(out), ElementsAre(true, false, false));
  ASSERT_TRUE(BinaryCwise(BinaryOp::kGreater, a, b, &out).ok());
  EXPECT_THAT(V<bool>(out), ElementsAre(false, true, false));
}

TEST(CwiseOpsTest, UnaryFunctions) {
  Tensor x = Tensor::FromVector<float>({-1, 0, 2}, {3});
  Tensor out;
  ASSERT_TRUE(UnaryCwise(UnaryOp::kRelu, x, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(0, 0, 2));
  ASSERT_TRUE(UnaryCwise(UnaryOp::kSigmoid, x, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(FloatNear(0.26894142f, 1e-6), FloatNear(0.5f, 1e-6),
                                         FloatNear(0.88079708f, 1e-6)));
  ASSERT_TRUE(UnaryCwise(UnaryOp::kExp, x, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(FloatNear(std::exp(-1.0f), 1e-6), FloatNear(1, 1e-6),
                                         FloatNear(std::exp(2.0f), 1e-5)));
  ASSERT_TRUE(UnaryCwise(UnaryOp::kSquare, x, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(1, 0, 4));
  ASSERT_TRUE(UnaryCwise(UnaryOp::kNeg, Tensor::FromVector<int32_t>({3, -4}, {2}), &out).ok());
  EXPECT_THAT(V<int32_t>(out), ElementsAre(-3, 4));
}

TEST(CwiseOpsTest, CastTruncatesTowardZero) {
  Tensor out;
  ASSERT_TRUE(Cast(Tensor::FromVector<float>({1.7f, -1.7f, 0}, {3}), DType::kInt32, &out).ok());
  EXPECT_THAT(V<int32_t>(out), ElementsAre(1, -1, 0));
  ASSERT_TRUE(Cast(Tensor::FromVector<float>({1.7f, 0}, {2}), DType::kBool, &out).ok());
  EXPECT_THAT(V<bool>(out), ElementsAre(true, false));
}

TEST(MatMulTest, TransposeFlags) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::FromVector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor out;
  ASSERT_TRUE(MatMul(a, b, false, false, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({2, 2}));
  EXPECT_THAT(V<float>(out), ElementsAre(4, 5, 10, 11));
  // a^T (3x2) x a (2x3) = 3x3.
  ASSERT_TRUE(MatMul(a, a, true, false, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(17, 22, 27, 22, 29, 36, 27, 36, 45));
  // a x a^T = [[14, 32], [32, 77]].
  ASSERT_TRUE(MatMul(a, a, false, true, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(14, 32, 32, 77));
  Tensor ai = Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2});
  ASSERT_TRUE(MatMul(ai, ai, false, false, &out).ok());
  EXPECT_THAT(V<int32_t>(out), ElementsAre(7, 10, 15, 22));
  EXPECT_EQ(MatMul(a, a, false, false, &out).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReductionOpsTest, SumMeanMaxOverAxes) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor out;
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, {1}, false, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({2}));
  EXPECT_THAT(V<float>(out), ElementsAre(6, 15));
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x, {0}, true, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({1, 3}));
  EXPECT_THAT(V<float>(out), ElementsAre(5, 7, 9));
  ASSERT_TRUE(Reduce(ReduceOp::kMean, x, {0, 1}, false, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({}));
  EXPECT_FLOAT_EQ(out.scalar<float>(), 3.5f);
  Tensor x3 = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x3, {0, 1}, false, &out).ok());  // prefix
  EXPECT_THAT(V<float>(out), ElementsAre(16, 20));
  ASSERT_TRUE(Reduce(ReduceOp::kSum, x3, {0, 2}, false, &out).ok());  // neither
  EXPECT_THAT(V<float>(out), ElementsAre(14, 22));
  ASSERT_TRUE(Reduce(ReduceOp::kMin, x3, {0}, false, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(1, 2, 3, 4));
  ASSERT_TRUE(Reduce(ReduceOp::kMax, x, {-2}, false, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(4, 5, 6));
  ASSERT_TRUE(Reduce(ReduceOp::kMean, Tensor::FromVector<int32_t>({1, 2}, {2}), {0}, false, &out).ok());
  EXPECT_EQ(out.scalar<int32_t>(), 1);  // integer mean truncates
  EXPECT_EQ(Reduce(ReduceOp::kSum, x, {2}, false, &out).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReductionOpsTest, ArgMaxFirstOnTies) {
  Tensor x = Tensor::FromVector<float>({1, 3, 3, 9, 0, 2}, {2, 3});
  Tensor out;
  ASSERT_TRUE(ArgMax(x, 1, &out).ok());
  EXPECT_EQ(out.dtype(), DType::kInt64);
  EXPECT_THAT(V<int64_t>(out), ElementsAre(1, 0));
  ASSERT_TRUE(ArgMax(x, 0, &out).ok());
  EXPECT_THAT(V<int64_t>(out), ElementsAre(1, 0, 0));
}

TEST(ArrayOpsTest, ConcatSplitSlice) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::FromVector<float>({5, 6}, {2, 1});
  Tensor out;
  ASSERT_TRUE(Concat({a, b}, 1, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({2, 3}));
  EXPECT_THAT(V<float>(out), ElementsAre(1, 2, 5, 3, 4, 6));
  std::vector<Tensor> parts;
  ASSERT_TRUE(Split(out, 1, 3, &parts).ok());
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_THAT(V<float>(parts[2]), ElementsAre(5, 6));
  ASSERT_TRUE(Slice(out, {1, 1}, {1, -1}, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({1, 2}));
  EXPECT_THAT(V<float>(out), ElementsAre(4, 6));
  EXPECT_EQ(Concat({a, Tensor::FromVector<float>({1, 2, 3}, {3, 1})}, 1, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ArrayOpsTest, StridedSliceShrinksAndSteps) {
  Tensor x = Tensor::FromVector<int32_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  Tensor out;
  StridedSliceSpec row1{{1}, {2}, {1}, 0, 0, 1};
  ASSERT_TRUE(StridedSlice(x, row1, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({4}));
  EXPECT_THAT(V<int32_t>(out), ElementsAre(4, 5, 6, 7));
  StridedSliceSpec odd{{0, 1}, {3, 4}, {2, 2}, 0, 0, 0};
  ASSERT_TRUE(StridedSlice(x, odd, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({2, 2}));
  EXPECT_THAT(V<int32_t>(out), ElementsAre(1, 3, 9, 11));
  StridedSliceSpec last{{-1}, {0}, {1}, 0, 0, 1};
  ASSERT_TRUE(StridedSlice(x, last, &out).ok());
  EXPECT_THAT(V<int32_t>(out), ElementsAre(8, 9, 10, 11));
  StridedSliceSpec reversed{{0, -1}, {0, 0}, {1, -1}, 3, 3, 0};  // x[:, ::-1]
  ASSERT_TRUE(StridedSlice(x, reversed, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({3, 4}));
  EXPECT_THAT(V<int32_t>(out), ElementsAre(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8));
}

TEST(ArrayOpsTest, OneHotAndTranspose) {
  Tensor out;
  ASSERT_TRUE(OneHot(Tensor::FromVector<int64_t>({2, 0, 7}, {3}), 3, Tensor::Scalar<float>(1),
                     Tensor::Scalar<float>(0), &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({3, 3}));
  EXPECT_THAT(V<float>(out), ElementsAre(0, 0, 1, 1, 0, 0, 0, 0, 0));
  ASSERT_TRUE(Transpose(Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3}), {1, 0}, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({3, 2}));
  EXPECT_THAT(V<float>(out), ElementsAre(1, 4, 2, 5, 3, 6));
}

TEST(ArrayOpsTest, ConcatOfStringsKeepsViewsAlive) {
  Tensor out;
  {
    Tensor a = Tensor::FromStrings({"ab", "cd"}, {2});
    Tensor b = Tensor::FromStrings({"ef"}, {1});
    ASSERT_TRUE(Concat({a, b}, 0, &out).ok());
  }
  EXPECT_EQ(out.string(0), "ab");
  EXPECT_EQ(out.string(2), "ef");
}

TEST(NnOpsTest, SoftmaxAndCrossEntropy) {
  Tensor logits = Tensor::FromVector<float>({1, 2, 3, 1, 1, 1}, {2, 3});
  Tensor out;
  ASSERT_TRUE(Softmax(logits, &out).ok());
  // e^1 : e^2 : e^3 normalised.
  EXPECT_THAT(V<float>(out), ElementsAre(FloatNear(0.09003057f, 1e-6), FloatNear(0.24472847f, 1e-6),
                                         FloatNear(0.66524096f, 1e-6), FloatNear(1 / 3.f, 1e-6),
                                         FloatNear(1 / 3.f, 1e-6), FloatNear(1 / 3.f, 1e-6)));
  Tensor labels = Tensor::FromVector<float>({0, 0, 1, 1, 0, 0}, {2, 3});
  Tensor loss, backprop;
  ASSERT_TRUE(SoftmaxCrossEntropyWithLogits(logits, labels, &loss, &backprop).ok());
  EXPECT_THAT(V<float>(loss), ElementsAre(FloatNear(0.40760596f, 1e-5), FloatNear(1.0986123f, 1e-5)));
  EXPECT_THAT(V<float>(backprop)[2], FloatNear(0.66524096f - 1, 1e-6));
  Tensor sparse_loss, sparse_bp;
  ASSERT_TRUE(SparseSoftmaxCrossEntropyWithLogits(logits, Tensor::FromVector<int32_t>({2, 0}, {2}),
                                                  &sparse_loss, &sparse_bp).ok());
  EXPECT_THAT(V<float>(sparse_loss), Pointwise(FloatNear(1e-6), V<float>(loss)));
  EXPECT_THAT(V<float>(sparse_bp), Pointwise(FloatNear(1e-6), V<float>(backprop)));
  EXPECT_EQ(SparseSoftmaxCrossEntropyWithLogits(logits, Tensor::FromVector<int32_t>({3, 0}, {2}),
                                                &sparse_loss, &sparse_bp).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NnOpsTest, BiasAddAndItsGradient) {
  Tensor v = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor out;
  ASSERT_TRUE(BiasAdd(v, Tensor::FromVector<float>({10, 20}, {2}), &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(11, 22, 13, 24));
  ASSERT_TRUE(BiasAddGrad(v, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(4, 6));
}

TEST(NnOpsTest, Conv2DValidAndSame) {
  // 1x3x3x1 input 1..9, 2x2x1x1 filter of ones.
  Tensor in = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  Tensor f = Tensor::FromVector<float>({1, 1, 1, 1}, {2, 2, 1, 1});
  Tensor out;
  ASSERT_TRUE(Conv2D(in, f, 1, 1, Padding::kValid, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({1, 2, 2, 1}));
  EXPECT_THAT(V<float>(out), ElementsAre(12, 16, 24, 28));
  ASSERT_TRUE(Conv2D(in, f, 1, 1, Padding::kSame, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({1, 3, 3, 1}));
  // SAME pads at the bottom/right for an even window.
  EXPECT_THAT(V<float>(out), ElementsAre(12, 16, 9, 24, 28, 15, 15, 17, 9));
  // Gradients against the all-ones out_backprop: each input counts the
  // windows it is in; the filter gradient sums the windows.
  Tensor dy = Tensor::FromVector<float>({1, 1, 1, 1}, {1, 2, 2, 1});
  ASSERT_TRUE(Conv2DBackpropInput(in.shape(), f, dy, 1, 1, Padding::kValid, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(1, 2, 1, 2, 4, 2, 1, 2, 1));
  ASSERT_TRUE(Conv2DBackpropFilter(in, f.shape(), dy, 1, 1, Padding::kValid, &out).ok());
  EXPECT_THAT(V<float>(out), ElementsAre(12, 16, 24, 28));
}

TEST(NnOpsTest, MaxPoolAndGradient) {
  Tensor in = Tensor::FromVector<float>({1, 5, 2, 3, 4, 8, 6, 7, 0, 9, 1, 2, 3, 4, 5, 6},
                                        {1, 4, 4, 1});
  Tensor out;
  ASSERT_TRUE(MaxPool(in, 2, 2, 2, 2, Padding::kValid, &out).ok());
  EXPECT_EQ(out.shape(), TensorShape({1, 2, 2, 1}));
  EXPECT_THAT(V<float>(out), ElementsAre(8, 7, 9, 6));
  Tensor grad;
  ASSERT_TRUE(MaxPoolGrad(in, Tensor::FromVector<float>({1, 2, 3, 4}, {1, 2, 2, 1}), 2, 2, 2, 2,
                          Padding::kValid, &grad).ok());
  EXPECT_THAT(V<float>(grad), ElementsAre(0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4));
}

TEST(RandomOpsTest, SameSeedSameValuesAndTruncationBound) {
  Random r1(7, 1), r2(7, 1);
  Tensor a, b, t;
  ASSERT_TRUE(RandomNormal(DType::kFloat32, {1000}, 0, 1, &r1, &a).ok());
  ASSERT_TRUE(RandomNormal(DType::kFloat32, {1000}, 0, 1, &r2, &b).ok());
  EXPECT_TRUE(a.ContentEquals(b));
  double mean = 0;
  for (float v : V<float>(a)) mean += v;
  EXPECT_NEAR(mean / 1000, 0.0, 0.15);
  ASSERT_TRUE(TruncatedNormal(DType::kFloat64, {1000}, 1, 0.5, &r1, &t).ok());
  for (double v : V<double>(t)) EXPECT_LE(std::abs(v - 1), 1.0);
  ASSERT_TRUE(RandomUniform(DType::kFloat32, {1000}, -2, 2, &r1, &t).ok());
  for (float v : V<float>(t)) {
    EXPECT_GE(v, -2);
    EXPECT_LT(v, 2);
  }
}

}  // namespace
}  // namespace sluice
