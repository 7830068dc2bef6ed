#include "kernels/sequence_ops.h"

#include <cmath>
#include <type_traits>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

template <typename F>
absl::Status DispatchRange(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
      return f(internal::TypeTag<float>{});
    case DType::kFloat64:
      return f(internal::TypeTag<double>{});
    case DType::kInt32:
      return f(internal::TypeTag<int32_t>{});
    case DType::kInt64:
      return f(internal::TypeTag<int64_t>{});
    default:
      return internal::UnsupportedDType("Range", t);
  }
}

template <typename T>
absl::StatusOr<int64_t> Size(T start, T limit, T delta) {
  if (delta == T(0))
    return absl::InvalidArgumentError("Requires delta != 0: 0");
  if (delta > T(0) && start > limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Requires start <= limit when delta > 0: ", start, "/", limit));
  }
  if (delta < T(0) && start < limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Requires start >= limit when delta < 0: ", start, "/", limit));
  }
  if constexpr (std::is_integral_v<T>) {
    const T span = limit > start ? limit - start : start - limit;
    const T d = delta > 0 ? delta : -delta;
    return static_cast<int64_t>((span + d - 1) / d);
  } else {
    return static_cast<int64_t>(std::ceil(std::abs((limit - start) / delta)));
  }
}

absl::Status CheckScalars(const Tensor& a, const Tensor& b, const Tensor& c) {
  for (const Tensor* t : {&a, &b, &c}) {
    if (t->NumElements() != 1 || t->dtype() != a.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Range: start, limit and delta must be scalars of one dtype, got ",
          t->DebugString(2)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> RangeSize(const Tensor& start, const Tensor& limit,
                                  const Tensor& delta) {
  SLUICE_RETURN_IF_ERROR(CheckScalars(start, limit, delta));
  int64_t n = 0;
  SLUICE_RETURN_IF_ERROR(
      DispatchRange(start.dtype(), [&](auto tag) -> absl::Status {
        using T = typename decltype(tag)::type;
        SLUICE_ASSIGN_OR_RETURN(n, Size<T>(start.scalar<T>(), limit.scalar<T>(),
                                           delta.scalar<T>()));
        return absl::OkStatus();
      }));
  return n;
}

absl::Status Range(const Tensor& start, const Tensor& limit,
                   const Tensor& delta, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(int64_t n, RangeSize(start, limit, delta));
  return DispatchRange(start.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    *out = Tensor(start.dtype(), TensorShape{n});
    const T d = delta.scalar<T>();
    T v = start.scalar<T>();
    for (int64_t i = 0; i < n; ++i, v += d) out->data<T>()[i] = v;
    return absl::OkStatus();
  });
}

absl::Status LinSpace(const Tensor& start, const Tensor& stop, int64_t num,
                      Tensor* out) {
  if (num <= 0)
    return absl::InvalidArgumentError(absl::StrCat("Requires num > 0: ", num));
  if (start.NumElements() != 1 || stop.NumElements() != 1 ||
      start.dtype() != stop.dtype()) {
    return absl::InvalidArgumentError(
        "LinSpace: start and stop must be scalars of one dtype");
  }
  return internal::DispatchFloat(
      "LinSpace", start.dtype(), [&](auto tag) -> absl::Status {
        using T = typename decltype(tag)::type;
        const T a = start.scalar<T>(), b = stop.scalar<T>();
        *out = Tensor(start.dtype(), TensorShape{num});
        T* o = out->data<T>();
        if (num == 1) {
          o[0] = a;
        } else {
          const T step = (b - a) / static_cast<T>(num - 1);
          for (int64_t i = 0; i < num - 1; ++i)
            o[i] = a + step * static_cast<T>(i);
          o[num - 1] = b;
        }
        return absl::OkStatus();
      });
}

absl::Status CheckNumerics(const Tensor& x, std::string_view message) {
  return internal::DispatchFloat(
      "CheckNumerics", x.dtype(), [&](auto tag) -> absl::Status {
        using T = typename decltype(tag)::type;
        bool nan = false, inf = false;
        for (T v : x.flat<T>()) {
          nan |= std::isnan(v);
          inf |= std::isinf(v);
        }
        if (!nan && !inf) return absl::OkStatus();
        return absl::InvalidArgumentError(
            absl::StrCat(Sv(message), " : Tensor had ",
                         nan && inf ? "Inf and NaN"
                         : nan      ? "NaN"
                                    : "Inf",
                         " values"));
      });
}

}  // namespace sluice
