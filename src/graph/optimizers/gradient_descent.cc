#include "graph/optimizers/gradient_descent.h"

#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<Output> GradientDescentOptimizer::ApplyDense(const Scope& s, const Output& grad,
                                                            const Variable& var) {
  return ops::AssignSub(s, var, ops::Mul(s, grad, Scalar(s, learning_rate_, var.dtype())));
}

}  // namespace sluice
