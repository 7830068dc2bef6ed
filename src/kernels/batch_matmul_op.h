#pragma once
// Batched matrix multiplication on the CPU (TensorFlow's BatchMatMulV2):
// x is [..., m, k] (or [..., k, m] with adj_x), y is [..., k, n] (or
// [..., n, k] with adj_y); the batch dimensions broadcast as numpy does and
// each matrix product is MatMul's (matmul_op.h; adjoint = transpose for the
// real dtypes supported). InvalidArgument for rank < 2, differing dtypes,
// incompatible inner or batch dimensions. Thread-safe.

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// The broadcast result shape, or InvalidArgument naming both shapes.
absl::StatusOr<TensorShape> BatchMatMulShape(const TensorShape& x,
                                             const TensorShape& y, bool adj_x,
                                             bool adj_y);
absl::Status BatchMatMul(const Tensor& x, const Tensor& y, bool adj_x,
                         bool adj_y, Tensor* out);

}  // namespace sluice
