#include "graph/optimizers/adagrad.h"

#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> AdagradOptimizer::ApplyDense(const Scope& s, const Output& grad, const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable accum, Slot(s, var, name(), initial_));
  Output accum_t = ops::AssignAdd(s, accum, ops::Square(s, grad));
  return ops::AssignSub(s, var, ops::Mul(s, ops::Mul(s, grad, Scalar(s, learning_rate_, var.dtype())), ops::Rsqrt(s, accum_t)));
}

}  // namespace sluice
