#pragma once
// tf.train.AdagradOptimizer (ApplyAdagrad):
//   accum += grad²;  var -= lr * grad / sqrt(accum)
// Slot "<var>/Adagrad", initialised to initial_accumulator_value.

#include "graph/optimizers/optimizer.h"

namespace sluice {

class AdagradOptimizer : public Optimizer {
 public:
  explicit AdagradOptimizer(double learning_rate, double initial_accumulator_value = 0.1)
      : Optimizer("Adagrad"), learning_rate_(learning_rate), initial_(initial_accumulator_value) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) override;

 private:
  const double learning_rate_, initial_;
};

}  // namespace sluice
