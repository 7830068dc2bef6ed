#pragma once
// Gradient checking against central finite differences in float64: for
// y = f(x...), the analytic d(sum(w * y))/dx with random weights w against
// (L(x + h) - L(x - h)) / 2h, element by element. Shared by the gradient
// tests.

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "gtest/gtest.h"

#include "graph/gradients/gradients.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/session.h"

namespace sluice::gradcheck {

using Fn = std::function<Output(const Scope&, const std::vector<Output>&)>;

inline Tensor RandomTensor(const TensorShape& shape, uint64_t seed,
                           double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  Tensor t(DType::kFloat64, shape);
  for (double& v : t.flat<double>()) v = d(rng);
  return t;
}

inline double Sum(const Tensor& loss) { return loss.scalar<double>(); }

// Checks the gradient of f with respect to every input. Inputs are fed
// through placeholders of their full shapes.
inline void CheckGradients(const Fn& f, const std::vector<Tensor>& values,
                           double tol = 1e-6) {
  Graph g;
  Scope root = Scope::Root(&g);
  std::vector<Output> xs;
  for (const Tensor& v : values)
    xs.push_back(ops::Placeholder(root, DType::kFloat64, v.shape()));
  Output y = f(root, xs);
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  FeedList feeds;
  for (size_t i = 0; i < xs.size(); ++i) feeds.emplace_back(xs[i], values[i]);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run(feeds, {y}, &out).ok());
  Tensor w = RandomTensor(out[0].shape(), 99, 0.5, 1.5);
  Output loss = ops::ReduceSum(root, ops::Mul(root, y, ops::Const(root, w)));
  auto grads = Gradients(root, {loss}, xs);
  ASSERT_TRUE(grads.ok()) << grads.status();
  std::vector<Output> fetch;
  for (size_t i = 0; i < xs.size(); ++i) {
    ASSERT_TRUE((*grads)[i].valid()) << "no gradient for input " << i;
    fetch.push_back((*grads)[i]);
  }
  std::vector<Tensor> analytic;
  ASSERT_TRUE(sess.Run(feeds, fetch, &analytic).ok());
  const double h = 1e-6;
  for (size_t i = 0; i < xs.size(); ++i) {
    ASSERT_EQ(analytic[i].shape(), values[i].shape()) << "input " << i;
    ASSERT_EQ(analytic[i].dtype(), DType::kFloat64);
    for (int64_t j = 0; j < values[i].NumElements(); ++j) {
      auto loss_at = [&](double delta) {
        FeedList f2 = feeds;
        Tensor moved = values[i].DeepCopy();
        moved.flat<double>()[j] += delta;
        f2[i].second = moved;
        std::vector<Tensor> o;
        EXPECT_TRUE(sess.Run(f2, {loss}, &o).ok());
        return Sum(o[0]);
      };
      const double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
      const double got = analytic[i].flat<double>()[j];
      EXPECT_NEAR(got, numeric, tol * (1 + std::abs(numeric)))
          << "input " << i << " element " << j;
    }
  }
}

}  // namespace sluice::gradcheck
