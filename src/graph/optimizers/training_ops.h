#pragma once
// TensorFlow's fused optimizer update ops (ApplyGradientDescent,
// ApplyMomentum) as graph nodes: one kernel per variable and step instead
// of the four element-wise ops of a composed update. GradientDescent- and
// MomentumOptimizer emit them; their CPU kernels are kernels/training_ops.h,
// and graph/cuda registers GPU kernels under the same op names.
//
//   ApplyGradientDescent(var, alpha, delta):  var -= alpha * delta
//   ApplyMomentum(var, accum, lr, grad, momentum; use_nesterov):
//       accum = accum * momentum + grad;  var -= lr * accum
//       (use_nesterov: var -= grad * lr + accum * momentum * lr)
// var and accum are variable references (ref inputs); alpha, lr and
// momentum are scalars of var's dtype (float32 or float64). Each op
// outputs the variable's new value. Updates are functional: a new tensor
// replaces the variable's value, so a tensor read earlier in the same step
// never changes under its reader.
//
// Errors (kernels): FailedPrecondition for an uninitialised var or accum,
// InvalidArgument for a shape or dtype mismatch or a non-scalar
// hyperparameter. Graph construction: dtype and shape mismatches are
// recorded in the scope's status.
//
// Thread-safety: RegisterTrainingOps is idempotent and thread-safe (the
// builders call it); the builders follow Scope's rules.

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice {

void RegisterTrainingOps();

namespace ops {
Output ApplyGradientDescent(const Scope& scope, const Input& var, const Input& alpha,
                            const Input& delta);
Output ApplyMomentum(const Scope& scope, const Input& var, const Input& accum, const Input& lr,
                     const Input& grad, const Input& momentum, bool use_nesterov = false);
}  // namespace ops

}  // namespace sluice
