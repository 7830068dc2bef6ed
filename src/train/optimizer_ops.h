#pragma once
// Optimizer update ops with TensorFlow's names, inputs and rules, their CPU
// kernels, and a momentum optimizer that builds them (tf.train's
// GradientDescentOptimizer / MomentumOptimizer.minimize, reduced to what
// `sluice train` needs).
//
//   ApplyGradientDescent(var, alpha, delta):  var -= alpha * delta
//   ApplyMomentum(var, accum, lr, grad, momentum):
//       accum = accum * momentum + grad;  var -= lr * accum
//       (use_nesterov: var -= lr * grad + lr * momentum * accum)
// var and accum are variable references (ref inputs); alpha, lr and
// momentum are float scalars. Each op outputs the variable's new value.
// Updates are functional: a new tensor replaces the variable's value, so a
// tensor read earlier in the same step never changes under its reader.
// The CUDA kernels for the same ops live in kernels/cuda.
//
// Errors (kernels): FailedPrecondition for an uninitialised var or accum,
// InvalidArgument for a shape mismatch or a non-scalar hyperparameter.
//
// Thread-safety: RegisterOptimizerOps is idempotent and thread-safe; the
// builders follow Scope's rules (one building thread).

#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "graph/variables.h"

namespace sluice {

// Registers the op definitions and CPU kernels (called by the builders).
void RegisterOptimizerOps();

namespace ops {
Output ApplyGradientDescent(const Scope& scope, const Input& var, const Input& alpha,
                            const Input& delta);
Output ApplyMomentum(const Scope& scope, const Input& var, const Input& accum, const Input& lr,
                     const Input& grad, const Input& momentum, bool use_nesterov = false);
}  // namespace ops

struct MomentumOptimizerOptions {
  double learning_rate = 0.05;
  double momentum = 0.9;
  bool use_nesterov = false;
};

// minimize(loss): gradients of `loss` for `vars`, one ApplyMomentum per
// variable (accumulators "<var>/Momentum", non-trainable, zero-initialised,
// in GLOBAL_VARIABLES so the Saver keeps them) and, when `global_step` is
// valid, an AssignAdd of 1 that runs after the updates. Returns the train
// op (a NoOp depending on all of them). Errors: those of Gradients, and
// InvalidArgument when a variable gets no gradient.
absl::StatusOr<Operation> MinimizeWithMomentum(const Scope& scope, const Output& loss,
                                               const std::vector<Variable>& vars,
                                               const Variable& global_step,
                                               MomentumOptimizerOptions options = {});

}  // namespace sluice
