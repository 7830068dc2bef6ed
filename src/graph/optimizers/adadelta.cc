#include "graph/optimizers/adadelta.h"

#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> AdadeltaOptimizer::ApplyDense(const Scope& s,
                                                     const Output& grad,
                                                     const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable accum, Slot(s, var, "Adadelta"));
  SLUICE_ASSIGN_OR_RETURN(Variable accum_update, Slot(s, var, "Adadelta_1"));
  const DType t = var.dtype();
  Output rho = Scalar(s, rho_, t), one_minus_rho = Scalar(s, 1.0 - rho_, t),
         eps = Scalar(s, epsilon_, t);
  Output accum_t =
      ops::Assign(s, accum,
                  ops::Add(s, ops::Mul(s, accum, rho),
                           ops::Mul(s, ops::Square(s, grad), one_minus_rho)));
  Output update =
      ops::Mul(s,
               ops::Div(s, ops::Sqrt(s, ops::Add(s, accum_update, eps)),
                        ops::Sqrt(s, ops::Add(s, accum_t, eps))),
               grad);
  Output update_t =
      ops::Assign(s, accum_update,
                  ops::Add(s, ops::Mul(s, accum_update, rho),
                           ops::Mul(s, ops::Square(s, update), one_minus_rho)));
  // The variable moves after accum_update has read its old value.
  return ops::AssignSub(s.WithControlDependencies(update_t), var,
                        ops::Mul(s, update, Scalar(s, learning_rate_, t)));
}

}  // namespace sluice
