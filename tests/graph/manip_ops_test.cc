// The array-manipulation, selection, checking and cond ops through a
// Session: TensorFlow's documented examples as expected values, static
// shapes, and the errors TensorFlow raises.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "graph/ops/ops.h"
#include "graph/session.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
std::vector<T> V(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

class ManipOpsTest : public ::testing::Test {
 protected:
  std::vector<Tensor> Run(const std::vector<Output>& fetches,
                          const FeedList& feeds = {}) {
    EXPECT_TRUE(root_.ok()) << root_.status();
    std::vector<Tensor> out;
    absl::Status st = session_.Run(feeds, fetches, &out);
    EXPECT_TRUE(st.ok()) << st;
    return out;
  }
  absl::Status RunStatus(const std::vector<Output>& fetches,
                         const std::vector<Operation>& targets = {},
                         const FeedList& feeds = {}) {
    EXPECT_TRUE(root_.ok()) << root_.status();
    std::vector<Tensor> out;
    return session_.Run(feeds, fetches, targets, &out);
  }
  Graph g_;
  Scope root_ = Scope::Root(&g_);
  Session session_{&g_};
};

TEST_F(ManipOpsTest, RangeAndLinSpace) {
  Output a = ops::Range(root_, 3, 18, 3);
  Output b = ops::Range(root_, 0, 5);
  Output c = ops::Range(root_, 10, 4, -2);
  Output d = ops::Range(root_, 1.0f, 2.0f, 0.25f);
  Output e = ops::LinSpace(root_, 10.0f, 12.0f, 3);
  EXPECT_EQ(a.shape(), TensorShape({5}));
  EXPECT_EQ(e.shape(), TensorShape({3}));
  auto out = Run({a, b, c, d, e});
  EXPECT_THAT(V<int32_t>(out[0]), ElementsAre(3, 6, 9, 12, 15));
  EXPECT_THAT(V<int32_t>(out[1]), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(V<int32_t>(out[2]), ElementsAre(10, 8, 6));
  EXPECT_THAT(V<float>(out[3]), ElementsAre(1.0f, 1.25f, 1.5f, 1.75f));
  EXPECT_THAT(V<float>(out[4]), ElementsAre(10.0f, 11.0f, 12.0f));
  // A fed delta of 0 fails at run time with TensorFlow's message.
  Output delta = ops::Placeholder(root_, DType::kInt32, {});
  absl::Status st = RunStatus({ops::Range(root_, 0, 4, delta)}, {},
                              {{delta, Tensor::Scalar<int32_t>(0)}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("Requires delta != 0"));
}

TEST_F(ManipOpsTest, StackUnstackFollowTheDocs) {
  Output x = ops::Const(root_, {1, 4}), y = ops::Const(root_, {2, 5}),
         z = ops::Const(root_, {3, 6});
  Output s0 = ops::Stack(root_, {x, y, z});
  Output s1 = ops::Stack(root_, {x, y, z}, 1);
  EXPECT_EQ(s0.shape(), TensorShape({3, 2}));
  EXPECT_EQ(s1.shape(), TensorShape({2, 3}));
  std::vector<Output> parts = ops::Unstack(root_, s1, std::nullopt, 1);
  ASSERT_EQ(parts.size(), 3u);
  auto out = Run({s0, s1, parts[0], parts[2]});
  EXPECT_THAT(V<int32_t>(out[0]), ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_THAT(V<int32_t>(out[1]), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(V<int32_t>(out[2]), ElementsAre(1, 4));
  EXPECT_THAT(V<int32_t>(out[3]), ElementsAre(3, 6));
  // Strings stack too.
  Output strs = ops::Stack(root_, {std::string("a"), std::string("bc")});
  auto st = Run({strs});
  EXPECT_EQ(st[0].string(1), "bc");
}

TEST_F(ManipOpsTest, TileAndPad) {
  Output t = ops::Const(root_, {{1, 2}, {3, 4}});
  Output tiled = ops::Tile(root_, t, {2, 3});
  EXPECT_EQ(tiled.shape(), TensorShape({4, 6}));
  Output m = ops::Const(root_, {{1, 2, 3}, {4, 5, 6}});
  Output padded = ops::Pad(root_, m, {{1, 1}, {2, 2}});
  Output padded9 = ops::PadV2(root_, m, {{0, 1}, {1, 0}}, 9);
  EXPECT_EQ(padded.shape(), TensorShape({4, 7}));
  auto out = Run({tiled, padded, padded9});
  EXPECT_THAT(V<int32_t>(out[0]),
              ElementsAre(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,  //
                          1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4));
  EXPECT_THAT(V<int32_t>(out[1]), ElementsAre(0, 0, 0, 0, 0, 0, 0,  //
                                              0, 0, 1, 2, 3, 0, 0,  //
                                              0, 0, 4, 5, 6, 0, 0,  //
                                              0, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(V<int32_t>(out[2]),
              ElementsAre(9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9));
}

TEST_F(ManipOpsTest, GatherAlongAnyAxis) {
  Output p = ops::Const(root_, {{1, 2, 3}, {4, 5, 6}});
  Output rows = ops::Gather(root_, p, {1, 0, 1});
  Output cols =
      ops::Gather(root_, p, Tensor::FromVector<int32_t>({2, 0}, {2, 1}), 1);
  Output one = ops::Gather(root_, ops::Const(root_, {10, 20, 30, 40}), 3);
  EXPECT_EQ(rows.shape(), TensorShape({3, 3}));
  EXPECT_EQ(cols.shape(), TensorShape({2, 2, 1}));
  EXPECT_EQ(one.shape(), TensorShape({}));
  auto out = Run({rows, cols, one});
  EXPECT_THAT(V<int32_t>(out[0]), ElementsAre(4, 5, 6, 1, 2, 3, 4, 5, 6));
  EXPECT_THAT(V<int32_t>(out[1]), ElementsAre(3, 1, 6, 4));
  EXPECT_THAT(V<int32_t>(out[2]), ElementsAre(40));
  absl::Status st = RunStatus({ops::Gather(root_, p, {0, 2})});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("indices[1] = 2 is not in [0, 2)"));
}

TEST_F(ManipOpsTest, SqueezeExpandDimsSizeRank) {
  Output x = ops::Zeros(root_, {1, 2, 1, 3, 1, 1});
  EXPECT_EQ(ops::Squeeze(root_, x).shape(), TensorShape({2, 3}));
  EXPECT_EQ(ops::Squeeze(root_, x, {2, 4}).shape(), TensorShape({1, 2, 3, 1}));
  Output v = ops::Const(root_, {1.0f, 2.0f});
  EXPECT_EQ(ops::ExpandDims(root_, v, 0).shape(), TensorShape({1, 2}));
  EXPECT_EQ(ops::ExpandDims(root_, v, -1).shape(), TensorShape({2, 1}));
  Output fed = ops::Placeholder(root_, DType::kFloat32);
  auto out = Run({ops::Squeeze(root_, fed), ops::ExpandDims(root_, fed, 1),
                  ops::Size(root_, fed), ops::Rank(root_, fed)},
                 {{fed, Tensor::Zeros(DType::kFloat32, {2, 1, 4})}});
  EXPECT_EQ(out[0].shape(), TensorShape({2, 4}));
  EXPECT_EQ(out[1].shape(), TensorShape({2, 1, 1, 4}));
  EXPECT_EQ(out[2].scalar<int32_t>(), 8);
  EXPECT_EQ(out[3].scalar<int32_t>(), 3);
  ops::Squeeze(root_, x, {1});  // dim 1 is 2
  EXPECT_THAT(std::string(root_.status().message()),
              HasSubstr("Can not squeeze dim[1]"));
}

TEST_F(ManipOpsTest, WhereSelectsElementsRowsOrCoordinates) {
  Output c = ops::Const(
      root_, Tensor::FromVector<bool>({true, false, false, true}, {2, 2}));
  Output x = ops::Const(root_, {{1, 2}, {3, 4}}),
         y = ops::Const(root_, {{10, 20}, {30, 40}});
  Output rowc = ops::Const(root_, Tensor::FromVector<bool>({false, true}, {2}));
  auto out = Run({ops::Select(root_, c, x, y), ops::Select(root_, rowc, x, y),
                  ops::Where(root_, c)});
  EXPECT_THAT(V<int32_t>(out[0]), ElementsAre(1, 20, 30, 4));
  EXPECT_THAT(V<int32_t>(out[1]), ElementsAre(10, 20, 3, 4));
  EXPECT_EQ(out[2].shape(), TensorShape({2, 2}));
  EXPECT_THAT(V<int64_t>(out[2]), ElementsAre(0, 0, 1, 1));
}

TEST_F(ManipOpsTest, AssertFailsTheRunWithItsMessage) {
  Output x = ops::Placeholder(root_, DType::kInt32, {});
  Operation check = ops::Assert(root_, ops::Less(root_, x, 10),
                                {std::string("x must be < 10, got"), x});
  Output y = ops::Identity(root_.WithControlDependencies({check}), x);
  auto ok = Run({y}, {{x, Tensor::Scalar<int32_t>(3)}});
  EXPECT_EQ(ok[0].scalar<int32_t>(), 3);
  absl::Status st = RunStatus({y}, {}, {{x, Tensor::Scalar<int32_t>(12)}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("assertion failed: [x must be < 10, got] [12]"));
  // As a target.
  EXPECT_EQ(RunStatus({}, {check}, {{x, Tensor::Scalar<int32_t>(11)}}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ManipOpsTest, CheckNumericsNamesTheTensor) {
  Output x = ops::Placeholder(root_, DType::kFloat32, {3});
  Output checked = ops::CheckNumerics(root_, x, "logits");
  auto out = Run({checked}, {{x, Tensor::FromVector<float>({1, 2, 3}, {3})}});
  EXPECT_THAT(V<float>(out[0]), ElementsAre(1, 2, 3));
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  absl::Status st = RunStatus(
      {checked}, {}, {{x, Tensor::FromVector<float>({1, nan, 3}, {3})}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("logits : Tensor had NaN values"));
  st = RunStatus({checked}, {},
                 {{x, Tensor::FromVector<float>({1, 2, -inf}, {3})}});
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("logits : Tensor had Inf values"));
}

TEST_F(ManipOpsTest, BatchMatMulBroadcastsBatchDims) {
  // x: [2, 2, 3], y: [3, 2] shared by both batches; adj_x on a [2, 3, 2] copy.
  std::vector<float> xv{1, 2, 3, 4, 5, 6, -1, 0, 1, 2, 3, -2};
  std::vector<float> yv{1, 0, 0, 1, 2, 3};
  Output x = ops::Const(
      root_, Tensor::FromVector<float>(absl::MakeConstSpan(xv), {2, 2, 3}));
  Output y = ops::Const(
      root_, Tensor::FromVector<float>(absl::MakeConstSpan(yv), {3, 2}));
  Output xy = ops::BatchMatMul(root_, x, y);
  Output xt = ops::Transpose(root_, x, {0, 2, 1});
  Output adj = ops::BatchMatMul(root_, xt, y, {true, false});
  EXPECT_EQ(xy.shape(), TensorShape({2, 2, 2}));
  EXPECT_EQ(xy.node()->type(), "BatchMatMulV2");
  auto out = Run({xy, adj});
  std::vector<float> want;
  for (int b = 0; b < 2; ++b) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        float acc = 0;
        for (int k = 0; k < 3; ++k)
          acc += xv[b * 6 + i * 3 + k] * yv[k * 2 + j];
        want.push_back(acc);
      }
    }
  }
  EXPECT_EQ(V<float>(out[0]), want);
  EXPECT_EQ(V<float>(out[1]), want);
  ops::BatchMatMul(root_, x, ops::Zeros(root_, {2, 2}));
  EXPECT_EQ(root_.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ManipOpsTest, CondRunsOnlyTheTakenBranch) {
  Output pred = ops::Placeholder(root_, DType::kBool, {});
  Output x = ops::Const(root_, 2.0f), y = ops::Const(root_, 5.0f);
  // Each branch holds an Assert(false): running the branch not taken would
  // fail the Run.
  std::vector<Output> r = ops::Cond(
      root_, pred, {x, y},
      [](const Scope& s, const std::vector<Output>& a) {
        Operation never = ops::Assert(s, ops::Const(s, false),
                                      {std::string("true branch ran")});
        return std::vector<Output>{
            ops::Mul(s.WithControlDependencies({never}), a[0], 17.0f),
            ops::Identity(s.WithControlDependencies({never}), a[1])};
      },
      [](const Scope& s, const std::vector<Output>& a) {
        Operation never = ops::Assert(s, ops::Const(s, false),
                                      {std::string("false branch ran")});
        return std::vector<Output>{
            ops::Add(s.WithControlDependencies({never}), a[0], a[1]),
            ops::Identity(s.WithControlDependencies({never}), a[1])};
      });
  ASSERT_EQ(r.size(), 2u);
  absl::Status st = RunStatus({r[0]}, {}, {{pred, Tensor::Scalar<bool>(true)}});
  EXPECT_THAT(std::string(st.message()), HasSubstr("true branch ran"));
  st = RunStatus({r[0]}, {}, {{pred, Tensor::Scalar<bool>(false)}});
  EXPECT_THAT(std::string(st.message()), HasSubstr("false branch ran"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("false branch of cond"));
}

TEST_F(ManipOpsTest, CondComputesTheCourseExample) {
  // tf.cond(x < y, lambda: tf.add(x, z), lambda: tf.square(y))
  Output x = ops::Placeholder(root_, DType::kFloat32, {});
  Output y = ops::Const(root_, 5.0f), z = ops::Const(root_, 10.0f);
  std::vector<Output> r = ops::Cond(
      root_, ops::Less(root_, x, y), {x, y, z},
      [](const Scope& s, const std::vector<Output>& a) {
        return std::vector<Output>{ops::Add(s, a[0], a[2])};
      },
      [](const Scope& s, const std::vector<Output>& a) {
        return std::vector<Output>{ops::Square(s, a[1])};
      });
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].shape(), TensorShape({}));
  EXPECT_EQ(Run({r[0]}, {{x, Tensor::Scalar<float>(1.0f)}})[0].scalar<float>(),
            11.0f);
  EXPECT_EQ(Run({r[0]}, {{x, Tensor::Scalar<float>(7.0f)}})[0].scalar<float>(),
            25.0f);
  // Branches must agree on their outputs.
  ops::Cond(
      root_, true, {x},
      [](const Scope& s, const std::vector<Output>& a) { return a; },
      [](const Scope& s, const std::vector<Output>& a) {
        return std::vector<Output>{ops::Cast(s, a[0], DType::kInt32)};
      });
  EXPECT_THAT(std::string(root_.status().message()),
              HasSubstr("output 0 is float in the true branch"));
}

}  // namespace
}  // namespace sluice
