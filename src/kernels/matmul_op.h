#pragma once
// Matrix multiplication on the CPU (Eigen's blocked GEMM for float and
// double, a plain triple loop for int32/int64).
//
// MatMul: out = op(a) x op(b), op = transpose when the flag is set; a and b
// are rank-2 of one dtype (`out` not one of them). InvalidArgument for other ranks, dtypes, or
// inner dimensions that differ ("Matrix size-incompatible: In[0]: [1,2],
// In[1]: [3,1]", TensorFlow's message). Thread-safe.

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

absl::Status MatMul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b,
                    Tensor* out);

}  // namespace sluice
