#pragma once
// tf.train.AdadeltaOptimizer (ApplyAdadelta, training_ops.cc):
//   accum        = rho * accum + (1 - rho) * grad²
//   update       = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad
//   accum_update = rho * accum_update + (1 - rho) * update²
//   var         -= lr * update
// Slots "<var>/Adadelta" (accum) and "<var>/Adadelta_1" (accum_update),
// zero-initialised. TensorFlow's defaults: lr 0.001, rho 0.95, eps 1e-8.

#include "graph/optimizers/optimizer.h"

namespace sluice {

class AdadeltaOptimizer : public Optimizer {
 public:
  explicit AdadeltaOptimizer(double learning_rate = 0.001, double rho = 0.95,
                             double epsilon = 1e-8)
      : Optimizer("Adadelta"),
        learning_rate_(learning_rate),
        rho_(rho),
        epsilon_(epsilon) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad,
                                    const Variable& var) override;

 private:
  const double learning_rate_, rho_, epsilon_;
};

}  // namespace sluice
