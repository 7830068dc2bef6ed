#include "kernels/random_ops.h"

#include <cmath>
#include <numbers>

#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

double StandardNormal(Random* rng) {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - rng->UniformDouble();
  const double u2 = rng->UniformDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

template <typename F>
absl::Status FillWith(const char* what, DType dtype, const TensorShape& shape, Tensor* out, F draw) {
  if (!shape.IsFullyDefined()) {
    return absl::InvalidArgumentError(std::string(what) + ": shape must be fully defined");
  }
  return internal::DispatchFloat(what, dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(dtype, shape);
    T* p = out->data<T>();
    for (int64_t i = 0; i < out->NumElements(); ++i) p[i] = static_cast<T>(draw());
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status RandomNormal(DType dtype, const TensorShape& shape, double mean, double stddev,
                          Random* rng, Tensor* out) {
  return FillWith("RandomStandardNormal", dtype, shape, out,
                  [&] { return mean + stddev * StandardNormal(rng); });
}

absl::Status TruncatedNormal(DType dtype, const TensorShape& shape, double mean, double stddev,
                             Random* rng, Tensor* out) {
  return FillWith("TruncatedNormal", dtype, shape, out, [&] {
    double z;
    do {
      z = StandardNormal(rng);
    } while (std::abs(z) > 2.0);
    return mean + stddev * z;
  });
}

absl::Status RandomUniform(DType dtype, const TensorShape& shape, double minval, double maxval,
                           Random* rng, Tensor* out) {
  return FillWith("RandomUniform", dtype, shape, out,
                  [&] { return minval + (maxval - minval) * rng->UniformDouble(); });
}

}  // namespace sluice
