#include "kernels/training_ops.h"

#include "absl/strings/str_cat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

absl::Status SameShapeAndType(const char* what, const Tensor& var, const Tensor& other) {
  if (var.dtype() != other.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": dtypes differ: ",
                                                   Sv(DTypeName(var.dtype())), " vs ",
                                                   Sv(DTypeName(other.dtype()))));
  }
  if (var.shape() != other.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": shapes differ: ",
                                                   var.shape().DebugString(), " vs ",
                                                   other.shape().DebugString()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyGradientDescentCpu(const Tensor& var, double alpha, const Tensor& delta,
                                     Tensor* new_var) {
  SLUICE_RETURN_IF_ERROR(SameShapeAndType("ApplyGradientDescent: var and delta", var, delta));
  return internal::DispatchFloat("ApplyGradientDescent", var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor out(var.dtype(), var.shape());
    const T a = static_cast<T>(alpha);
    const T* w = var.data<T>();
    const T* d = delta.data<T>();
    T* o = out.data<T>();
    const int64_t n = var.NumElements();
    for (int64_t i = 0; i < n; ++i) o[i] = w[i] - a * d[i];
    *new_var = std::move(out);
    return absl::OkStatus();
  });
}

absl::Status ApplyMomentumCpu(const Tensor& var, const Tensor& accum, double lr,
                              const Tensor& grad, double momentum, bool use_nesterov,
                              Tensor* new_var, Tensor* new_accum) {
  SLUICE_RETURN_IF_ERROR(SameShapeAndType("ApplyMomentum: var and accum", var, accum));
  SLUICE_RETURN_IF_ERROR(SameShapeAndType("ApplyMomentum: var and grad", var, grad));
  return internal::DispatchFloat("ApplyMomentum", var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor nw(var.dtype(), var.shape()), na(var.dtype(), var.shape());
    const T l = static_cast<T>(lr), m = static_cast<T>(momentum);
    const T* pw = var.data<T>();
    const T* pa = accum.data<T>();
    const T* pg = grad.data<T>();
    T* qw = nw.data<T>();
    T* qa = na.data<T>();
    const int64_t n = var.NumElements();
    if (use_nesterov) {
      for (int64_t i = 0; i < n; ++i) {
        qa[i] = pa[i] * m + pg[i];
        qw[i] = pw[i] - (pg[i] * l + qa[i] * m * l);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        qa[i] = pa[i] * m + pg[i];
        qw[i] = pw[i] - l * qa[i];
      }
    }
    *new_var = std::move(nw);
    *new_accum = std::move(na);
    return absl::OkStatus();
  });
}

}  // namespace sluice
