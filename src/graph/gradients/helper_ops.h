#pragma once
// Ops the gradient functions need beyond the forward ops. Each is a fused
// form of what TensorFlow builds from Shape/BroadcastGradientArgs/Sum/
// Reshape/Tile/Pad, computed from run-time shapes so that unknown (batch)
// dimensions need no special casing. Float and double (and int32/int64
// where it costs nothing). Errors go to the scope's status; kernels return
// InvalidArgument when the shapes do not fit together.

#include "graph/graph.h"
#include "graph/scope.h"

namespace sluice::internal {

// `grad` (the gradient of a broadcast result) summed over the dimensions
// along which `like` was broadcast, reshaped to like's shape. Returns
// `grad` itself when both static shapes are fully defined and equal.
Output SumToShapeOf(const Scope& scope, const Output& grad, const Output& like);

// The gradient of a reduction of `x` over `axes` (the reduction's own axes
// input; `reduce_all` as its attribute), broadcast back to x's shape:
// `grad` has the reduced shape (with or without kept dims). With `mean`,
// divided by the number of elements each output reduced.
Output BroadcastReduced(const Scope& scope, const Output& grad, const Output& x, const Output& axes,
                        bool reduce_all, bool mean);

// Zeros of x's shape with `grad` placed at `begin` (Slice's gradient).
Output SliceGrad(const Scope& scope, const Output& grad, const Output& x, const Output& begin);

// Prod's gradient: for each element of x, `grad` (broadcast from the
// reduced shape) times the product of the other elements of its reduction
// group, computed without dividing by x (exact when the group holds zeros).
// Float and double only.
Output ProdGrad(const Scope& scope, const Output& grad, const Output& x, const Output& axes, bool reduce_all);

// StridedSlice's gradient: zeros of x's shape with `grad` scattered to the
// positions the slice read. `slice_attrs` are the forward node's attributes
// (begin/end/strides/masks, same semantics). Float and double only.
Output StridedSliceGrad(const Scope& scope, const Output& grad, const Output& x, const AttrMap& slice_attrs);

void RegisterGradientHelperOps();

}  // namespace sluice::internal
