#pragma once
// Sequence kernels on the CPU: Range and LinSpace (TensorFlow's semantics
// and messages). Thread-safe.

#include <cstdint>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// The length of range(start, limit, delta) for scalar tensors of one dtype
// (int32, int64, float, double): ceil(|limit - start| / |delta|).
// InvalidArgument for delta 0, a delta that moves away from limit, or
// another dtype.
absl::StatusOr<int64_t> RangeSize(const Tensor& start, const Tensor& limit,
                                  const Tensor& delta);
// [start, start + delta, ...) while short of limit.
absl::Status Range(const Tensor& start, const Tensor& limit,
                   const Tensor& delta, Tensor* out);

// `num` (> 0) values from start to stop (float or double scalars), both
// ends included: start + i * (stop - start) / (num - 1), the last exactly
// stop.
absl::Status LinSpace(const Tensor& start, const Tensor& stop, int64_t num,
                      Tensor* out);

// OkStatus when the float/double tensor holds no NaN or Inf, else
// InvalidArgument "<message> : Tensor had NaN values" ("Inf values",
// "Inf and NaN values"), TensorFlow's CheckNumerics wording.
absl::Status CheckNumerics(const Tensor& x, std::string_view message);

}  // namespace sluice
