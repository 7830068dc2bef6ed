#include "kernels/reduction_ops.h"

#include <limits>
#include <type_traits>

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

absl::StatusOr<std::vector<bool>> ReducedMask(int rank, absl::Span<const int64_t> axes) {
  std::vector<bool> mask(rank, false);
  for (int64_t a : axes) {
    const int64_t ax = a < 0 ? a + rank : a;
    if (ax < 0 || ax >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid reduction dimension ", a, " for input with ", rank, " dimensions"));
    }
    mask[ax] = true;
  }
  return mask;
}

template <typename T>
absl::Status ReduceTyped(ReduceOp op, const Tensor& in, const std::vector<bool>& mask,
                         const TensorShape& out_shape, Tensor* out) {
  const int r = in.rank();
  // Output strides for the unreduced dims; 0 for reduced ones.
  TensorShape kept;
  for (int d = 0; d < r; ++d) {
    if (!mask[d]) kept.AddDim(in.dim(d));
  }
  std::vector<int64_t> ostride(r, 0);
  int64_t acc = 1;
  for (int d = r - 1; d >= 0; --d) {
    if (!mask[d]) {
      ostride[d] = acc;
      acc *= in.dim(d);
    }
  }
  const int64_t on = kept.num_elements();
  const int64_t n = in.NumElements();
  const int64_t count = on == 0 ? 0 : n / on;
  *out = Tensor(in.dtype(), out_shape);
  T* po = out->data<T>();
  T init;
  switch (op) {
    case ReduceOp::kMax: init = std::numeric_limits<T>::lowest(); break;
    case ReduceOp::kMin: init = std::numeric_limits<T>::max(); break;
    case ReduceOp::kProd: init = T(1); break;
    default: init = T(0); break;
  }
  for (int64_t i = 0; i < on; ++i) po[i] = init;
  const T* pi = in.data<T>();
  // Fast path: the reduced axes are a suffix, so each output reduces one
  // contiguous run (row sums, the mean of a loss vector).
  bool suffix = true, prefix = true;
  {
    bool seen = false, kept = false;
    for (int d = 0; d < r; ++d) {
      if (mask[d]) seen = true;
      else if (seen) suffix = false;
      if (!mask[d]) kept = true;
      else if (kept) prefix = false;
    }
  }
  if (suffix && count > 0) {
    using Arr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    for (int64_t i = 0; i < on; ++i) {
      Arr x(pi + i * count, count);
      switch (op) {
        case ReduceOp::kSum:
        case ReduceOp::kMean: po[i] = x.sum(); break;
        case ReduceOp::kMax: po[i] = x.maxCoeff(); break;
        case ReduceOp::kMin: po[i] = x.minCoeff(); break;
        case ReduceOp::kProd: po[i] = x.prod(); break;
      }
    }
  } else if (prefix && n > 0) {
    // The reduced axes are a prefix (bias gradients, column sums): fold
    // rows of length `on` into the output.
    using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
    using CArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    Arr o(po, on);
    for (int64_t k = 0; k < count; ++k) {
      CArr x(pi + k * on, on);
      switch (op) {
        case ReduceOp::kSum:
        case ReduceOp::kMean: o += x; break;
        case ReduceOp::kMax: o = o.max(x); break;
        case ReduceOp::kMin: o = o.min(x); break;
        case ReduceOp::kProd: o *= x; break;
      }
    }
  } else if (n > 0) {
    std::vector<int64_t> idx(r, 0);
    int64_t off = 0;
    for (int64_t k = 0; k < n; ++k) {
      const T v = pi[k];
      T& o = po[off];
      switch (op) {
        case ReduceOp::kSum:
        case ReduceOp::kMean: o += v; break;
        case ReduceOp::kMax: o = v > o ? v : o; break;
        case ReduceOp::kMin: o = v < o ? v : o; break;
        case ReduceOp::kProd: o *= v; break;
      }
      for (int d = r - 1; d >= 0; --d) {
        ++idx[d];
        off += ostride[d];
        if (idx[d] < in.dim(d)) break;
        off -= ostride[d] * idx[d];
        idx[d] = 0;
      }
    }
  }
  if (op == ReduceOp::kMean && count > 0) {
    for (int64_t i = 0; i < on; ++i) po[i] = static_cast<T>(po[i] / static_cast<T>(count));
  }
  return absl::OkStatus();
}

template <bool kMax>
absl::Status ArgReduce(const Tensor& in, int64_t axis, Tensor* out) {
  const int r = in.rank();
  const int64_t ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) {
    return absl::InvalidArgumentError(
        absl::StrCat("ArgMax/ArgMin: axis ", axis, " out of range for rank ", r));
  }
  if (in.dim(ax) == 0) return absl::InvalidArgumentError("ArgMax/ArgMin of an empty dimension");
  TensorShape os;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < r; ++d) {
    if (d != ax) os.AddDim(in.dim(d));
    if (d < ax) outer *= in.dim(d);
    if (d > ax) inner *= in.dim(d);
  }
  const int64_t len = in.dim(ax);
  return internal::DispatchNumeric("ArgMax", in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(DType::kInt64, os);
    const T* p = in.data<T>();
    int64_t* po = out->data<int64_t>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* base = p + o * len * inner + i;
        int64_t best = 0;
        for (int64_t j = 1; j < len; ++j) {
          if (kMax ? base[j * inner] > base[best * inner] : base[j * inner] < base[best * inner]) {
            best = j;
          }
        }
        po[o * inner + i] = best;
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "Sum";
    case ReduceOp::kMean: return "Mean";
    case ReduceOp::kMax: return "Max";
    case ReduceOp::kMin: return "Min";
    case ReduceOp::kProd: return "Prod";
  }
  return "?";
}

absl::StatusOr<TensorShape> ReducedShape(const TensorShape& in, absl::Span<const int64_t> axes,
                                         bool keep_dims) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<bool> mask, ReducedMask(in.rank(), axes));
  TensorShape out;
  for (int d = 0; d < in.rank(); ++d) {
    if (!mask[d]) out.AddDim(in.dim(d));
    else if (keep_dims) out.AddDim(1);
  }
  return out;
}

absl::Status Reduce(ReduceOp op, const Tensor& in, absl::Span<const int64_t> axes,
                    bool keep_dims, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<bool> mask, ReducedMask(in.rank(), axes));
  SLUICE_ASSIGN_OR_RETURN(TensorShape os, ReducedShape(in.shape(), axes, keep_dims));
  return internal::DispatchNumeric(ReduceOpName(op), in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ReduceTyped<T>(op, in, mask, os, out);
  });
}

absl::Status ArgMax(const Tensor& in, int64_t axis, Tensor* out) {
  return ArgReduce<true>(in, axis, out);
}
absl::Status ArgMin(const Tensor& in, int64_t axis, Tensor* out) {
  return ArgReduce<false>(in, axis, out);
}

}  // namespace sluice
