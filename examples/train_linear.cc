// Trains a tiny graph: fits y = 2x + 1 with w * x + b, a mean squared error
// loss and GradientDescent, fed through placeholders with a Session, then
// checks that w and b reached 2 and 1.
//
//   train_linear [--steps N] [--learning-rate R]
// Exit status 0 when the fit is within 1e-3 of the answer.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/scope.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "train_linear: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 300;
  double learning_rate = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: train_linear [--steps N] [--learning-rate R]\n"
          "Fits y = 2x + 1 on 64 points in [-1, 1] with w * x + b, mean squared\n"
          "error and GradientDescent (default 300 steps at 0.5), and checks that\n"
          "w and b end within 1e-3 of 2 and 1.\n");
      return 0;
    } else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--learning-rate") && i + 1 < argc) {
      learning_rate = std::atof(argv[++i]);
    } else {
      return Fail(std::string("unknown argument ") + argv[i] + " (see --help)");
    }
  }

  using namespace sluice;  // NOLINT: an example reads better with short names
  Graph graph;
  Scope root = Scope::Root(&graph);
  Output x = ops::Placeholder(root, DType::kFloat32, TensorShape{-1});
  Output y = ops::Placeholder(root, DType::kFloat32, TensorShape{-1});
  Variable w = NewVariable(root, 0.0f, {.name = "w"});
  Variable b = NewVariable(root, 0.0f, {.name = "b"});
  Output prediction = ops::Add(root, ops::Mul(root, x, w), b);
  Output loss = ops::ReduceMean(root, ops::Square(root, ops::Sub(root, prediction, y)));
  GradientDescentOptimizer optimizer(learning_rate);
  auto train = optimizer.Minimize(root, loss);
  if (!root.ok()) return Fail(root.status().ToString());
  if (!train.ok()) return Fail(train.status().ToString());

  std::vector<float> xs(64), ys(64);
  for (int i = 0; i < 64; ++i) {
    xs[i] = -1.0f + 2.0f * static_cast<float>(i) / 63.0f;
    ys[i] = 2.0f * xs[i] + 1.0f;
  }
  const Tensor x_batch = Tensor::FromVector<float>(absl::Span<const float>(xs), TensorShape{64});
  const Tensor y_batch = Tensor::FromVector<float>(absl::Span<const float>(ys), TensorShape{64});

  Session session(&graph);
  absl::Status s = session.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr);
  if (!s.ok()) return Fail(s.ToString());
  float first_loss = 0, last_loss = 0;
  for (int step = 0; step < steps; ++step) {
    std::vector<Tensor> out;
    s = session.Run({{x, x_batch}, {y, y_batch}}, {loss}, {*train}, &out);
    if (!s.ok()) return Fail("step " + std::to_string(step) + ": " + s.ToString());
    last_loss = out[0].scalar<float>();
    if (step == 0) first_loss = last_loss;
  }
  auto w_value = session.ReadVariable(w);
  auto b_value = session.ReadVariable(b);
  if (!w_value.ok()) return Fail(w_value.status().ToString());
  if (!b_value.ok()) return Fail(b_value.status().ToString());
  const float wv = w_value->scalar<float>(), bv = b_value->scalar<float>();
  std::printf("train_linear: %d steps, loss %.6g -> %.3g, w = %.5f, b = %.5f\n", steps,
              first_loss, last_loss, wv, bv);
  if (std::fabs(wv - 2.0f) > 1e-3f || std::fabs(bv - 1.0f) > 1e-3f) {
    return Fail("w, b did not reach 2, 1");
  }
  std::printf("train_linear: OK\n");
  return 0;
}
