#pragma once
// tf.train.AdamOptimizer (ApplyAdam):
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 * m + (1 - beta1) * grad
//   v = beta2 * v + (1 - beta2) * grad²
//   var -= lr_t * m / (sqrt(v) + epsilon)
// Slots "<var>/Adam" (m) and "<var>/Adam_1" (v); non-slot variables
// beta1_power and beta2_power (initialised to beta1, beta2) are multiplied
// by beta1, beta2 after every variable's update.

#include "graph/optimizers/optimizer.h"

namespace sluice {

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(double learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999,
                         double epsilon = 1e-8)
      : Optimizer("Adam"), learning_rate_(learning_rate), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}

  const Variable& beta1_power() const { return beta1_power_; }
  const Variable& beta2_power() const { return beta2_power_; }

 protected:
  absl::Status Prepare(const Scope& scope, const std::vector<GradAndVar>& grads_and_vars) override;
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) override;
  absl::StatusOr<std::vector<Operation>> Finish(const Scope& scope, const std::vector<Operation>& updates) override;

 private:
  const double learning_rate_, beta1_, beta2_, epsilon_;
  Variable beta1_power_, beta2_power_;
};

}  // namespace sluice
