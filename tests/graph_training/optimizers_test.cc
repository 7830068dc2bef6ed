// Each optimizer's first steps against updates computed by hand with
// TensorFlow's formulas (training_ops.cc), in float64.

#include <cmath>
#include <functional>
#include <memory>

#include "gmock/gmock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/optimizers/adagrad.h"
#include "graph/optimizers/adam.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/optimizers/momentum.h"
#include "graph/optimizers/rmsprop.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

const std::vector<double> kW0 = {1.0, -2.0, 0.5};
const std::vector<double> kC = {0.3, -0.1, 2.0};

// loss = sum(c * w) + 0.5 * sum(w²)  →  grad = c + w.
std::vector<double> Grad(const std::vector<double>& w) {
  std::vector<double> g(w.size());
  for (size_t i = 0; i < w.size(); ++i) g[i] = kC[i] + w[i];
  return g;
}

// Runs `steps` train steps and compares w after each with `reference`
// (which updates its own copy of w given the gradient).
void CheckSteps(Optimizer* opt, const std::function<void(std::vector<double>*, const std::vector<double>&, int)>& reference,
                int steps = 4, double tol = 1e-12) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, Tensor::FromVector<double>(absl::Span<const double>(kW0), {3}), {.name = "w"});
  Variable step = NewVariable(root, int64_t{0}, {.name = "global_step", .trainable = false});
  Output c = ops::Const(root, Tensor::FromVector<double>(absl::Span<const double>(kC), {3}));
  Output loss = ops::Add(root, ops::ReduceSum(root, ops::Mul(root, c, w)),
                         ops::Mul(root, ops::ReduceSum(root, ops::Square(root, w)), ops::Const(root, Tensor::Scalar<double>(0.5))));
  auto train = opt->Minimize(root, loss, {.global_step = step});
  ASSERT_TRUE(train.ok()) << train.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<double> expect = kW0;
  for (int t = 1; t <= steps; ++t) {
    ASSERT_TRUE(sess.Run({}, {}, {*train}, nullptr).ok());
    reference(&expect, Grad(expect), t);
    auto got = sess.ReadVariable(w);
    ASSERT_TRUE(got.ok());
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(got->flat<double>()[i], expect[i], tol) << opt->name() << " step " << t << " element " << i;
    }
    EXPECT_EQ(sess.ReadVariable(step)->scalar<int64_t>(), t);
  }
}

TEST(OptimizersTest, GradientDescent) {
  GradientDescentOptimizer opt(0.1);
  CheckSteps(&opt, [](std::vector<double>* w, const std::vector<double>& g, int) {
    for (size_t i = 0; i < w->size(); ++i) (*w)[i] -= 0.1 * g[i];
  });
}

TEST(OptimizersTest, MomentumClassicAndNesterov) {
  for (bool nesterov : {false, true}) {
    MomentumOptimizer opt(0.1, 0.9, nesterov);
    auto accum = std::make_shared<std::vector<double>>(3, 0.0);
    CheckSteps(&opt, [accum, nesterov](std::vector<double>* w, const std::vector<double>& g, int) {
      for (size_t i = 0; i < w->size(); ++i) {
        (*accum)[i] = (*accum)[i] * 0.9 + g[i];
        (*w)[i] -= nesterov ? g[i] * 0.1 + (*accum)[i] * 0.9 * 0.1 : 0.1 * (*accum)[i];
      }
    });
  }
}

TEST(OptimizersTest, Adagrad) {
  AdagradOptimizer opt(0.2, 0.1);
  auto accum = std::make_shared<std::vector<double>>(3, 0.1);
  CheckSteps(&opt, [accum](std::vector<double>* w, const std::vector<double>& g, int) {
    for (size_t i = 0; i < w->size(); ++i) {
      (*accum)[i] += g[i] * g[i];
      (*w)[i] -= 0.2 * g[i] / std::sqrt((*accum)[i]);
    }
  });
}

TEST(OptimizersTest, RMSPropWithMomentum) {
  RMSPropOptimizer opt(0.01, 0.9, 0.5, 1e-10);
  auto ms = std::make_shared<std::vector<double>>(3, 1.0);
  auto mom = std::make_shared<std::vector<double>>(3, 0.0);
  CheckSteps(&opt, [ms, mom](std::vector<double>* w, const std::vector<double>& g, int) {
    for (size_t i = 0; i < w->size(); ++i) {
      (*ms)[i] = 0.9 * (*ms)[i] + 0.1 * g[i] * g[i];
      (*mom)[i] = 0.5 * (*mom)[i] + 0.01 * g[i] / std::sqrt((*ms)[i] + 1e-10);
      (*w)[i] -= (*mom)[i];
    }
  });
}

TEST(OptimizersTest, AdamWithBiasCorrection) {
  AdamOptimizer opt(0.05, 0.9, 0.999, 1e-8);
  auto m = std::make_shared<std::vector<double>>(3, 0.0);
  auto v = std::make_shared<std::vector<double>>(3, 0.0);
  CheckSteps(&opt, [m, v](std::vector<double>* w, const std::vector<double>& g, int t) {
    const double lr_t = 0.05 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (size_t i = 0; i < w->size(); ++i) {
      (*m)[i] = 0.9 * (*m)[i] + 0.1 * g[i];
      (*v)[i] = 0.999 * (*v)[i] + 0.001 * g[i] * g[i];
      (*w)[i] -= lr_t * (*m)[i] / (std::sqrt((*v)[i]) + 1e-8);
    }
  });
}

TEST(OptimizersTest, SlotsAreNamedAfterTheirVariableAndNotTrainable) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope layer = root.VariableScope("layer1");
  Variable w = GetVariable(layer, "weight", {2}, {.initializer = ZerosInitializer()});
  Output loss = ops::ReduceSum(root, ops::Square(root, ops::Sub(root, w, 1.0f)));
  AdamOptimizer opt;
  ASSERT_TRUE(opt.Minimize(root, loss).ok());
  ASSERT_TRUE(opt.GetSlot(w, "Adam").has_value());
  EXPECT_EQ(opt.GetSlot(w, "Adam")->op_name(), "layer1/weight/Adam");
  EXPECT_EQ(opt.GetSlot(w, "Adam_1")->op_name(), "layer1/weight/Adam_1");
  EXPECT_EQ(opt.beta1_power().op_name(), "beta1_power");
  EXPECT_EQ(TrainableVariables(g).size(), 1u);
  EXPECT_EQ(GlobalVariables(g).size(), 5u);  // w, m, v, beta1_power, beta2_power
  // And it trains: float32 w moves from 0 to the minimum at 1.
  AdamOptimizer fast(0.1);
  auto train = fast.Minimize(root, loss, {.var_list = {w}});
  ASSERT_TRUE(train.ok()) << train.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(sess.Run({}, {}, {*train}, nullptr).ok());
  auto got = sess.ReadVariable(w);
  ASSERT_TRUE(got.ok());
  EXPECT_NEAR(got->flat<float>()[0], 1.0f, 1e-2);
  EXPECT_NEAR(got->flat<float>()[1], 1.0f, 1e-2);
}

TEST(OptimizersTest, NoGradientForAnyVariableIsInvalidArgument) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, 1.0f, {.name = "w"});
  Output x = ops::Placeholder(root, DType::kFloat32, {});
  GradientDescentOptimizer opt(0.1);
  auto train = opt.Minimize(root, ops::Square(root, x), {.var_list = {w}});
  EXPECT_EQ(train.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(train.status().message()), ::testing::HasSubstr("No gradients provided for any variable"));
}

}  // namespace
}  // namespace sluice
