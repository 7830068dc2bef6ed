#pragma once
// tf.train.MomentumOptimizer (ApplyMomentum):
//   accum = accum * momentum + grad
//   var  -= lr * accum                                  (classic)
//   var  -= lr * grad + lr * momentum * accum           (use_nesterov)
// One fused ApplyMomentum op per variable (optimizers/training_ops.h).
// Slot "<var>/Momentum", zero-initialised.

#include "graph/optimizers/optimizer.h"

namespace sluice {

class MomentumOptimizer : public Optimizer {
 public:
  MomentumOptimizer(double learning_rate, double momentum, bool use_nesterov = false)
      : Optimizer("Momentum"), learning_rate_(learning_rate), momentum_(momentum), nesterov_(use_nesterov) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) override;

 private:
  const double learning_rate_, momentum_;
  const bool nesterov_;
};

}  // namespace sluice
