#include "graph/optimizers/momentum.h"

#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> MomentumOptimizer::ApplyDense(const Scope& s, const Output& grad, const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable accum, Slot(s, var, name()));
  Output accum_t = ops::Assign(s, accum, ops::Add(s, ops::Mul(s, accum, Scalar(s, momentum_, var.dtype())), grad));
  Output step = nesterov_ ? ops::Add(s, ops::Mul(s, grad, Scalar(s, learning_rate_, var.dtype())),
                                     ops::Mul(s, accum_t, Scalar(s, learning_rate_ * momentum_, var.dtype())))
                          : ops::Mul(s, accum_t, Scalar(s, learning_rate_, var.dtype()));
  return ops::AssignSub(s, var, step);
}

}  // namespace sluice
