// The fused optimizer updates (graph/optimizers/training_ops.h and their
// CPU kernels, kernels/training_ops.h): the optimizers emit one fused op
// per variable, the kernels follow TensorFlow's rules in float32 and
// float64, and bad inputs are errors that name the problem.

#include "graph/optimizers/training_ops.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/optimizers/momentum.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "kernels/training_ops.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

std::map<std::string, int> OpCounts(const Graph& g) {
  std::map<std::string, int> n;
  for (int i = 0; i < g.num_nodes(); ++i) {
    if (Node* node = g.node(i)) ++n[node->type()];
  }
  return n;
}

// loss = sum(w1 * w1) + sum(w2): two variables, each gets a gradient.
Output Loss(const Scope& root, const Variable& w1, const Variable& w2) {
  return ops::Add(root, ops::ReduceSum(root, ops::Square(root, w1)), ops::ReduceSum(root, w2));
}

TEST(TrainingOpsTest, OptimizersEmitOneFusedUpdatePerVariable) {
  for (const std::string kind : {"GradientDescent", "Momentum", "Nesterov"}) {
    Graph g;
    Scope root = Scope::Root(&g);
    Variable w1 = NewVariable(root, Tensor::FromVector<float>({1.f, 2.f}, {2}), {.name = "w1"});
    Variable w2 = NewVariable(root, Tensor::FromVector<float>({3.f}, {1}), {.name = "w2"});
    Output loss = Loss(root, w1, w2);
    std::unique_ptr<Optimizer> opt;
    if (kind == "GradientDescent") opt = std::make_unique<GradientDescentOptimizer>(0.1);
    else opt = std::make_unique<MomentumOptimizer>(0.1, 0.5, kind == "Nesterov");
    auto train = opt->Minimize(root, loss);
    ASSERT_TRUE(train.ok()) << train.status();
    std::map<std::string, int> n = OpCounts(g);
    const std::string fused = kind == "GradientDescent" ? "ApplyGradientDescent" : "ApplyMomentum";
    EXPECT_EQ(n[fused], 2) << kind;
    EXPECT_EQ(n["AssignSub"], 0) << kind;
    EXPECT_EQ(n["Assign"], 2 + (kind == "GradientDescent" ? 0 : 2)) << kind;  // initializers

    Session sess(&g);
    ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    ASSERT_TRUE(sess.Run({}, {}, {*train}, nullptr).ok());
    ASSERT_TRUE(sess.Run({}, {}, {*train}, nullptr).ok());
    // w1: grad 2*w1; w2: grad 1. Two steps by hand.
    double a1[2] = {0, 0}, a2 = 0, v1[2] = {1, 2}, v2 = 3;
    for (int step = 0; step < 2; ++step) {
      for (int i = 0; i < 2; ++i) {
        const double g1 = 2 * v1[i];
        if (kind == "GradientDescent") {
          v1[i] -= 0.1 * g1;
        } else {
          a1[i] = a1[i] * 0.5 + g1;
          v1[i] -= kind == "Nesterov" ? g1 * 0.1 + a1[i] * 0.5 * 0.1 : 0.1 * a1[i];
        }
      }
      if (kind == "GradientDescent") {
        v2 -= 0.1;
      } else {
        a2 = a2 * 0.5 + 1;
        v2 -= kind == "Nesterov" ? 0.1 + a2 * 0.5 * 0.1 : 0.1 * a2;
      }
    }
    auto got1 = sess.ReadVariable(w1);
    auto got2 = sess.ReadVariable(w2);
    ASSERT_TRUE(got1.ok() && got2.ok());
    EXPECT_NEAR(got1->flat<float>()[0], v1[0], 1e-6) << kind;
    EXPECT_NEAR(got1->flat<float>()[1], v1[1], 1e-6) << kind;
    EXPECT_NEAR(got2->flat<float>()[0], v2, 1e-6) << kind;
  }
}

TEST(TrainingOpsTest, CpuKernelsRejectMismatchedShapesAndTypes) {
  Tensor w = Tensor::FromVector<float>({1.f, 2.f}, {2});
  Tensor out, acc;
  absl::Status s = ApplyGradientDescentCpu(w, 0.1, Tensor::FromVector<float>({1.f}, {1}), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("shapes differ"));
  s = ApplyGradientDescentCpu(w, 0.1, Tensor::FromVector<double>({1.0, 1.0}, {2}), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("dtypes differ"));
  Tensor i = Tensor::FromVector<int32_t>({1, 2}, {2});
  EXPECT_EQ(ApplyGradientDescentCpu(i, 0.1, i, &out).code(), absl::StatusCode::kInvalidArgument);
  s = ApplyMomentumCpu(w, Tensor::FromVector<float>({0.f}, {1}), 0.1, w, 0.9, false, &out, &acc);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("accum"));
  // The inputs are never written.
  Tensor a = Tensor::FromVector<float>({0.5f, 0.5f}, {2});
  ASSERT_TRUE(ApplyMomentumCpu(w, a, 0.1, w, 0.9, false, &out, &acc).ok());
  EXPECT_FLOAT_EQ(a.flat<float>()[0], 0.5f);
  EXPECT_FLOAT_EQ(acc.flat<float>()[0], 0.5f * 0.9f + 1.f);
  EXPECT_FLOAT_EQ(out.flat<float>()[0], 1.f - 0.1f * (0.5f * 0.9f + 1.f));
  EXPECT_FLOAT_EQ(w.flat<float>()[0], 1.f);
}

TEST(TrainingOpsTest, UninitializedAccumulatorIsFailedPrecondition) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, Tensor::FromVector<float>({1.f}, {1}), {.name = "w"});
  Variable acc = NewVariable(root, Tensor::FromVector<float>({0.f}, {1}), {.name = "acc"});
  Output upd = ops::ApplyMomentum(root, w, acc, 0.1f, ops::Const(root, Tensor::FromVector<float>({1.f}, {1})),
                                  0.9f);
  ASSERT_TRUE(root.status().ok()) << root.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {w.initializer()}, nullptr).ok());
  absl::Status s = sess.Run({}, {}, {upd.op()}, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("acc"));
}

}  // namespace
}  // namespace sluice
