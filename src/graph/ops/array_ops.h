#pragma once
// Array op builders: constants, placeholders, identity, reshape, concat,
// split, slice, strided slice, one_hot, shape, fill, transpose, cast.
// Errors go to the scope's status (see scope.h); failed builders return an
// invalid Output.

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "kernels/array_ops.h"

namespace sluice::ops {

// tf.constant: the literal or tensor as a Const node.
Output Const(const Scope& scope, const Input& value);
// tf.constant(value, dtype, shape): a scalar or a list broadcast/reshaped
// to `shape` as TensorFlow does for tf.constant([3,3], shape=[1,2]); value
// is converted to `dtype`.
Output Const(const Scope& scope, const Input& value, DType dtype, const TensorShape& shape);

// tf.placeholder(dtype): unknown shape (any rank).
Output Placeholder(const Scope& scope, DType dtype);
// tf.placeholder(dtype, shape): -1 dims are unknown.
Output Placeholder(const Scope& scope, DType dtype, const TensorShape& shape);
// tf.placeholder_with_default: the default's value unless fed.
Output PlaceholderWithDefault(const Scope& scope, const Input& default_value,
                              const TensorShape& shape);

Output Identity(const Scope& scope, const Input& x);
// Identity that the gradient functions treat as a constant.
Output StopGradient(const Scope& scope, const Input& x);
// Does nothing; with control dependencies it groups ops (tf.group).
Operation NoOp(const Scope& scope);
Operation Group(const Scope& scope, const std::vector<Operation>& ops);

Output Reshape(const Scope& scope, const Input& x, const Input& shape);
// int32 vector of x's shape.
Output Shape(const Scope& scope, const Input& x);
Output Fill(const Scope& scope, const Input& dims, const Input& value);
Output Zeros(const Scope& scope, const TensorShape& shape, DType dtype = DType::kFloat32);
Output Ones(const Scope& scope, const TensorShape& shape, DType dtype = DType::kFloat32);
Output ZerosLike(const Scope& scope, const Input& x);
Output OnesLike(const Scope& scope, const Input& x);
Output Concat(const Scope& scope, const std::vector<Input>& values, const Input& axis);
std::vector<Output> Split(const Scope& scope, const Input& axis, const Input& value,
                          int64_t num_split);
Output Slice(const Scope& scope, const Input& x, const Input& begin, const Input& size);
// x[spec] (constant indices; see kernels/array_ops.h).
Output StridedSlice(const Scope& scope, const Input& x, const StridedSliceSpec& spec);
// x[i] along dimension 0 (Python's weight[0]), named "strided_slice".
Output Index(const Scope& scope, const Input& x, int64_t i);
Output OneHot(const Scope& scope, const Input& indices, const Input& depth, const Input& on_value,
              const Input& off_value);
Output Transpose(const Scope& scope, const Input& x, const Input& perm);
Output Cast(const Scope& scope, const Input& x, DType dtype);

}  // namespace sluice::ops
