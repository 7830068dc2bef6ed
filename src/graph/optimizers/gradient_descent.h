#pragma once
// tf.train.GradientDescentOptimizer: var -= learning_rate * grad, one fused
// ApplyGradientDescent op per variable (optimizers/training_ops.h).

#include "graph/optimizers/optimizer.h"

namespace sluice {

class GradientDescentOptimizer : public Optimizer {
 public:
  explicit GradientDescentOptimizer(double learning_rate)
      : Optimizer("GradientDescent"), learning_rate_(learning_rate) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) override;

 private:
  const double learning_rate_;
};

}  // namespace sluice
