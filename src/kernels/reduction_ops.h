#pragma once
// Reductions on the CPU: Sum, Mean, Max, Min, Prod over a set of axes, and
// ArgMax / ArgMin along one axis.
//
// `axes` may be negative (counted from the end) and repeat; an empty list
// reduces nothing (the result equals the input). keep_dims keeps reduced
// dimensions with size 1. Mean of integers divides with truncation, as
// TensorFlow does. Max/Min of an empty range give the lowest/highest value.
// InvalidArgument for an axis out of range or an unsupported dtype. `out`
// must not be the input.
// Thread-safe.

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

enum class ReduceOp { kSum, kMean, kMax, kMin, kProd };

const char* ReduceOpName(ReduceOp op);

// The reduced shape (shape inference uses it with unknown dims too).
absl::StatusOr<TensorShape> ReducedShape(const TensorShape& in, absl::Span<const int64_t> axes,
                                         bool keep_dims);

absl::Status Reduce(ReduceOp op, const Tensor& in, absl::Span<const int64_t> axes,
                    bool keep_dims, Tensor* out);

// Index (int64) of the largest / smallest element along `axis`; the first
// one on ties. The axis is removed from the shape.
absl::Status ArgMax(const Tensor& in, int64_t axis, Tensor* out);
absl::Status ArgMin(const Tensor& in, int64_t axis, Tensor* out);

}  // namespace sluice
