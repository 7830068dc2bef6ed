// Gradients of the math ops (TensorFlow's math_grad.py), with broadcasting
// handled by SumToShapeOf.

#include "absl/strings/str_cat.h"
#include "graph/gradients/grad_util.h"
#include "graph/gradients/helper_ops.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"

namespace sluice::internal {
namespace {

using ops::Cast;
using ops::Div;
using ops::Mul;
using ops::Neg;

// d(x op y) for a broadcasting binary op: gx = dx(g), gy = dy(g), each
// summed back to its operand's shape.
absl::Status BinaryGrad(const Scope& s, const Operation& op, const Output& gx, const Output& gy,
                        std::vector<Output>* out) {
  out->push_back(gx.valid() ? SumToShapeOf(s, gx, op.input(0)) : NoGradient());
  out->push_back(gy.valid() ? SumToShapeOf(s, gy, op.input(1)) : NoGradient());
  return s.status();
}

absl::Status AddGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  return BinaryGrad(s, op, g[0], g[0], out);
}
absl::Status SubGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  return BinaryGrad(s, op, g[0], Neg(s, g[0]), out);
}
absl::Status MulGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  return BinaryGrad(s, op, Mul(s, g[0], op.input(1)), Mul(s, op.input(0), g[0]), out);
}
absl::Status RealDivGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  Output x = op.input(0), y = op.input(1);
  // d/dy (x / y) = -x / y²
  Output gy = Mul(s, g[0], Div(s, Div(s, Neg(s, x), y), y));
  return BinaryGrad(s, op, Div(s, g[0], y), gy, out);
}
absl::Status PowGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  Output x = op.input(0), y = op.input(1), z = op.output(0);
  Output gx = Mul(s, g[0], Mul(s, y, ops::Pow(s, x, ops::Sub(s, y, 1.0f))));
  // log(x) where x > 0, else 0 (TensorFlow's choice at x <= 0).
  Output positive = Cast(s, ops::Greater(s, x, 0.0f), x.dtype());
  Output log_x = Mul(s, ops::Log(s, ops::Maximum(s, x, 1e-30f)), positive);
  Output gy = Mul(s, g[0], Mul(s, z, log_x));
  return BinaryGrad(s, op, gx, gy, out);
}
absl::Status MaximumGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  Output x = op.input(0), y = op.input(1);
  Output xmask = Cast(s, ops::GreaterEqual(s, x, y), g[0].dtype());
  Output ymask = Cast(s, ops::Less(s, x, y), g[0].dtype());
  return BinaryGrad(s, op, Mul(s, g[0], xmask), Mul(s, g[0], ymask), out);
}
absl::Status MinimumGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  Output x = op.input(0), y = op.input(1);
  Output xmask = Cast(s, ops::LessEqual(s, x, y), g[0].dtype());
  Output ymask = Cast(s, ops::Greater(s, x, y), g[0].dtype());
  return BinaryGrad(s, op, Mul(s, g[0], xmask), Mul(s, g[0], ymask), out);
}
absl::Status SquaredDifferenceGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                                   std::vector<Output>* out) {
  Output d = Mul(s, Mul(s, g[0], 2.0f), ops::Sub(s, op.input(0), op.input(1)));
  return BinaryGrad(s, op, d, Neg(s, d), out);
}

// Unary ops: out = {f(g, x, y)}.
absl::Status NegGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  out->push_back(Neg(s, g[0]));
  return s.status();
}
absl::Status ExpGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  out->push_back(Mul(s, g[0], op.output(0)));
  return s.status();
}
absl::Status LogGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  out->push_back(Mul(s, g[0], ops::Reciprocal(s, op.input(0))));
  return s.status();
}
absl::Status SqrtGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  out->push_back(Div(s, Mul(s, g[0], 0.5f), op.output(0)));
  return s.status();
}
absl::Status RsqrtGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                       std::vector<Output>* out) {
  Output y = op.output(0);
  out->push_back(Mul(s, g[0], Mul(s, Mul(s, y, Mul(s, y, y)), -0.5f)));
  return s.status();
}
absl::Status SquareGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                        std::vector<Output>* out) {
  out->push_back(Mul(s, g[0], Mul(s, op.input(0), 2.0f)));
  return s.status();
}
absl::Status ReciprocalGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                            std::vector<Output>* out) {
  Output y = op.output(0);
  out->push_back(Neg(s, Mul(s, g[0], Mul(s, y, y))));
  return s.status();
}
absl::Status AbsGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  out->push_back(Mul(s, g[0], ops::Sign(s, op.input(0))));
  return s.status();
}

absl::Status MatMulGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                        std::vector<Output>* out) {
  const bool ta = *op.node()->attr<bool>("transpose_a");
  const bool tb = *op.node()->attr<bool>("transpose_b");
  Output a = op.input(0), b = op.input(1), grad = g[0];
  using O = ops::MatMulOptions;
  if (!ta && !tb) {
    out->push_back(ops::MatMul(s, grad, b, O{false, true}));
    out->push_back(ops::MatMul(s, a, grad, O{true, false}));
  } else if (!ta && tb) {
    out->push_back(ops::MatMul(s, grad, b, O{false, false}));
    out->push_back(ops::MatMul(s, grad, a, O{true, false}));
  } else if (ta && !tb) {
    out->push_back(ops::MatMul(s, b, grad, O{false, true}));
    out->push_back(ops::MatMul(s, a, grad, O{false, false}));
  } else {
    out->push_back(ops::MatMul(s, b, grad, O{true, true}));
    out->push_back(ops::MatMul(s, grad, a, O{true, true}));
  }
  return s.status();
}

bool ReduceAll(const Operation& op) {
  const bool* ra = op.node()->attr<bool>("reduce_all");
  return ra != nullptr && *ra;
}

absl::Status SumGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                     std::vector<Output>* out) {
  out->push_back(BroadcastReduced(s, g[0], op.input(0), op.input(1), ReduceAll(op), false));
  out->push_back(NoGradient());
  return s.status();
}
absl::Status MeanGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  out->push_back(BroadcastReduced(s, g[0], op.input(0), op.input(1), ReduceAll(op), true));
  out->push_back(NoGradient());
  return s.status();
}
// Prod: each element's gradient is the product of the rest of its group.
absl::Status ProdGradFn(const Scope& s, const Operation& op, const std::vector<Output>& g,
                        std::vector<Output>* out) {
  out->push_back(ProdGrad(s, g[0], op.input(0), op.input(1), ReduceAll(op)));
  out->push_back(NoGradient());
  return s.status();
}
// Max/Min: the gradient is shared equally among the elements that attain
// the extremum (TensorFlow's _MinOrMaxGrad).
absl::Status MinOrMaxGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                          std::vector<Output>* out) {
  Output x = op.input(0), axes = op.input(1);
  const bool all = ReduceAll(op);
  Output y = BroadcastReduced(s, op.output(0), x, axes, all, false);
  Output grad = BroadcastReduced(s, g[0], x, axes, all, false);
  Output indicators = Cast(s, ops::Equal(s, y, x), g[0].dtype());
  std::optional<std::vector<int64_t>> ax;
  if (!all) {
    ax = ConstIntValues(axes);
    if (!ax.has_value()) {
      return absl::UnimplementedError(absl::StrCat(op.name(), ": Max/Min gradient needs constant axes"));
    }
  }
  Output num = BroadcastReduced(s, ops::ReduceSum(s, indicators, ax), x, axes, all, false);
  out->push_back(Mul(s, Div(s, indicators, num), grad));
  out->push_back(NoGradient());
  return s.status();
}

absl::Status AddNGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  for (int i = 0; i < op.num_inputs(); ++i) out->push_back(g[0]);
  return s.status();
}

absl::Status CastGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                      std::vector<Output>* out) {
  const DType src = op.input(0).dtype();
  if (IsFloating(src) && IsFloating(op.output(0).dtype())) {
    out->push_back(src == g[0].dtype() ? g[0] : Cast(s, g[0], src));
  } else {
    out->push_back(NoGradient());
  }
  return s.status();
}

}  // namespace

void RegisterMathGradients(GradientRegistry* r) {
  (void)r->Register("Add", AddGrad);
  (void)r->Register("Sub", SubGrad);
  (void)r->Register("Mul", MulGrad);
  (void)r->Register("RealDiv", RealDivGrad);
  (void)r->Register("Pow", PowGrad);
  (void)r->Register("Maximum", MaximumGrad);
  (void)r->Register("Minimum", MinimumGrad);
  (void)r->Register("SquaredDifference", SquaredDifferenceGrad);
  (void)r->Register("Neg", NegGrad);
  (void)r->Register("Exp", ExpGrad);
  (void)r->Register("Log", LogGrad);
  (void)r->Register("Sqrt", SqrtGrad);
  (void)r->Register("Rsqrt", RsqrtGrad);
  (void)r->Register("Square", SquareGrad);
  (void)r->Register("Reciprocal", ReciprocalGrad);
  (void)r->Register("Abs", AbsGrad);
  (void)r->Register("MatMul", MatMulGrad);
  (void)r->Register("Sum", SumGrad);
  (void)r->Register("Mean", MeanGrad);
  (void)r->Register("Prod", ProdGradFn);
  (void)r->Register("Max", MinOrMaxGrad);
  (void)r->Register("Min", MinOrMaxGrad);
  (void)r->Register("AddN", AddNGrad);
  (void)r->Register("Cast", CastGrad);
  for (const char* op : {"Sign", "Floor", "Ceil", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
                         "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "ArgMax", "ArgMin"}) {
    RegisterNoGradient(r, op);
  }
}

}  // namespace sluice::internal
