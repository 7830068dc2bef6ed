#include "kernels/batch_matmul_op.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "kernels/matmul_op.h"

namespace sluice {
namespace {

absl::Status Incompatible(const TensorShape& x, const TensorShape& y) {
  return absl::InvalidArgumentError(
      absl::StrCat("BatchMatMulV2: In[0] ", x.DebugString(), " and In[1] ",
                   y.DebugString(), " are not compatible"));
}

// Batch dims of `s` right-aligned to `rank` (1 where missing).
std::vector<int64_t> Batch(const TensorShape& s, int rank) {
  std::vector<int64_t> b(rank, 1);
  const int own = s.rank() - 2;
  for (int i = 0; i < own; ++i) b[rank - own + i] = s.dim(i);
  return b;
}

}  // namespace

absl::StatusOr<TensorShape> BatchMatMulShape(const TensorShape& x,
                                             const TensorShape& y, bool adj_x,
                                             bool adj_y) {
  if (x.rank() < 2 || y.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("BatchMatMulV2 needs rank >= 2, got ", x.DebugString(),
                     " and ", y.DebugString()));
  }
  const int64_t m = x.dim(x.rank() - (adj_x ? 1 : 2));
  const int64_t k = x.dim(x.rank() - (adj_x ? 2 : 1));
  const int64_t k2 = y.dim(y.rank() - (adj_y ? 1 : 2));
  const int64_t n = y.dim(y.rank() - (adj_y ? 2 : 1));
  if (k >= 0 && k2 >= 0 && k != k2) return Incompatible(x, y);
  const int br = std::max(x.rank(), y.rank()) - 2;
  std::vector<int64_t> bx = Batch(x, br), by = Batch(y, br);
  TensorShape out;
  for (int i = 0; i < br; ++i) {
    if (bx[i] == 1) {
      out.AddDim(by[i]);
    } else if (by[i] == 1 || by[i] == bx[i]) {
      out.AddDim(bx[i]);
    } else if (bx[i] < 0 || by[i] < 0) {
      out.AddDim(-1);
    } else {
      return Incompatible(x, y);
    }
  }
  out.AddDim(m);
  out.AddDim(n);
  return out;
}

absl::Status BatchMatMul(const Tensor& x, const Tensor& y, bool adj_x,
                         bool adj_y, Tensor* out) {
  if (x.dtype() != y.dtype())
    return absl::InvalidArgumentError("BatchMatMulV2: dtypes differ");
  SLUICE_ASSIGN_OR_RETURN(TensorShape os,
                          BatchMatMulShape(x.shape(), y.shape(), adj_x, adj_y));
  const int br = os.rank() - 2;
  std::vector<int64_t> bx = Batch(x.shape(), br), by = Batch(y.shape(), br);
  const int64_t xm = x.dim(x.rank() - 2), xk = x.dim(x.rank() - 1);
  const int64_t ym = y.dim(y.rank() - 2), yk = y.dim(y.rank() - 1);
  const int64_t nx = x.NumElements() / std::max<int64_t>(1, xm * xk);
  const int64_t ny = y.NumElements() / std::max<int64_t>(1, ym * yk);
  Tensor xb = x.Reshaped(TensorShape{nx, xm, xk});
  Tensor yb = y.Reshaped(TensorShape{ny, ym, yk});
  *out = Tensor(x.dtype(), os);
  const int64_t batches =
      br == 0 ? 1
              : os.num_elements() /
                    std::max<int64_t>(1, os.dim(br) * os.dim(br + 1));
  const size_t mat_bytes = os.dim(br) * os.dim(br + 1) * DTypeSize(x.dtype());
  std::vector<int64_t> idx(br, 0);
  for (int64_t b = 0; b < batches; ++b) {
    // Row-major index of the broadcast batch position in x and in y.
    int64_t ix = 0, iy = 0;
    for (int d = 0; d < br; ++d) {
      ix = ix * bx[d] + (bx[d] == 1 ? 0 : idx[d]);
      iy = iy * by[d] + (by[d] == 1 ? 0 : idx[d]);
    }
    Tensor c;
    SLUICE_RETURN_IF_ERROR(MatMul(xb.Row(ix), yb.Row(iy), adj_x, adj_y, &c));
    std::memcpy(static_cast<char*>(out->raw_data()) + b * mat_bytes,
                c.raw_data(), mat_bytes);
    for (int d = br - 1; d >= 0; --d) {
      if (++idx[d] < os.dim(d)) break;
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice
