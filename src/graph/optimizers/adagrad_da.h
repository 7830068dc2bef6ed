#pragma once
// tf.train.AdagradDAOptimizer (ApplyAdagradDA, training_ops.cc), with
// t = global_step + 1 read before this step's increment:
//   g_acc  += grad;  gg_acc += grad²
//   var = -lr * sign(g_acc) * max(|g_acc| - l1 * t, 0) / (l2 * t * lr +
//   sqrt(gg_acc)) (l1 = 0: var = -lr * g_acc / (l2 * t * lr + sqrt(gg_acc)))
// Slots "<var>/AdagradDA" (g_acc, zeros) and "<var>/AdagradDA_1" (gg_acc,
// initial_gradient_squared_accumulator_value). `global_step` is an int32 or
// int64 scalar variable, normally the one Minimize increments.

#include "graph/optimizers/optimizer.h"

namespace sluice {

class AdagradDAOptimizer : public Optimizer {
 public:
  AdagradDAOptimizer(double learning_rate, Variable global_step,
                     double initial_gradient_squared_accumulator_value = 0.1,
                     double l1 = 0.0, double l2 = 0.0)
      : Optimizer("AdagradDA"),
        learning_rate_(learning_rate),
        global_step_(std::move(global_step)),
        initial_(initial_gradient_squared_accumulator_value),
        l1_(l1),
        l2_(l2) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad,
                                    const Variable& var) override;

 private:
  const double learning_rate_;
  const Variable global_step_;
  const double initial_, l1_, l2_;
};

}  // namespace sluice
