// Adadelta, AdagradDA and FTRL against their updates computed here,
// independently, from TensorFlow's formulas (core/kernels/training_ops.cc:
// ApplyAdadelta, ApplyAdagradDA, ApplyFtrl), in float64, over several steps
// of loss = sum(c * w) + 0.5 * sum(w²) (so grad = c + w).

#include <cmath>
#include <functional>
#include <memory>

#include "gtest/gtest.h"

#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/optimizers/adadelta.h"
#include "graph/optimizers/adagrad_da.h"
#include "graph/optimizers/ftrl.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

const std::vector<double> kW0 = {1.0, -2.0, 0.5, 0.05};
const std::vector<double> kC = {0.3, -0.1, 2.0, -0.04};
using Vec = std::vector<double>;
using Reference = std::function<void(Vec* w, const Vec& grad, int t)>;

double Sign(double x) { return (x > 0) - (x < 0); }

void CheckSteps(
    const std::function<std::unique_ptr<Optimizer>(const Variable& step)>& make,
    const Reference& reference, int steps = 5, double tol = 1e-12) {
  Graph g;
  Scope root = Scope::Root(&g);
  const int64_t n = static_cast<int64_t>(kW0.size());
  Variable w = NewVariable(
      root, Tensor::FromVector<double>(absl::Span<const double>(kW0), {n}),
      {.name = "w"});
  Variable step = NewVariable(root, int64_t{0},
                              {.name = "global_step", .trainable = false});
  Output c = ops::Const(
      root, Tensor::FromVector<double>(absl::Span<const double>(kC), {n}));
  Output loss =
      ops::Add(root, ops::ReduceSum(root, ops::Mul(root, c, w)),
               ops::Mul(root, ops::ReduceSum(root, ops::Square(root, w)),
                        ops::Const(root, Tensor::Scalar<double>(0.5))));
  std::unique_ptr<Optimizer> opt = make(step);
  auto train = opt->Minimize(root, loss, {.global_step = step});
  ASSERT_TRUE(train.ok()) << train.status();
  Session sess(&g);
  ASSERT_TRUE(
      sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  Vec expect = kW0;
  for (int t = 1; t <= steps; ++t) {
    absl::Status st = sess.Run({}, {}, {*train}, nullptr);
    ASSERT_TRUE(st.ok()) << st;
    Vec grad(n);
    for (int64_t i = 0; i < n; ++i) grad[i] = kC[i] + expect[i];
    reference(&expect, grad, t);
    auto got = sess.ReadVariable(w);
    ASSERT_TRUE(got.ok());
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(got->flat<double>()[i], expect[i], tol)
          << opt->name() << " step " << t << " element " << i;
    }
  }
}

TEST(CourseOptimizersTest, AdadeltaMatchesApplyAdadelta) {
  const double lr = 0.5, rho = 0.9, eps = 1e-6;
  Vec accum(kW0.size(), 0.0), accum_update(kW0.size(), 0.0);
  CheckSteps(
      [&](const Variable&) {
        return std::make_unique<AdadeltaOptimizer>(lr, rho, eps);
      },
      [&](Vec* w, const Vec& g, int) {
        for (size_t i = 0; i < w->size(); ++i) {
          accum[i] = rho * accum[i] + (1 - rho) * g[i] * g[i];
          const double update = std::sqrt(accum_update[i] + eps) /
                                std::sqrt(accum[i] + eps) * g[i];
          accum_update[i] = rho * accum_update[i] + (1 - rho) * update * update;
          (*w)[i] -= lr * update;
        }
      });
}

TEST(CourseOptimizersTest, AdagradDAMatchesApplyAdagradDA) {
  for (double l1 : {0.0, 0.3}) {
    const double lr = 0.2, init = 0.1, l2 = 0.05;
    Vec gacc(kW0.size(), 0.0), ggacc(kW0.size(), init);
    CheckSteps(
        [&](const Variable& step) {
          return std::make_unique<AdagradDAOptimizer>(lr, step, init, l1, l2);
        },
        [&](Vec* w, const Vec& g, int t) {
          // TensorFlow passes global_step + 1 (t here: the step count
          // before this step's increment, plus one).
          const double gs = t;
          for (size_t i = 0; i < w->size(); ++i) {
            gacc[i] += g[i];
            ggacc[i] += g[i] * g[i];
            const double num =
                l1 > 0
                    ? Sign(gacc[i]) * std::max(std::abs(gacc[i]) - l1 * gs, 0.0)
                    : gacc[i];
            (*w)[i] = -lr * num / (l2 * gs * lr + std::sqrt(ggacc[i]));
          }
        });
  }
}

TEST(CourseOptimizersTest, FtrlMatchesApplyFtrl) {
  for (double power : {-0.5, -0.3}) {
    for (double l1 : {0.0, 0.4}) {
      const double lr = 0.3, init = 0.1, l2 = 0.2;
      Vec accum(kW0.size(), init), linear(kW0.size(), 0.0);
      bool some_zeroed = false;
      CheckSteps(
          [&](const Variable&) {
            return std::make_unique<FtrlOptimizer>(lr, power, init, l1, l2);
          },
          [&](Vec* w, const Vec& g, int) {
            for (size_t i = 0; i < w->size(); ++i) {
              const double new_accum = accum[i] + g[i] * g[i];
              linear[i] += g[i] - (std::pow(new_accum, -power) -
                                   std::pow(accum[i], -power)) /
                                      lr * (*w)[i];
              const double quadratic =
                  std::pow(new_accum, -power) / lr + 2 * l2;
              if (std::abs(linear[i]) > l1) {
                (*w)[i] = (Sign(linear[i]) * l1 - linear[i]) / quadratic;
              } else {
                (*w)[i] = 0;
                some_zeroed = true;
              }
              accum[i] = new_accum;
            }
          },
          5, 1e-11);
      if (l1 > 0) {
        EXPECT_TRUE(some_zeroed) << "the l1 case should zero some weight";
      }
    }
  }
}

TEST(CourseOptimizersTest, AdagradDANeedsAGlobalStep) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, 1.0f, {.name = "w"});
  AdagradDAOptimizer opt(0.1, Variable());
  auto train = opt.Minimize(root, ops::Square(root, w));
  EXPECT_EQ(train.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
