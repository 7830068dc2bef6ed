#pragma once
// Array-manipulation kernels on the CPU, by element copies (so every dtype,
// strings included: string results hold views kept alive by the source
// buffers, as array_ops.h does): Pack, Unpack, Tile, Pad, Gather,
// UnsortedSegmentSum, Select, Where. Results are new tensors; inputs are
// never written. InvalidArgument, with TensorFlow's wording where it has
// one, for bad axes, shapes, dtypes and out-of-range indices. Thread-safe.

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// tf.stack: N tensors of one shape -> one with a new dimension of size N at
// `axis` (negative counts from the end of the result's rank).
absl::Status Pack(const std::vector<Tensor>& in, int64_t axis, Tensor* out);
// tf.unstack: dimension `axis` of size N -> N tensors without it.
absl::Status Unpack(const Tensor& in, int64_t axis, std::vector<Tensor>* out);

// out.dim(i) = in.dim(i) * multiples[i]; one multiple per dimension.
absl::Status Tile(const Tensor& in, absl::Span<const int64_t> multiples,
                  Tensor* out);

// paddings is [rank][2] flattened (before, after per dimension, each >= 0);
// new elements equal the scalar `constant` (same dtype as `in`; numeric and
// bool only).
absl::Status Pad(const Tensor& in, absl::Span<const int64_t> paddings,
                 const Tensor& constant, Tensor* out);

// GatherV2 with batch_dims 0: out = params[:axis] + indices.shape +
// params[axis+1:]. Indices must lie in [0, params.dim(axis)).
absl::Status Gather(const Tensor& params, const Tensor& indices, int64_t axis,
                    Tensor* out);

// TensorFlow's UnsortedSegmentSum: out[s, ...] = sum of data[i..., ...]
// over the positions i with segment_ids[i] == s; data's leading dims equal
// segment_ids' shape. Ids outside [0, num_segments) are InvalidArgument.
// Numeric dtypes.
absl::Status UnsortedSegmentSum(const Tensor& data, const Tensor& segment_ids,
                                int64_t num_segments, Tensor* out);

// TensorFlow 1.x Select: cond (bool) of t's shape, or a vector whose size is
// t.dim(0) choosing whole rows; t and e of one shape and dtype.
absl::Status Select(const Tensor& cond, const Tensor& t, const Tensor& e,
                    Tensor* out);

// tf.where(cond) with one argument: int64 [num_true, rank] coordinates of the
// true (non-zero) elements in row-major order. Numeric or bool input.
absl::Status Where(const Tensor& cond, Tensor* out);

}  // namespace sluice
