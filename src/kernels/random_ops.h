#pragma once
// Random tensors on the CPU from a seeded sluice::Random (float, double).
// The same generator state gives the same values on every platform.
// Not thread-safe with respect to `rng`: the caller serialises use of it.

#include "core/random.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// Normal(mean, stddev), Box-Muller.
absl::Status RandomNormal(DType dtype, const TensorShape& shape, double mean, double stddev,
                          Random* rng, Tensor* out);
// Normal(mean, stddev) redrawn until within two standard deviations.
absl::Status TruncatedNormal(DType dtype, const TensorShape& shape, double mean, double stddev,
                             Random* rng, Tensor* out);
// Uniform in [minval, maxval).
absl::Status RandomUniform(DType dtype, const TensorShape& shape, double minval, double maxval,
                           Random* rng, Tensor* out);

}  // namespace sluice
