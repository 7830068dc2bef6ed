#include "graph/optimizers/adagrad_da.h"

#include "absl/strings/str_cat.h"

#include "graph/ops/array_ops.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> AdagradDAOptimizer::ApplyDense(const Scope& s,
                                                      const Output& grad,
                                                      const Variable& var) {
  if (!global_step_.valid()) {
    return absl::InvalidArgumentError(
        "AdagradDAOptimizer needs a global_step variable");
  }
  SLUICE_ASSIGN_OR_RETURN(Variable g_acc, Slot(s, var, "AdagradDA"));
  SLUICE_ASSIGN_OR_RETURN(Variable gg_acc,
                          Slot(s, var, "AdagradDA_1", initial_));
  const DType t = var.dtype();
  Output step =
      ops::Add(s, ops::Cast(s, global_step_.value(), t), Scalar(s, 1.0, t));
  Output lr = Scalar(s, learning_rate_, t);
  Output g_acc_t = ops::AssignAdd(s, g_acc, grad);
  Output gg_acc_t = ops::AssignAdd(s, gg_acc, ops::Square(s, grad));
  Output denom =
      ops::Add(s, ops::Mul(s, ops::Mul(s, Scalar(s, l2_, t), step), lr),
               ops::Sqrt(s, gg_acc_t));
  Output num = g_acc_t;
  if (l1_ > 0) {
    Output shrunk = ops::Maximum(
        s,
        ops::Sub(s, ops::Abs(s, g_acc_t), ops::Mul(s, Scalar(s, l1_, t), step)),
        Scalar(s, 0.0, t));
    num = ops::Mul(s, ops::Sign(s, g_acc_t), shrunk);
  }
  return ops::Assign(s, var,
                     ops::Div(s, ops::Mul(s, ops::Neg(s, lr), num), denom));
}

}  // namespace sluice
