// Gradients of the array-manipulation and checking ops (TensorFlow's
// array_grad.py / math_grad.py for Pack, Unpack, Tile, Pad, GatherV2,
// UnsortedSegmentSum, Squeeze, ExpandDims, Select, CheckNumerics,
// BatchMatMulV2). Gathers take the dense route (UnsortedSegmentSum) where
// TensorFlow builds IndexedSlices.

#include "absl/strings/str_cat.h"

#include "graph/gradients/grad_util.h"
#include "graph/gradients/helper_ops.h"
#include "graph/internal/op_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/ops/manip_ops.h"
#include "graph/ops/math_ops.h"

namespace sluice::internal {
namespace {

using Grads = std::vector<Output>;

Output Int32Vector(const Scope& s, const std::vector<int32_t>& v) {
  return ops::Const(s, Tensor::FromVector<int32_t>(
                           absl::Span<const int32_t>(v),
                           TensorShape{static_cast<int64_t>(v.size())}));
}

absl::Status PackGrad(const Scope& s, const Operation& op, const Grads& g,
                      Grads* out) {
  const int64_t axis = *op.node()->attr<int64_t>("axis");
  std::vector<Output> parts = ops::Unstack(s, g[0], op.num_inputs(), axis);
  SLUICE_RETURN_IF_ERROR(s.status());
  *out = parts;
  return absl::OkStatus();
}

absl::Status UnpackGrad(const Scope& s, const Operation& op, const Grads& g,
                        Grads* out) {
  std::vector<Input> parts;
  for (int i = 0; i < op.num_outputs(); ++i) {
    parts.push_back(g[i].valid() ? g[i] : ops::ZerosLike(s, op.output(i)));
  }
  out->push_back(ops::Stack(s, parts, *op.node()->attr<int64_t>("axis")));
  return s.status();
}

// Reshape g to [m0, d0, m1, d1, ...] and sum the multiples' axes.
absl::Status TileGrad(const Scope& s, const Operation& op, const Grads& g,
                      Grads* out) {
  Output multiples = ops::Cast(s, op.input(1), DType::kInt32);
  Output split = ops::Reshape(
      s,
      ops::Transpose(s, ops::Stack(s, {multiples, ops::Shape(s, op.input(0))}),
                     {1, 0}),
      {-1});
  Output axes = ops::Range(s, 0, ops::Size(s, split), 2);
  Output sum = BuildOp(
      s, "Sum", "Sum", {ops::Reshape(s, g[0], split), axes},
      {{"T", g[0].dtype()}, {"keep_dims", false}, {"Tidx", DType::kInt32}});
  out->push_back(ops::Reshape(s, sum, ops::Shape(s, op.input(0))));
  out->push_back(NoGradient());
  return s.status();
}

// The slice of g the input occupies: begin = paddings[:, 0], size = x's shape.
absl::Status PadGrad(const Scope& s, const Operation& op, const Grads& g,
                     Grads* out) {
  Output pads = ops::Cast(s, op.input(1), DType::kInt32);
  Output begin = ops::Reshape(s, ops::Slice(s, pads, {0, 0}, {-1, 1}), {-1});
  out->push_back(ops::Slice(s, g[0], begin, ops::Shape(s, op.input(0))));
  for (int i = 1; i < op.num_inputs(); ++i) out->push_back(NoGradient());
  return s.status();
}

// Dense: the rows of g summed into their source positions along `axis`.
absl::Status GatherV2Grad(const Scope& s, const Operation& op, const Grads& g,
                          Grads* out) {
  Output params = op.input(0), indices = op.input(1);
  std::optional<std::vector<int64_t>> axis_v = ConstIntValues(op.input(2));
  if (!axis_v.has_value() || axis_v->size() != 1 || !params.rank_known()) {
    return absl::UnimplementedError(absl::StrCat(
        op.name(),
        ": GatherV2 gradient needs a constant axis and params of known rank"));
  }
  const int r = params.shape().rank();
  const int a =
      static_cast<int>((*axis_v)[0] < 0 ? (*axis_v)[0] + r : (*axis_v)[0]);
  Output pshape = ops::Shape(s, params);
  Output n = ops::Reshape(s, ops::Size(s, indices), {1});
  std::vector<Input> dims;
  if (a > 0) dims.push_back(ops::Slice(s, pshape, {0}, Int32Vector(s, {a})));
  dims.push_back(n);
  dims.push_back(ops::Slice(s, pshape, Int32Vector(s, {a + 1}), {-1}));
  Output values = ops::Reshape(s, g[0], ops::Concat(s, dims, 0));
  std::vector<int32_t> perm{a}, inverse;
  for (int d = 0; d < r; ++d) {
    if (d != a) perm.push_back(d);
  }
  inverse.resize(r);
  for (int d = 0; d < r; ++d) inverse[perm[d]] = d;
  if (a > 0) values = ops::Transpose(s, values, Int32Vector(s, perm));
  Output sum = ops::UnsortedSegmentSum(
      s, values, ops::Reshape(s, indices, {-1}), ops::Gather(s, pshape, a));
  if (a > 0) sum = ops::Transpose(s, sum, Int32Vector(s, inverse));
  out->push_back(sum);
  out->push_back(NoGradient());
  out->push_back(NoGradient());
  return s.status();
}

absl::Status UnsortedSegmentSumGrad(const Scope& s, const Operation& op,
                                    const Grads& g, Grads* out) {
  out->push_back(ops::Gather(s, g[0], op.input(1)));
  out->push_back(NoGradient());
  out->push_back(NoGradient());
  return s.status();
}

absl::Status ReshapeToInputGrad(const Scope& s, const Operation& op,
                                const Grads& g, Grads* out) {
  out->push_back(ops::Reshape(s, g[0], ops::Shape(s, op.input(0))));
  for (int i = 1; i < op.num_inputs(); ++i) out->push_back(NoGradient());
  return s.status();
}

absl::Status SelectGrad(const Scope& s, const Operation& op, const Grads& g,
                        Grads* out) {
  Output zeros = ops::ZerosLike(s, op.input(1));
  out->push_back(NoGradient());
  out->push_back(ops::Select(s, op.input(0), g[0], zeros));
  out->push_back(ops::Select(s, op.input(0), zeros, g[0]));
  return s.status();
}

absl::Status CheckNumericsGrad(const Scope& s, const Operation& op,
                               const Grads& g, Grads* out) {
  out->push_back(ops::CheckNumerics(
      s, g[0],
      absl::StrCat(
          "Not a number (NaN) or infinity (Inf) values detected in gradient. ",
          *op.node()->attr<std::string>("message"))));
  return s.status();
}

// TensorFlow's _BatchMatMulV2: the four adjoint cases, each gradient then
// summed over the batch dims its input was broadcast along.
absl::Status BatchMatMulGrad(const Scope& s, const Operation& op,
                             const Grads& g, Grads* out) {
  const bool ax = *op.node()->attr<bool>("adj_x"),
             ay = *op.node()->attr<bool>("adj_y");
  Output x = op.input(0), y = op.input(1), d = g[0];
  using O = ops::BatchMatMulOptions;
  Output gx, gy;
  if (!ax && !ay) {
    gx = ops::BatchMatMul(s, d, y, O{false, true});
    gy = ops::BatchMatMul(s, x, d, O{true, false});
  } else if (!ax && ay) {
    gx = ops::BatchMatMul(s, d, y, O{false, false});
    gy = ops::BatchMatMul(s, d, x, O{true, false});
  } else if (ax && !ay) {
    gx = ops::BatchMatMul(s, y, d, O{false, true});
    gy = ops::BatchMatMul(s, x, d, O{false, false});
  } else {
    gx = ops::BatchMatMul(s, y, d, O{true, true});
    gy = ops::BatchMatMul(s, d, x, O{true, true});
  }
  out->push_back(SumToShapeOf(s, gx, x));
  out->push_back(SumToShapeOf(s, gy, y));
  return s.status();
}

}  // namespace

void RegisterManipGradients(GradientRegistry* r) {
  (void)r->Register("Pack", PackGrad);
  (void)r->Register("Unpack", UnpackGrad);
  (void)r->Register("Tile", TileGrad);
  (void)r->Register("Pad", PadGrad);
  (void)r->Register("PadV2", PadGrad);
  (void)r->Register("GatherV2", GatherV2Grad);
  (void)r->Register("UnsortedSegmentSum", UnsortedSegmentSumGrad);
  (void)r->Register("Squeeze", ReshapeToInputGrad);
  (void)r->Register("ExpandDims", ReshapeToInputGrad);
  (void)r->Register("Select", SelectGrad);
  (void)r->Register("CheckNumerics", CheckNumericsGrad);
  (void)r->Register("BatchMatMulV2", BatchMatMulGrad);
  for (const char* op : {"Range", "LinSpace", "Size", "Rank", "Where"})
    RegisterNoGradient(r, op);
}

}  // namespace sluice::internal
