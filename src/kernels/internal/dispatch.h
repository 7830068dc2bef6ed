#pragma once
// Runtime dtype -> C++ type dispatch for kernels. Private to src/kernels.

#include <cstdint>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/dtype.h"
#include "core/status.h"

namespace sluice::internal {

template <typename T>
struct TypeTag {
  using type = T;
};

inline absl::Status UnsupportedDType(const char* what, DType t) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " does not support dtype ", Sv(DTypeName(t))));
}

// Calls f(TypeTag<T>{}) for the floating types.
template <typename F>
absl::Status DispatchFloat(const char* what, DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    default: return UnsupportedDType(what, t);
  }
}

// Calls f(TypeTag<T>{}) for float, double, int32, int64, uint8, int8,
// uint16 (half is not here: kernels that take it convert through float,
// see cwise_ops.cc).
template <typename F>
absl::Status DispatchNumeric(const char* what, DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    case DType::kInt32: return f(TypeTag<int32_t>{});
    case DType::kInt64: return f(TypeTag<int64_t>{});
    case DType::kUInt8: return f(TypeTag<uint8_t>{});
    case DType::kInt8: return f(TypeTag<int8_t>{});
    case DType::kUInt16: return f(TypeTag<uint16_t>{});
    default: return UnsupportedDType(what, t);
  }
}

// Numeric types plus bool.
template <typename F>
absl::Status DispatchPod(const char* what, DType t, F&& f) {
  if (t == DType::kBool) return f(TypeTag<bool>{});
  return DispatchNumeric(what, t, std::forward<F>(f));
}

}  // namespace sluice::internal
