#include "graph/optimizers/gradient_descent.h"

#include "graph/optimizers/training_ops.h"

namespace sluice {

absl::StatusOr<Output> GradientDescentOptimizer::ApplyDense(const Scope& s, const Output& grad,
                                                            const Variable& var) {
  return ops::ApplyGradientDescent(s, var, Scalar(s, learning_rate_, var.dtype()), grad);
}

}  // namespace sluice
