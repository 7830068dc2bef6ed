#include "graph/optimizers/ftrl.h"

#include "absl/strings/str_cat.h"

#include "graph/ops/array_ops.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> FtrlOptimizer::ApplyDense(const Scope& s,
                                                 const Output& grad,
                                                 const Variable& var) {
  if (power_ > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate_power must be <= 0, got ", power_));
  }
  SLUICE_ASSIGN_OR_RETURN(Variable accum, Slot(s, var, "Ftrl", initial_));
  SLUICE_ASSIGN_OR_RETURN(Variable linear, Slot(s, var, "Ftrl_1"));
  const DType t = var.dtype();
  Output lr = Scalar(s, learning_rate_, t);
  Output old_accum = ops::Identity(s, accum);
  Output new_accum = ops::Add(s, old_accum, ops::Square(s, grad));
  auto powered = [&](const Output& a) {
    return power_ == -0.5 ? ops::Sqrt(s, a)
                          : ops::Pow(s, a, Scalar(s, -power_, t));
  };
  Output new_pow = powered(new_accum);
  Output sigma = ops::Div(s, ops::Sub(s, new_pow, powered(old_accum)), lr);
  Output linear_t =
      ops::AssignAdd(s, linear, ops::Sub(s, grad, ops::Mul(s, sigma, var)));
  Output quadratic =
      ops::Add(s, ops::Div(s, new_pow, lr), Scalar(s, 2.0 * l2_, t));
  Output l1 = Scalar(s, l1_, t);
  Output shrunk = ops::Div(
      s, ops::Sub(s, ops::Mul(s, ops::Sign(s, linear_t), l1), linear_t),
      quadratic);
  Output var_t =
      ops::Assign(s, var,
                  ops::Select(s, ops::Greater(s, ops::Abs(s, linear_t), l1),
                              shrunk, ops::ZerosLike(s, shrunk)));
  // accum changes only after the update has read its old value.
  return ops::Assign(s.WithControlDependencies(var_t), accum, new_accum);
}

}  // namespace sluice
