#include "kernels/cwise_ops.h"

#include <cmath>
#include <cstring>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/half.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

using internal::TypeTag;

template <typename T>
using ConstArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// out[i] = f(a[ia], b[ib]) with NumPy broadcasting. The fast paths cover
// what training graphs use most: equal shapes, a scalar operand, and a
// row vector (bias) against a matrix, which the generic loop handles with a
// contiguous inner dimension.
template <typename In, typename Out, typename F>
void BroadcastLoop(const In* a, const TensorShape& as, const In* b, const TensorShape& bs,
                   Out* o, const TensorShape& os, F f) {
  const int64_t n = os.num_elements();
  if (n == 0) return;
  const int64_t na = as.num_elements(), nb = bs.num_elements();
  if (na == n && nb == n) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    return;
  }
  if (na == 1 && nb == n) {
    const In av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
    return;
  }
  if (nb == 1 && na == n) {
    const In bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
    return;
  }
  const int r = os.rank();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  auto strides = [&](const TensorShape& s, std::vector<int64_t>* st) {
    int64_t acc = 1;
    for (int j = s.rank() - 1; j >= 0; --j) {
      const int i = j + (r - s.rank());
      (*st)[i] = s.dim(j) == 1 ? 0 : acc;
      acc *= s.dim(j);
    }
  };
  strides(as, &sa);
  strides(bs, &sb);
  const int64_t inner = os.dim(r - 1);
  const int64_t outer = n / inner;
  const int64_t ia_step = sa[r - 1], ib_step = sb[r - 1];
  std::vector<int64_t> idx(r, 0);
  int64_t off_a = 0, off_b = 0;
  for (int64_t k = 0; k < outer; ++k) {
    Out* orow = o + k * inner;
    for (int64_t i = 0; i < inner; ++i) orow[i] = f(a[off_a + i * ia_step], b[off_b + i * ib_step]);
    // Advance the multi-index over the outer dimensions.
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      off_a += sa[d];
      off_b += sb[d];
      if (idx[d] < os.dim(d)) break;
      off_a -= sa[d] * idx[d];
      off_b -= sb[d] * idx[d];
      idx[d] = 0;
    }
  }
}

template <typename T>
T PowOf(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::pow(x, y);
  } else {
    T r = 1;
    for (T i = 0; i < y; ++i) r *= x;
    return r;
  }
}

template <typename T>
absl::Status NumericBinary(BinaryOp op, const Tensor& a, const Tensor& b, const TensorShape& os,
                           Tensor* out) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  if (IsComparison(op)) {
    *out = Tensor(DType::kBool, os);
    bool* po = out->data<bool>();
    auto run = [&](auto f) { BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, f); };
    switch (op) {
      case BinaryOp::kEqual: run([](T x, T y) { return x == y; }); break;
      case BinaryOp::kNotEqual: run([](T x, T y) { return x != y; }); break;
      case BinaryOp::kLess: run([](T x, T y) { return x < y; }); break;
      case BinaryOp::kLessEqual: run([](T x, T y) { return x <= y; }); break;
      case BinaryOp::kGreater: run([](T x, T y) { return x > y; }); break;
      case BinaryOp::kGreaterEqual: run([](T x, T y) { return x >= y; }); break;
      default: break;
    }
    return absl::OkStatus();
  }
  *out = Tensor(a.dtype(), os);
  T* po = out->data<T>();
  auto run = [&](auto f) { BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, f); };
  switch (op) {
    case BinaryOp::kAdd: run([](T x, T y) -> T { return x + y; }); break;
    case BinaryOp::kSub: run([](T x, T y) -> T { return x - y; }); break;
    case BinaryOp::kMul: run([](T x, T y) -> T { return x * y; }); break;
    case BinaryOp::kDiv:
      if constexpr (std::is_integral_v<T>) {
        for (int64_t i = 0; i < b.NumElements(); ++i) {
          if (pb[i] == 0) return absl::InvalidArgumentError("Div: integer division by zero");
        }
      }
      run([](T x, T y) -> T { return x / y; });
      break;
    case BinaryOp::kPow: run([](T x, T y) -> T { return PowOf<T>(x, y); }); break;
    case BinaryOp::kMaximum: run([](T x, T y) -> T { return x > y ? x : y; }); break;
    case BinaryOp::kMinimum: run([](T x, T y) -> T { return x < y ? x : y; }); break;
    case BinaryOp::kSquaredDifference:
      run([](T x, T y) -> T { return (x - y) * (x - y); });
      break;
    case BinaryOp::kReluGrad: run([](T dy, T x) -> T { return x > T(0) ? dy : T(0); }); break;
    case BinaryOp::kSigmoidGrad:
      run([](T y, T dy) -> T { return dy * y * (T(1) - y); });
      break;
    case BinaryOp::kTanhGrad: run([](T y, T dy) -> T { return dy * (T(1) - y * y); }); break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(BinaryOpName(op), " does not support dtype ", Sv(DTypeName(a.dtype()))));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status NumericUnary(UnaryOp op, const Tensor& in, Tensor* out) {
  const int64_t n = in.NumElements();
  *out = Tensor(in.dtype(), in.shape());
  const T* pi = in.data<T>();
  T* po = out->data<T>();
  auto loop = [&](auto f) {
    for (int64_t i = 0; i < n; ++i) po[i] = f(pi[i]);
  };
  if constexpr (std::is_floating_point_v<T>) {
    // Eigen's packet math vectorises the transcendental functions.
    ConstArr<T> x(pi, n);
    Arr<T> y(po, n);
    switch (op) {
      case UnaryOp::kExp: y = x.exp(); return absl::OkStatus();
      case UnaryOp::kLog: y = x.log(); return absl::OkStatus();
      case UnaryOp::kSqrt: y = x.sqrt(); return absl::OkStatus();
      case UnaryOp::kRsqrt: y = x.rsqrt(); return absl::OkStatus();
      case UnaryOp::kTanh: y = x.tanh(); return absl::OkStatus();
      case UnaryOp::kSigmoid: y = x.logistic(); return absl::OkStatus();
      case UnaryOp::kReciprocal: y = x.inverse(); return absl::OkStatus();
      case UnaryOp::kRelu: y = x.max(T(0)); return absl::OkStatus();
      case UnaryOp::kFloor: y = x.floor(); return absl::OkStatus();
      case UnaryOp::kCeil: y = x.ceil(); return absl::OkStatus();
      default: break;
    }
  }
  switch (op) {
    case UnaryOp::kNeg:
      if constexpr (std::is_unsigned_v<T>) break;
      loop([](T x) -> T { return -x; });
      return absl::OkStatus();
    case UnaryOp::kSquare: loop([](T x) -> T { return x * x; }); return absl::OkStatus();
    case UnaryOp::kAbs:
      loop([](T x) -> T {
        if constexpr (std::is_unsigned_v<T>) return x;
        else return x < T(0) ? T(-x) : x;
      });
      return absl::OkStatus();
    case UnaryOp::kSign:
      loop([](T x) -> T { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); });
      return absl::OkStatus();
    case UnaryOp::kRelu:
      loop([](T x) -> T { return x > T(0) ? x : T(0); });
      return absl::OkStatus();
    default: break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(UnaryOpName(op), " does not support dtype ", Sv(DTypeName(in.dtype()))));
}

}  // namespace

const char* BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "Add";
    case BinaryOp::kSub: return "Sub";
    case BinaryOp::kMul: return "Mul";
    case BinaryOp::kDiv: return "RealDiv";
    case BinaryOp::kPow: return "Pow";
    case BinaryOp::kMaximum: return "Maximum";
    case BinaryOp::kMinimum: return "Minimum";
    case BinaryOp::kSquaredDifference: return "SquaredDifference";
    case BinaryOp::kEqual: return "Equal";
    case BinaryOp::kNotEqual: return "NotEqual";
    case BinaryOp::kLess: return "Less";
    case BinaryOp::kLessEqual: return "LessEqual";
    case BinaryOp::kGreater: return "Greater";
    case BinaryOp::kGreaterEqual: return "GreaterEqual";
    case BinaryOp::kLogicalAnd: return "LogicalAnd";
    case BinaryOp::kLogicalOr: return "LogicalOr";
    case BinaryOp::kReluGrad: return "ReluGrad";
    case BinaryOp::kSigmoidGrad: return "SigmoidGrad";
    case BinaryOp::kTanhGrad: return "TanhGrad";
  }
  return "?";
}

const char* UnaryOpName(UnaryOp op) {
  switch (op) {
    case UnaryOp::kNeg: return "Neg";
    case UnaryOp::kExp: return "Exp";
    case UnaryOp::kLog: return "Log";
    case UnaryOp::kSqrt: return "Sqrt";
    case UnaryOp::kRsqrt: return "Rsqrt";
    case UnaryOp::kSquare: return "Square";
    case UnaryOp::kAbs: return "Abs";
    case UnaryOp::kSign: return "Sign";
    case UnaryOp::kReciprocal: return "Reciprocal";
    case UnaryOp::kRelu: return "Relu";
    case UnaryOp::kSigmoid: return "Sigmoid";
    case UnaryOp::kTanh: return "Tanh";
    case UnaryOp::kFloor: return "Floor";
    case UnaryOp::kCeil: return "Ceil";
    case UnaryOp::kLogicalNot: return "LogicalNot";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqual:
    case BinaryOp::kNotEqual:
    case BinaryOp::kLess:
    case BinaryOp::kLessEqual:
    case BinaryOp::kGreater:
    case BinaryOp::kGreaterEqual: return true;
    default: return false;
  }
}

absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b) {
  const int r = std::max(a.rank(), b.rank());
  TensorShape out;
  for (int i = 0; i < r; ++i) {
    const int ja = i - (r - a.rank()), jb = i - (r - b.rank());
    const int64_t da = ja >= 0 ? a.dim(ja) : 1;
    const int64_t db = jb >= 0 ? b.dim(jb) : 1;
    int64_t d;
    if (da == db) {
      d = da;
    } else if (da == 1) {
      d = db;
    } else if (db == 1) {
      d = da;
    } else if (da == -1 || db == -1) {
      d = da == -1 ? db : da;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("Incompatible shapes: ", a.DebugString(),
                                                     " vs. ", b.DebugString()));
    }
    out.AddDim(d);
  }
  return out;
}

absl::Status BinaryCwise(BinaryOp op, const Tensor& a, const Tensor& b, Tensor* out) {
  if (a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(BinaryOpName(op), ": dtypes differ: ",
                                                   Sv(DTypeName(a.dtype())), " vs ",
                                                   Sv(DTypeName(b.dtype()))));
  }
  SLUICE_ASSIGN_OR_RETURN(TensorShape os, BroadcastShapes(a.shape(), b.shape()));
  if (a.dtype() == DType::kFloat16) {
    Tensor fa, fb, r;
    SLUICE_RETURN_IF_ERROR(Cast(a, DType::kFloat32, &fa));
    SLUICE_RETURN_IF_ERROR(Cast(b, DType::kFloat32, &fb));
    SLUICE_RETURN_IF_ERROR(BinaryCwise(op, fa, fb, &r));
    if (r.dtype() != DType::kFloat32) {  // comparisons
      *out = r;
      return absl::OkStatus();
    }
    return Cast(r, DType::kFloat16, out);
  }
  if (op == BinaryOp::kLogicalAnd || op == BinaryOp::kLogicalOr || a.dtype() == DType::kBool) {
    if (a.dtype() != DType::kBool) return internal::UnsupportedDType(BinaryOpName(op), a.dtype());
    *out = Tensor(DType::kBool, os);
    const bool* pa = a.data<bool>();
    const bool* pb = b.data<bool>();
    bool* po = out->data<bool>();
    switch (op) {
      case BinaryOp::kLogicalAnd:
        BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, [](bool x, bool y) { return x && y; });
        return absl::OkStatus();
      case BinaryOp::kLogicalOr:
        BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, [](bool x, bool y) { return x || y; });
        return absl::OkStatus();
      case BinaryOp::kEqual:
        BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, [](bool x, bool y) { return x == y; });
        return absl::OkStatus();
      case BinaryOp::kNotEqual:
        BroadcastLoop(pa, a.shape(), pb, b.shape(), po, os, [](bool x, bool y) { return x != y; });
        return absl::OkStatus();
      default: return internal::UnsupportedDType(BinaryOpName(op), a.dtype());
    }
  }
  return internal::DispatchNumeric(BinaryOpName(op), a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return NumericBinary<T>(op, a, b, os, out);
  });
}

absl::Status UnaryCwise(UnaryOp op, const Tensor& in, Tensor* out) {
  if (in.dtype() == DType::kFloat16) {
    Tensor f, r;
    SLUICE_RETURN_IF_ERROR(Cast(in, DType::kFloat32, &f));
    SLUICE_RETURN_IF_ERROR(UnaryCwise(op, f, &r));
    return r.dtype() == DType::kFloat32 ? Cast(r, DType::kFloat16, out) : (*out = r, absl::OkStatus());
  }
  if (op == UnaryOp::kLogicalNot) {
    if (in.dtype() != DType::kBool) return internal::UnsupportedDType("LogicalNot", in.dtype());
    *out = Tensor(DType::kBool, in.shape());
    for (int64_t i = 0; i < in.NumElements(); ++i) out->data<bool>()[i] = !in.data<bool>()[i];
    return absl::OkStatus();
  }
  return internal::DispatchNumeric(UnaryOpName(op), in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return NumericUnary<T>(op, in, out);
  });
}

absl::Status BinaryCwiseInPlace(BinaryOp op, Tensor* a, const Tensor& b) {
  if (a->dtype() == DType::kFloat16 && b.dtype() == DType::kFloat16) {
    Tensor r;
    SLUICE_RETURN_IF_ERROR(BinaryCwise(op, *a, b, &r));
    if (r.shape() != a->shape()) return absl::InvalidArgumentError("in-place result changes the shape");
    std::memcpy(a->raw_data(), r.raw_data(), r.ByteSize());
    return absl::OkStatus();
  }
  if (a->dtype() != b.dtype() || (a->shape() != b.shape() && b.NumElements() != 1)) {
    return absl::InvalidArgumentError(absl::StrCat(BinaryOpName(op), " in place: ",
                                                   a->DebugString(2), " vs ", b.DebugString(2)));
  }
  return internal::DispatchNumeric(BinaryOpName(op), a->dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    const int64_t n = a->NumElements();
    Arr<T> x(a->data<T>(), n);
    const bool scalar = b.NumElements() == 1 && n != 1;
    switch (op) {
      case BinaryOp::kAdd:
        if (scalar) x += b.data<T>()[0];
        else x += ConstArr<T>(b.data<T>(), n);
        return absl::OkStatus();
      case BinaryOp::kSub:
        if (scalar) x -= b.data<T>()[0];
        else x -= ConstArr<T>(b.data<T>(), n);
        return absl::OkStatus();
      case BinaryOp::kMul:
        if (scalar) x *= b.data<T>()[0];
        else x *= ConstArr<T>(b.data<T>(), n);
        return absl::OkStatus();
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(BinaryOpName(op), " has no in-place form"));
    }
  });
}

absl::Status Cast(const Tensor& in, DType to, Tensor* out) {
  if (in.dtype() == to) {
    *out = in;
    return absl::OkStatus();
  }
  // Half goes through float (TensorFlow's CPU cast does the same rounding).
  if (in.dtype() == DType::kFloat16) {
    Tensor f(DType::kFloat32, in.shape());
    for (int64_t i = 0; i < in.NumElements(); ++i) f.data<float>()[i] = HalfToFloat(in.data<Half>()[i]);
    return Cast(f, to, out);
  }
  if (to == DType::kFloat16) {
    Tensor f;
    SLUICE_RETURN_IF_ERROR(Cast(in, DType::kFloat32, &f));
    *out = Tensor(DType::kFloat16, in.shape());
    for (int64_t i = 0; i < in.NumElements(); ++i) out->data<Half>()[i] = FloatToHalf(f.data<float>()[i]);
    return absl::OkStatus();
  }
  return internal::DispatchPod("Cast", in.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return internal::DispatchPod("Cast", to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      *out = Tensor(to, in.shape());
      const From* pi = in.data<From>();
      To* po = out->data<To>();
      for (int64_t i = 0; i < in.NumElements(); ++i) {
        if constexpr (std::is_same_v<To, bool>) {
          po[i] = pi[i] != From(0);
        } else {
          po[i] = static_cast<To>(pi[i]);
        }
      }
      return absl::OkStatus();
    });
  });
}

absl::Status AddN(const std::vector<Tensor>& in, Tensor* out) {
  if (in.empty()) return absl::InvalidArgumentError("AddN needs at least one input");
  for (const Tensor& t : in) {
    if (t.dtype() != in[0].dtype() || t.shape() != in[0].shape()) {
      return absl::InvalidArgumentError(absl::StrCat("AddN: inputs differ: ", t.DebugString(2),
                                                     " vs ", in[0].DebugString(2)));
    }
  }
  if (in[0].dtype() == DType::kFloat16) {
    std::vector<Tensor> f(in.size());
    for (size_t k = 0; k < in.size(); ++k) SLUICE_RETURN_IF_ERROR(Cast(in[k], DType::kFloat32, &f[k]));
    Tensor sum;
    SLUICE_RETURN_IF_ERROR(AddN(f, &sum));
    return Cast(sum, DType::kFloat16, out);
  }
  return internal::DispatchNumeric("AddN", in[0].dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(in[0].dtype(), in[0].shape());
    const int64_t n = in[0].NumElements();
    Arr<T> o(out->data<T>(), n);
    o = ConstArr<T>(in[0].data<T>(), n);
    for (size_t k = 1; k < in.size(); ++k) o += ConstArr<T>(in[k].data<T>(), n);
    return absl::OkStatus();
  });
}

}  // namespace sluice
