#pragma once
// tf.train.FtrlOptimizer (ApplyFtrl, training_ops.cc; l2_shrinkage 0):
//   new_accum  = accum + grad²
//   linear    += grad - (new_accum^(-p) - accum^(-p)) / lr * var
//   quadratic  = new_accum^(-p) / lr + 2 * l2
//   var        = |linear| > l1 ? (sign(linear) * l1 - linear) / quadratic : 0
//   accum      = new_accum
// with p = learning_rate_power (<= 0; -0.5 by default). Slots "<var>/Ftrl"
// (accum, initial_accumulator_value) and "<var>/Ftrl_1" (linear, zeros).

#include "graph/optimizers/optimizer.h"

namespace sluice {

class FtrlOptimizer : public Optimizer {
 public:
  explicit FtrlOptimizer(double learning_rate,
                         double learning_rate_power = -0.5,
                         double initial_accumulator_value = 0.1,
                         double l1 = 0.0, double l2 = 0.0)
      : Optimizer("Ftrl"),
        learning_rate_(learning_rate),
        power_(learning_rate_power),
        initial_(initial_accumulator_value),
        l1_(l1),
        l2_(l2) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad,
                                    const Variable& var) override;

 private:
  const double learning_rate_, power_, initial_, l1_, l2_;
};

}  // namespace sluice
