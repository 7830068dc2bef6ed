#include "train/models.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/ops/ops.h"

namespace sluice::train {
namespace {

struct Builder {
  const Scope& root;
  int64_t seed;
  int64_t layer = 0;
  std::vector<Variable> weights;

  // x [batch, in] -> x W + b (relu when asked).
  Output Dense(const Output& x, int64_t in, int64_t out, bool relu, std::string_view name) {
    Scope s = root.VariableScope(name);
    Variable w = GetVariable(s, "kernel", TensorShape{in, out},
                             {.initializer = GlorotUniformInitializer(seed + 17 * ++layer)});
    Variable b = GetVariable(s, "bias", TensorShape{out}, {.initializer = ZerosInitializer()});
    weights.push_back(w);
    weights.push_back(b);
    Output y = ops::BiasAdd(s, ops::MatMul(s, x, w), b);
    return relu ? ops::Relu(s, y) : y;
  }

  // NHWC x -> relu(conv2d(x, k) + b), SAME padding, stride 1.
  Output Conv(const Output& x, int64_t in_ch, int64_t out_ch, std::string_view name) {
    Scope s = root.VariableScope(name);
    Variable k = GetVariable(s, "kernel", TensorShape{5, 5, in_ch, out_ch},
                             {.initializer = GlorotUniformInitializer(seed + 17 * ++layer)});
    Variable b = GetVariable(s, "bias", TensorShape{out_ch}, {.initializer = ZerosInitializer()});
    weights.push_back(k);
    weights.push_back(b);
    return ops::Relu(s, ops::BiasAdd(s, ops::Conv2D(s, x, k, {1, 1, 1, 1}, "SAME"), b));
  }
};

}  // namespace

absl::StatusOr<ModelKind> ParseModelKind(std::string_view name) {
  if (name == "softmax") return ModelKind::kSoftmax;
  if (name == "mlp") return ModelKind::kMlp;
  if (name == "cnn") return ModelKind::kCnn;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown model '", Sv(name), "' (softmax, mlp or cnn)"));
}

const char* ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSoftmax: return "softmax";
    case ModelKind::kMlp: return "mlp";
    case ModelKind::kCnn: return "cnn";
  }
  return "?";
}

absl::StatusOr<Model> BuildModel(const Scope& scope, ModelKind kind, const Output& images,
                                 int64_t height, int64_t width, int64_t num_classes,
                                 int64_t seed) {
  const Scope s = scope.VariableScope(ModelKindName(kind));
  Builder b{s, seed};
  const int64_t pixels = height * width;
  Model m;
  switch (kind) {
    case ModelKind::kSoftmax:
      m.logits = b.Dense(images, pixels, num_classes, false, "dense");
      break;
    case ModelKind::kMlp: {
      Output h = b.Dense(images, pixels, 256, true, "hidden");
      m.logits = b.Dense(h, 256, num_classes, false, "logits");
      break;
    }
    case ModelKind::kCnn: {
      Output x = ops::Reshape(s, images, Tensor::FromVector<int32_t>(
                                             {-1, static_cast<int32_t>(height),
                                              static_cast<int32_t>(width), 1},
                                             TensorShape{4}));
      Output c1 = b.Conv(x, 1, 32, "conv1");
      Output p1 = ops::MaxPool(s, c1, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
      Output c2 = b.Conv(p1, 32, 64, "conv2");
      Output p2 = ops::MaxPool(s, c2, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
      const int64_t h4 = (height + 3) / 4, w4 = (width + 3) / 4;
      Output flat = ops::Reshape(
          s, p2,
          Tensor::FromVector<int32_t>({-1, static_cast<int32_t>(h4 * w4 * 64)}, TensorShape{2}));
      Output d = b.Dense(flat, h4 * w4 * 64, 1024, true, "dense");
      m.logits = b.Dense(d, 1024, num_classes, false, "logits");
      break;
    }
  }
  SLUICE_RETURN_IF_ERROR(scope.status());
  m.weights = std::move(b.weights);
  return m;
}

}  // namespace sluice::train
