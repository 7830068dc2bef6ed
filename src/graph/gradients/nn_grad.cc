// Gradients of the nn ops (TensorFlow's nn_grad.py).

#include "absl/strings/str_cat.h"
#include "graph/gradients/grad_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"

namespace sluice::internal {
namespace {

using ops::Mul;

absl::StatusOr<int64_t> LastAxis(const Operation& op, const Output& x) {
  if (!x.rank_known() || x.shape().rank() == 0) {
    return absl::UnimplementedError(absl::StrCat(op.name(), ": gradient needs a known rank of at least 1"));
  }
  return x.shape().rank() - 1;
}

absl::Status ReluGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  out->push_back(ops::ReluGrad(s, g[0], op.output(0)));
  return s.status();
}
absl::Status SigmoidGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  out->push_back(ops::SigmoidGrad(s, op.output(0), g[0]));
  return s.status();
}
absl::Status TanhGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  out->push_back(ops::TanhGrad(s, op.output(0), g[0]));
  return s.status();
}
// (g - sum(g * y, -1)) * y
absl::Status SoftmaxGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  Output y = op.output(0);
  SLUICE_ASSIGN_OR_RETURN(int64_t axis, LastAxis(op, y));
  Output sum = ops::ReduceSum(s, Mul(s, g[0], y), std::vector<int64_t>{axis}, {.keep_dims = true});
  out->push_back(Mul(s, ops::Sub(s, g[0], sum), y));
  return s.status();
}
// g - exp(y) * sum(g, -1)
absl::Status LogSoftmaxGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                            std::vector<Output>* out) {
  Output y = op.output(0);
  SLUICE_ASSIGN_OR_RETURN(int64_t axis, LastAxis(op, y));
  Output sum = ops::ReduceSum(s, g[0], std::vector<int64_t>{axis}, {.keep_dims = true});
  out->push_back(ops::Sub(s, g[0], Mul(s, ops::Exp(s, y), sum)));
  return s.status();
}

// Inputs (logits, labels); outputs (loss [batch], backprop [batch, n]).
absl::Status XentGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out, bool sparse) {
  if (g.size() > 1 && g[1].valid()) {
    return absl::UnimplementedError(
        absl::StrCat(op.name(), ": gradient through the backprop output is not supported"));
  }
  Output g_col = ops::Reshape(s, g[0], {-1, 1});
  out->push_back(Mul(s, g_col, op.output(1)));
  if (sparse) {
    out->push_back(NoGradient());
  } else {
    out->push_back(Mul(s, g_col, ops::Neg(s, ops::LogSoftmax(s, op.input(0)))));
  }
  return s.status();
}

absl::Status BiasAddGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  out->push_back(g[0]);
  out->push_back(ops::BiasAddGrad(s, g[0]));
  return s.status();
}

absl::Status Conv2DGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                        std::vector<Output>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto strides, op.node()->GetAttr<std::vector<int64_t>>("strides"));
  SLUICE_ASSIGN_OR_RETURN(auto padding, op.node()->GetAttr<std::string>("padding"));
  Output input = op.input(0), filter = op.input(1);
  out->push_back(ops::Conv2DBackpropInput(s, ops::Shape(s, input), filter, g[0], strides, padding));
  out->push_back(ops::Conv2DBackpropFilter(s, input, ops::Shape(s, filter), g[0], strides, padding));
  return s.status();
}

absl::Status MaxPoolGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto ksize, op.node()->GetAttr<std::vector<int64_t>>("ksize"));
  SLUICE_ASSIGN_OR_RETURN(auto strides, op.node()->GetAttr<std::vector<int64_t>>("strides"));
  SLUICE_ASSIGN_OR_RETURN(auto padding, op.node()->GetAttr<std::string>("padding"));
  out->push_back(ops::MaxPoolGrad(s, op.input(0), op.output(0), g[0], ksize, strides, padding));
  return s.status();
}

}  // namespace

void RegisterNnGradients(GradientRegistry* r) {
  (void)r->Register("Relu", ReluGrad);
  (void)r->Register("Sigmoid", SigmoidGrad);
  (void)r->Register("Tanh", TanhGrad);
  (void)r->Register("Softmax", SoftmaxGrad);
  (void)r->Register("LogSoftmax", LogSoftmaxGrad);
  (void)r->Register("SoftmaxCrossEntropyWithLogits",
                    [](const Scope& s, const Operation& op, const std::vector<Output>& g,
                       std::vector<Output>* out) { return XentGrad(s, op, g, out, false); });
  (void)r->Register("SparseSoftmaxCrossEntropyWithLogits",
                    [](const Scope& s, const Operation& op, const std::vector<Output>& g,
                       std::vector<Output>* out) { return XentGrad(s, op, g, out, true); });
  (void)r->Register("BiasAdd", BiasAddGrad);
  (void)r->Register("Conv2D", Conv2DGrad);
  (void)r->Register("MaxPool", MaxPoolGrad);
  for (const char* op : {"RandomUniform", "RandomStandardNormal", "RandomNormal", "TruncatedNormal"}) {
    RegisterNoGradient(r, op);
  }
}

}  // namespace sluice::internal
