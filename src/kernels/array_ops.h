#pragma once
// Array kernels on the CPU: Concat, Split, Slice, StridedSlice, OneHot,
// Transpose, Fill. All dtypes, strings included (string results hold views
// kept alive by the source buffers). Results are new tensors; inputs are
// never written. InvalidArgument for out-of-range axes, mismatched shapes or
// dtypes. Thread-safe.

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// Joins along `axis` (negative counts from the end); every other dimension
// must agree.
absl::Status Concat(const std::vector<Tensor>& in, int64_t axis, Tensor* out);
// Splits `axis` into `num_split` equal parts (InvalidArgument when the
// dimension is not divisible).
absl::Status Split(const Tensor& in, int64_t axis, int64_t num_split, std::vector<Tensor>* out);
// begin[i] .. begin[i] + size[i]; size -1 means "to the end".
absl::Status Slice(const Tensor& in, absl::Span<const int64_t> begin,
                   absl::Span<const int64_t> size, Tensor* out);

// Python indexing x[b0:e0:s0, b1:e1:s1, ...] (TensorFlow's StridedSlice) for
// the leading dims; dims beyond the spec are taken whole. Bit i of
// begin_mask / end_mask means "from the start / to the end" of dim i; bit i
// of shrink_axis_mask means x[b_i] (dim removed). Negative indices count
// from the end; strides must be non-zero.
struct StridedSliceSpec {
  std::vector<int64_t> begin, end, strides;
  int64_t begin_mask = 0, end_mask = 0, shrink_axis_mask = 0;
};
absl::StatusOr<TensorShape> StridedSliceShape(const TensorShape& in, const StridedSliceSpec& s);
absl::Status StridedSlice(const Tensor& in, const StridedSliceSpec& s, Tensor* out);

// indices (int32/int64) -> `dtype` tensor with a new dimension of size depth
// appended (axis -1). Out-of-range indices give an all-`off` row.
absl::Status OneHot(const Tensor& indices, int64_t depth, const Tensor& on_value,
                    const Tensor& off_value, Tensor* out);

// out.dim(i) = in.dim(perm[i]).
absl::Status Transpose(const Tensor& in, absl::Span<const int64_t> perm, Tensor* out);

// A tensor of `shape` with every element equal to the scalar `value`.
absl::Status Fill(const TensorShape& shape, const Tensor& value, Tensor* out);

}  // namespace sluice
