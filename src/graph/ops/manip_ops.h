#pragma once
// Array-manipulation op builders (TensorFlow 1.x names and attributes):
// range, linspace, stack/unstack, tile, pad, gather, unsorted_segment_sum,
// squeeze, expand_dims, size, rank, and batched matmul. Kernels are CPU
// only (kernels/manip_ops.h, kernels/batch_matmul_op.h); with soft
// placement a node pinned to a GPU runs them on the CPU. Errors go to the
// scope's status (scope.h); failed builders return an invalid Output.

#include <cstdint>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

// tf.range(start, limit, delta): [start, start + delta, ...) up to limit
// (exclusive). int32, int64, float or double (from the inputs; literal ints
// become int32). InvalidArgument at run time for delta 0 or a delta that
// moves away from limit.
Output Range(const Scope& scope, const Input& start, const Input& limit,
             const Input& delta = 1);
// tf.linspace: `num` evenly spaced values from start to stop, both
// included (float or double start/stop; num int32 > 0).
Output LinSpace(const Scope& scope, const Input& start, const Input& stop,
                const Input& num);

// tf.stack (op "Pack", node name "stack").
Output Stack(const Scope& scope, const std::vector<Input>& values,
             int64_t axis = 0);
// tf.unstack (op "Unpack"): `num` outputs; nullopt takes value.shape[axis],
// which must then be statically known.
std::vector<Output> Unstack(const Scope& scope, const Input& value,
                            std::optional<int64_t> num = std::nullopt,
                            int64_t axis = 0);

Output Tile(const Scope& scope, const Input& x, const Input& multiples);
// tf.pad(x, paddings) in CONSTANT mode: "Pad" (zeros), or "PadV2" with
// `constant_value`. paddings is an int [rank, 2] tensor.
Output Pad(const Scope& scope, const Input& x, const Input& paddings);
Output PadV2(const Scope& scope, const Input& x, const Input& paddings,
             const Input& constant_value);

// tf.gather(params, indices, axis) (op "GatherV2", batch_dims 0).
Output Gather(const Scope& scope, const Input& params, const Input& indices,
              int64_t axis = 0);
// tf.unsorted_segment_sum (the dense form of gather's gradient).
Output UnsortedSegmentSum(const Scope& scope, const Input& data,
                          const Input& segment_ids, const Input& num_segments);

// tf.squeeze: removes the listed size-1 dims (all size-1 dims when empty).
Output Squeeze(const Scope& scope, const Input& x,
               std::vector<int64_t> axis = {});
// tf.expand_dims: inserts a size-1 dim at `axis` (int32 scalar; negative
// counts from the end of the result).
Output ExpandDims(const Scope& scope, const Input& x, const Input& axis);
// tf.size / tf.rank: int32 scalars.
Output Size(const Scope& scope, const Input& x);
Output Rank(const Scope& scope, const Input& x);

// tf.matmul on rank >= 2 tensors (op "BatchMatMulV2", node name
// "MatMul"); adjoint = transpose for the real dtypes.
struct BatchMatMulOptions {
  bool adj_x = false;
  bool adj_y = false;
};
Output BatchMatMul(const Scope& scope, const Input& x, const Input& y,
                   BatchMatMulOptions options = {});

}  // namespace sluice::ops
