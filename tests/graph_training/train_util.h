#pragma once
// Test-only models and data for the training tests: separable synthetic
// classes written as tf.train.Examples to a TFRecord file, the softmax
// regression and MLP graphs, accuracy evaluation.

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "readers/example_builder.h"
#include "readers/record_writer.h"

namespace sluice::testing {

struct Dataset {
  int dim = 0, classes = 0;
  std::vector<float> x;       // n × dim
  std::vector<int64_t> y;     // n
  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

// Class c's samples scatter (σ = 0.5) around a prototype drawn with σ = 3:
// separable by a wide margin.
inline Dataset MakeSeparable(int n, int dim, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> proto(0.f, 3.f), noise(0.f, 0.5f);
  std::vector<std::vector<float>> prototypes(classes, std::vector<float>(dim));
  std::mt19937_64 prng(1234);  // same prototypes for every seed
  for (auto& p : prototypes) {
    for (float& v : p) v = proto(prng);
  }
  Dataset d{dim, classes, {}, {}};
  for (int i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng() % classes);
    for (int j = 0; j < dim; ++j) d.x.push_back(prototypes[c][j] + noise(rng));
    d.y.push_back(c);
  }
  return d;
}

inline void WriteExamples(const std::string& path, const Dataset& d) {
  auto w = RecordWriter::Open(path, {});
  ASSERT_TRUE(w.ok());
  for (int64_t i = 0; i < d.size(); ++i) {
    ExampleBuilder b;
    b.AddFloats("x", absl::Span<const float>(d.x.data() + i * d.dim, d.dim));
    b.AddInt64s("label", {d.y[i]});
    ASSERT_TRUE((*w)->Write(b.Serialize()).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
}

struct Model {
  Output x, y, logits, loss, accuracy_count;
};

// hidden == 0: softmax regression; else one ReLU layer of `hidden` units.
inline Model BuildClassifier(const Scope& root, int dim, int classes, int hidden) {
  Model m;
  m.x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, {-1, dim});
  m.y = ops::Placeholder(root.WithOpName("y"), DType::kInt64, {-1});
  Output in = m.x;
  int width = dim;
  if (hidden > 0) {
    Scope l1 = root.VariableScope("hidden");
    Variable w = GetVariable(l1, "weights", {dim, hidden}, {.initializer = GlorotUniformInitializer(11)});
    Variable b = GetVariable(l1, "bias", {hidden}, {.initializer = ZerosInitializer()});
    in = ops::Relu(l1, ops::BiasAdd(l1, ops::MatMul(l1, in, w), b));
    width = hidden;
  }
  Scope out = root.VariableScope("softmax");
  Variable w = GetVariable(out, "weights", {width, classes},
                           {.initializer = hidden > 0 ? GlorotUniformInitializer(12) : ZerosInitializer()});
  Variable b = GetVariable(out, "bias", {classes}, {.initializer = ZerosInitializer()});
  m.logits = ops::BiasAdd(out, ops::MatMul(out, in, w), b);
  m.loss = ops::ReduceMean(root, ops::SparseSoftmaxCrossEntropyWithLogits(root, m.y, m.logits).loss);
  m.accuracy_count = ops::ReduceSum(
      root, ops::Cast(root, ops::Equal(root, ops::ArgMax(root, m.logits, 1), m.y), DType::kFloat32));
  return m;
}

inline double Accuracy(Session* sess, const Model& m, const Dataset& d) {
  Tensor x = Tensor::FromVector<float>(absl::Span<const float>(d.x), {d.size(), d.dim});
  Tensor y = Tensor::FromVector<int64_t>(absl::Span<const int64_t>(d.y), {d.size()});
  std::vector<Tensor> out;
  absl::Status s = sess->Run({{m.x, x}, {m.y, y}}, {m.accuracy_count}, &out);
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? out[0].scalar<float>() / d.size() : 0.0;
}

}  // namespace sluice::testing
