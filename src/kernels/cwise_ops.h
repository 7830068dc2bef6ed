#pragma once
// Element-wise CPU kernels with NumPy broadcasting, and Cast.
//
// Every function allocates its result (host memory; `out` must not be one
// of the inputs) and never writes its
// inputs. Status codes: InvalidArgument for shapes that do not broadcast,
// mismatched dtypes, or a dtype the operation does not support.
// Thread-safe: functions keep no state.

#include "core/status.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"

namespace sluice {

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum, kSquaredDifference,
  // Comparisons produce bool tensors.
  kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual,
  // bool x bool -> bool.
  kLogicalAnd, kLogicalOr,
  // Gradient helpers (TensorFlow's ReluGrad(dy, x), SigmoidGrad(y, dy),
  // TanhGrad(y, dy)): first argument as named, shapes must be equal.
  kReluGrad, kSigmoidGrad, kTanhGrad,
};

enum class UnaryOp {
  kNeg, kExp, kLog, kSqrt, kRsqrt, kSquare, kAbs, kSign, kReciprocal,
  kRelu, kSigmoid, kTanh, kFloor, kCeil, kLogicalNot,
};

// TensorFlow's name of the op ("Add", "Less", "Relu", ...).
const char* BinaryOpName(BinaryOp op);
const char* UnaryOpName(UnaryOp op);
bool IsComparison(BinaryOp op);

// NumPy broadcasting of two fully defined shapes (also used by shape
// inference, where -1 dims are allowed and propagate).
absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b);

absl::Status BinaryCwise(BinaryOp op, const Tensor& a, const Tensor& b, Tensor* out);
absl::Status UnaryCwise(UnaryOp op, const Tensor& in, Tensor* out);
// a = a op b in place, for the variable updates (AssignAdd/AssignSub):
// shapes must be equal (or b a scalar) and `a` must not be shared.
absl::Status BinaryCwiseInPlace(BinaryOp op, Tensor* a, const Tensor& b);
// Numeric and bool conversions (C++ static_cast semantics; float -> int
// truncates toward zero as TensorFlow's Cast does).
absl::Status Cast(const Tensor& in, DType to, Tensor* out);
// Sum of n tensors of one shape (TensorFlow's AddN).
absl::Status AddN(const std::vector<Tensor>& in, Tensor* out);

}  // namespace sluice
