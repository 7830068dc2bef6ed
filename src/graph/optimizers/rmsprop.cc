#include "graph/optimizers/rmsprop.h"

#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> RMSPropOptimizer::ApplyDense(const Scope& s, const Output& grad, const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable ms, Slot(s, var, "RMSProp", 1.0));
  SLUICE_ASSIGN_OR_RETURN(Variable mom, Slot(s, var, "RMSProp_1", 0.0));
  Output ms_t = ops::Assign(s, ms, ops::Add(s, ops::Mul(s, ms, Scalar(s, decay_, var.dtype())), ops::Mul(s, ops::Square(s, grad), Scalar(s, 1.0 - decay_, var.dtype()))));
  Output mom_t = ops::Assign(
      s, mom,
      ops::Add(s, ops::Mul(s, mom, Scalar(s, momentum_, var.dtype())),
               ops::Div(s, ops::Mul(s, grad, Scalar(s, learning_rate_, var.dtype())), ops::Sqrt(s, ops::Add(s, ms_t, Scalar(s, epsilon_, var.dtype()))))));
  return ops::AssignSub(s, var, mom_t);
}

}  // namespace sluice
