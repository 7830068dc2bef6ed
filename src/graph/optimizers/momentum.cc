#include "graph/optimizers/momentum.h"

#include "graph/optimizers/training_ops.h"

namespace sluice {

absl::StatusOr<Output> MomentumOptimizer::ApplyDense(const Scope& s, const Output& grad, const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable accum, Slot(s, var, name()));
  return ops::ApplyMomentum(s, var, accum, Scalar(s, learning_rate_, var.dtype()), grad,
                            Scalar(s, momentum_, var.dtype()), nesterov_);
}

}  // namespace sluice
