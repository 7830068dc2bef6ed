#pragma once
// tf.train.RMSPropOptimizer (ApplyRMSProp, centered = false):
//   ms  = decay * ms + (1 - decay) * grad²
//   mom = momentum * mom + lr * grad / sqrt(ms + epsilon)
//   var -= mom
// Slots "<var>/RMSProp" (ms, initialised to ones as in TensorFlow 1.x) and
// "<var>/RMSProp_1" (mom, zeros).

#include "graph/optimizers/optimizer.h"

namespace sluice {

class RMSPropOptimizer : public Optimizer {
 public:
  explicit RMSPropOptimizer(double learning_rate, double decay = 0.9, double momentum = 0.0,
                            double epsilon = 1e-10)
      : Optimizer("RMSProp"), learning_rate_(learning_rate), decay_(decay), momentum_(momentum),
        epsilon_(epsilon) {}

 protected:
  absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) override;

 private:
  const double learning_rate_, decay_, momentum_, epsilon_;
};

}  // namespace sluice
