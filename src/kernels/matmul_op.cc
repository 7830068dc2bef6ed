#include "kernels/matmul_op.h"

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {

absl::Status MatMul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b,
                    Tensor* out) {
  if (a.rank() != 2 || b.rank() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("MatMul needs rank-2 inputs, got ",
                                                   a.shape().DebugString(), " and ",
                                                   b.shape().DebugString()));
  }
  if (a.dtype() != b.dtype()) return absl::InvalidArgumentError("MatMul: dtypes differ");
  const int64_t m = transpose_a ? a.dim(1) : a.dim(0);
  const int64_t k = transpose_a ? a.dim(0) : a.dim(1);
  const int64_t k2 = transpose_b ? b.dim(1) : b.dim(0);
  const int64_t n = transpose_b ? b.dim(0) : b.dim(1);
  if (k != k2) {
    return absl::InvalidArgumentError(absl::StrCat("Matrix size-incompatible: In[0]: ",
                                                   a.shape().DebugString(), ", In[1]: ",
                                                   b.shape().DebugString()));
  }
  const DType dt = a.dtype();
  return internal::DispatchNumeric("MatMul", dt, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    *out = Tensor(dt, TensorShape{m, n});
    if constexpr (std::is_floating_point_v<T>) {
      using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      Eigen::Map<const Mat> A(a.data<T>(), a.dim(0), a.dim(1));
      Eigen::Map<const Mat> B(b.data<T>(), b.dim(0), b.dim(1));
      Eigen::Map<Mat> C(out->data<T>(), m, n);
      if (k == 0) {
        C.setZero();
      } else if (!transpose_a && !transpose_b) {
        C.noalias() = A * B;
      } else if (transpose_a && !transpose_b) {
        C.noalias() = A.transpose() * B;
      } else if (!transpose_a && transpose_b) {
        C.noalias() = A * B.transpose();
      } else {
        C.noalias() = A.transpose() * B.transpose();
      }
    } else {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* pc = out->data<T>();
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          T acc = 0;
          for (int64_t p = 0; p < k; ++p) {
            const T x = transpose_a ? pa[p * a.dim(1) + i] : pa[i * a.dim(1) + p];
            const T y = transpose_b ? pb[j * b.dim(1) + p] : pb[p * b.dim(1) + j];
            acc += x * y;
          }
          pc[i * n + j] = acc;
        }
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace sluice
