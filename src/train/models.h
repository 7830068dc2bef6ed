#pragma once
// The models `sluice train` trains on 28x28 gray images (Fashion-MNIST):
//   softmax  logistic regression: 784 -> 10
//   mlp      784 -> 256 (relu) -> 10 (the default)
//   cnn      TensorFlow's layers tutorial: conv 5x5x32 + relu, max_pool 2x2,
//            conv 5x5x64 + relu, max_pool 2x2, dense 1024 + relu, dense 10
//            (the tutorial's dropout is left out)
// Weights are glorot-uniform with per-op seeds derived from `seed`, biases
// zero; every variable is made with GetVariable under "<model>/<layer>".
//
// Thread-safety: builders follow Scope's rules (one building thread).

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/scope.h"
#include "graph/variables.h"

namespace sluice::train {

enum class ModelKind { kSoftmax, kMlp, kCnn };

// "softmax", "mlp", "cnn"; InvalidArgument otherwise.
absl::StatusOr<ModelKind> ParseModelKind(std::string_view name);
const char* ModelKindName(ModelKind kind);

struct Model {
  Output logits;                  // float [batch, 10]
  std::vector<Variable> weights;  // trainable, in layer order (kernels and biases)
};

// `images`: float [batch, height*width] in [0, 1]. Errors are those recorded
// in the scope's status.
absl::StatusOr<Model> BuildModel(const Scope& scope, ModelKind kind, const Output& images,
                                 int64_t height, int64_t width, int64_t num_classes,
                                 int64_t seed);

}  // namespace sluice::train
