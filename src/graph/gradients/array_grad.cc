// Gradients of the array ops (TensorFlow's array_grad.py).

#include "absl/strings/str_cat.h"
#include "graph/gradients/grad_util.h"
#include "graph/gradients/helper_ops.h"
#include "graph/internal/op_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"

namespace sluice::internal {
namespace {

Output IntVector(const Scope& s, const std::vector<int64_t>& v) {
  std::vector<int32_t> v32(v.begin(), v.end());
  return ops::Const(s, Tensor::FromVector<int32_t>(absl::Span<const int32_t>(v32),
                                                   TensorShape{static_cast<int64_t>(v32.size())}));
}

absl::Status IdentityGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                          std::vector<Output>* out) {
  out->push_back(g[0]);
  return absl::OkStatus();
}

absl::Status ReshapeGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  Output x = op.input(0);
  if (x.rank_known() && x.shape().IsFullyDefined()) {
    out->push_back(ops::Reshape(s, g[0], IntVector(s, std::vector<int64_t>(x.shape().dims().begin(),
                                                                           x.shape().dims().end()))));
  } else {
    out->push_back(ops::Reshape(s, g[0], ops::Shape(s, x)));
  }
  out->push_back(NoGradient());
  return s.status();
}

// Inputs: values..., axis. Each value's gradient is its slice of g.
absl::Status ConcatGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                        std::vector<Output>* out) {
  const int n = op.num_inputs() - 1;
  std::optional<std::vector<int64_t>> axis_v = ConstIntValues(op.input(n));
  Output first = op.input(0);
  if (!axis_v.has_value() || axis_v->size() != 1 || !first.rank_known()) {
    return absl::UnimplementedError(absl::StrCat(op.name(), ": Concat gradient needs a constant axis and known ranks"));
  }
  const int rank = first.shape().rank();
  int64_t axis = (*axis_v)[0];
  if (axis < 0) axis += rank;
  int64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    Output in = op.input(i);
    if (!in.rank_known() || in.shape().rank() != rank || in.shape().dim(static_cast<int>(axis)) < 0) {
      return absl::UnimplementedError(
          absl::StrCat(op.name(), ": Concat gradient needs the concatenated dimension of every input"));
    }
    std::vector<int64_t> begin(rank, 0), size(rank, -1);
    begin[axis] = offset;
    size[axis] = in.shape().dim(static_cast<int>(axis));
    out->push_back(ops::Slice(s, g[0], IntVector(s, begin), IntVector(s, size)));
    offset += size[axis];
  }
  out->push_back(NoGradient());
  return s.status();
}

// Inputs: axis, value.
absl::Status SplitGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                       std::vector<Output>* out) {
  std::vector<Input> parts;
  for (int i = 0; i < op.num_outputs(); ++i) {
    parts.push_back(g[i].valid() ? g[i] : ops::ZerosLike(s, op.output(i)));
  }
  out->push_back(NoGradient());
  out->push_back(ops::Concat(s, parts, op.input(0)));
  return s.status();
}

// Inputs: x, begin, size.
absl::Status SliceGradFn(const Scope& s, const Operation& op, const std::vector<Output>& g,
                         std::vector<Output>* out) {
  out->push_back(SliceGrad(s, g[0], op.input(0), op.input(1)));
  out->push_back(NoGradient());
  out->push_back(NoGradient());
  return s.status();
}

absl::Status TransposeGrad(const Scope& s, const Operation& op, const std::vector<Output>& g,
                           std::vector<Output>* out) {
  std::optional<std::vector<int64_t>> perm = ConstIntValues(op.input(1));
  if (!perm.has_value()) {
    return absl::UnimplementedError(absl::StrCat(op.name(), ": Transpose gradient needs a constant perm"));
  }
  std::vector<int64_t> inverse(perm->size());
  for (size_t i = 0; i < perm->size(); ++i) {
    const int64_t p = (*perm)[i];
    if (p < 0 || p >= static_cast<int64_t>(perm->size())) return absl::InvalidArgumentError("bad perm");
    inverse[p] = static_cast<int64_t>(i);
  }
  out->push_back(ops::Transpose(s, g[0], IntVector(s, inverse)));
  out->push_back(NoGradient());
  return s.status();
}

// Only x is differentiable: begin/end/strides are attributes.
absl::Status StridedSliceGradFn(const Scope& s, const Operation& op, const std::vector<Output>& g,
                                std::vector<Output>* out) {
  out->push_back(StridedSliceGrad(s, g[0], op.input(0), op.node()->attrs()));
  return s.status();
}

}  // namespace

std::optional<std::vector<int64_t>> ConstIntValues(const Output& o) {
  if (!o.valid() || o.node()->type() != "Const") return std::nullopt;
  const Tensor* t = o.node()->attr<Tensor>("value");
  if (t == nullptr) return std::nullopt;
  absl::StatusOr<std::vector<int64_t>> v = IntValues(*t);
  if (!v.ok()) return std::nullopt;
  return *v;
}

void RegisterNoGradient(GradientRegistry* r, std::string_view op) {
  (void)r->Register(op, [](const Scope&, const Operation& op, const std::vector<Output>&,
                           std::vector<Output>* out) {
    out->assign(op.num_inputs(), NoGradient());
    return absl::OkStatus();
  });
}

void RegisterArrayGradients(GradientRegistry* r) {
  (void)r->Register("Identity", IdentityGrad);
  (void)r->Register("PlaceholderWithDefault", IdentityGrad);
  (void)r->Register("Reshape", ReshapeGrad);
  (void)r->Register("ConcatV2", ConcatGrad);
  (void)r->Register("Split", SplitGrad);
  (void)r->Register("Slice", SliceGradFn);
  (void)r->Register("StridedSlice", StridedSliceGradFn);
  (void)r->Register("Transpose", TransposeGrad);
  for (const char* op : {"StopGradient", "Shape", "Fill", "ZerosLike", "OnesLike", "OneHot", "Const",
                         "Placeholder"}) {
    RegisterNoGradient(r, op);
  }
}

}  // namespace sluice::internal
