#pragma once
// CPU kernels of TensorFlow's fused optimizer updates (training_ops.cc):
// one pass over a variable instead of a chain of element-wise ops.
//
//   ApplyGradientDescent:  var' = var - alpha * delta
//   ApplyMomentum:         accum' = accum * momentum + grad
//                          var'   = var - lr * accum'                   (classic)
//                          var'   = var - (grad * lr + accum' * momentum * lr)
//                                                                 (use_nesterov)
//
// The functions allocate their results (host memory) and never write their
// inputs, so a tensor read earlier in the same step never changes under
// its reader. float32 and float64; the hyperparameters are converted to
// the variable's type first, as TensorFlow's scalar inputs of type T are.
// Status codes: InvalidArgument for shapes that differ or another dtype.
// Thread-safe: no state.

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

absl::Status ApplyGradientDescentCpu(const Tensor& var, double alpha, const Tensor& delta,
                                     Tensor* new_var);

absl::Status ApplyMomentumCpu(const Tensor& var, const Tensor& accum, double lr,
                              const Tensor& grad, double momentum, bool use_nesterov,
                              Tensor* new_var, Tensor* new_accum);

}  // namespace sluice
