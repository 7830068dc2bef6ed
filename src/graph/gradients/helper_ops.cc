#include "graph/gradients/helper_ops.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "graph/internal/op_util.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "kernels/array_ops.h"

namespace sluice::internal {
namespace {

// Row-major strides of `dims`.
std::vector<int64_t> Strides(absl::Span<const int64_t> dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

// Calls fn(src_index, dst_index) for every element of a tensor of `dims`,
// where dst_index advances by dst_strides[d] along dimension d (0 for a
// broadcast dimension). One increment per element, no division.
template <typename Fn>
void ForEachIndex(absl::Span<const int64_t> dims, absl::Span<const int64_t> dst_strides, Fn fn) {
  const int rank = static_cast<int>(dims.size());
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  if (total == 0) return;
  std::vector<int64_t> idx(rank, 0);
  int64_t dst = 0;
  for (int64_t src = 0; src < total; ++src) {
    fn(src, dst);
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < dims[d]) {
        dst += dst_strides[d];
        break;
      }
      dst -= dst_strides[d] * (dims[d] - 1);
      idx[d] = 0;
    }
  }
}

template <typename T>
void SumTo(const Tensor& g, const std::vector<int64_t>& dst_strides, Tensor* out) {
  T* o = out->data<T>();
  std::fill(o, o + out->NumElements(), T(0));
  const T* in = g.data<T>();
  ForEachIndex(g.shape().dims(), dst_strides, [&](int64_t s, int64_t d) { o[d] += in[s]; });
}

template <typename T>
void BroadcastFrom(const Tensor& g, const std::vector<int64_t>& src_strides, double scale, Tensor* out) {
  T* o = out->data<T>();
  const T* in = g.data<T>();
  ForEachIndex(out->shape().dims(), src_strides,
               [&](int64_t s, int64_t d) { o[s] = static_cast<T>(in[d] * scale); });
}

#define SLUICE_GRAD_DISPATCH(dtype, CALL)                                          \
  switch (dtype) {                                                                 \
    case DType::kFloat32: { using T = float; CALL; break; }                        \
    case DType::kFloat64: { using T = double; CALL; break; }                       \
    case DType::kInt32: { using T = int32_t; CALL; break; }                        \
    case DType::kInt64: { using T = int64_t; CALL; break; }                        \
    default:                                                                       \
      return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": unsupported dtype")); \
  }

absl::Status SumToShapeKernel(OpKernelContext* ctx) {
  const Tensor& g = ctx->input(0);
  const TensorShape& target = ctx->input(1).shape();
  if (g.shape() == target) {
    ctx->set_output(0, g);
    return absl::OkStatus();
  }
  const int rg = g.rank(), rt = target.rank();
  auto mismatch = [&] {
    return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": cannot reduce gradient of shape ",
                                                   g.shape().DebugString(), " to shape ", target.DebugString()));
  };
  if (rt > rg) return mismatch();
  const std::vector<int64_t> tstrides = Strides(target.dims());
  std::vector<int64_t> dst_strides(rg, 0);
  for (int d = 0; d < rg; ++d) {
    const int td = d - (rg - rt);
    if (td < 0) continue;  // leading dimension absent in the target
    if (target.dim(td) == g.dim(d)) {
      dst_strides[d] = tstrides[td];
    } else if (target.dim(td) != 1) {
      return mismatch();
    }
  }
  Tensor out(g.dtype(), target);
  SLUICE_GRAD_DISPATCH(g.dtype(), SumTo<T>(g, dst_strides, &out));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// Reduction groups of a reduction of `xs`: which dims are reduced, from the
// reduce_all attribute or the axes tensor (the forward kernel's semantics).
absl::StatusOr<std::vector<bool>> ReducedDims(OpKernelContext* ctx, const TensorShape& xs,
                                              const Tensor& axes_t) {
  const int rank = xs.rank();
  const bool* ra = ctx->node().attr<bool>("reduce_all");
  std::vector<bool> reduced(rank, ra != nullptr && *ra);
  if (!(ra != nullptr && *ra)) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axes, IntValues(axes_t));
    for (int64_t a : axes) {
      if (a < -rank || a >= rank) {
        return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": axis ", a, " out of range"));
      }
      reduced[a < 0 ? a + rank : a] = true;
    }
  }
  return reduced;
}

// The groups of a reduction of `xs` (one per element of the reduced
// result): how many, and per dim of xs the stride of the group index (0
// for a reduced dim). InvalidArgument when `g` has another size.
struct ReductionGroups {
  int64_t count = 1;
  std::vector<int64_t> strides;
};
absl::StatusOr<ReductionGroups> GroupsOf(const OpKernelContext* ctx, const TensorShape& xs,
                                         const std::vector<bool>& reduced, const Tensor& g) {
  const int rank = xs.rank();
  std::vector<int64_t> kept(rank);
  for (int d = 0; d < rank; ++d) kept[d] = reduced[d] ? 1 : xs.dim(d);
  ReductionGroups r;
  for (int64_t k : kept) r.count *= k;
  if (r.count != g.NumElements()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": gradient of shape ", g.shape().DebugString(),
                                                   " does not fit the reduction of ", xs.DebugString()));
  }
  const std::vector<int64_t> ks = Strides(kept);
  r.strides.resize(rank);
  for (int d = 0; d < rank; ++d) r.strides[d] = reduced[d] ? 0 : ks[d];
  return r;
}

absl::Status BroadcastReducedKernel(OpKernelContext* ctx) {
  const Tensor& g = ctx->input(0);
  const TensorShape& xs = ctx->input(1).shape();
  const bool* mean = ctx->node().attr<bool>("mean");
  SLUICE_ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx, xs, ctx->input(2)));
  SLUICE_ASSIGN_OR_RETURN(ReductionGroups groups, GroupsOf(ctx, xs, reduced, g));
  const std::vector<int64_t>& src_strides = groups.strides;
  double scale = 1.0;
  if (mean != nullptr && *mean && groups.count > 0) {
    scale = 1.0 / (static_cast<double>(xs.num_elements()) / static_cast<double>(groups.count));
  }
  Tensor out(g.dtype(), xs);
  SLUICE_GRAD_DISPATCH(g.dtype(), BroadcastFrom<T>(g, src_strides, scale, &out));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status SliceGradKernel(OpKernelContext* ctx) {
  const Tensor& g = ctx->input(0);
  const TensorShape& xs = ctx->input(1).shape();
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(ctx->input(2)));
  if (static_cast<int>(begin.size()) != xs.rank() || g.rank() != xs.rank()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": rank mismatch"));
  }
  for (int d = 0; d < xs.rank(); ++d) {
    if (begin[d] < 0 || begin[d] + g.dim(d) > xs.dim(d)) {
      return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": slice out of range"));
    }
  }
  Tensor out = Tensor::Zeros(g.dtype(), xs);
  const std::vector<int64_t> xstrides = Strides(xs.dims());
  int64_t base = 0;
  for (int d = 0; d < xs.rank(); ++d) base += begin[d] * xstrides[d];
  const size_t esize = DTypeSize(g.dtype());
  const char* in = static_cast<const char*>(g.raw_data());
  char* o = static_cast<char*>(out.raw_data()) + base * esize;
  ForEachIndex(g.shape().dims(), xstrides,
               [&](int64_t s, int64_t d) { std::memcpy(o + d * esize, in + s * esize, esize); });
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// out[i] = g[group(i)] * product of the other members of i's group. The
// exclusive products come from prefix and suffix products, so zeros in a
// group need no special case (no division by x).
template <typename T>
void ProdGradImpl(const Tensor& g, const Tensor& x, const std::vector<int64_t>& group_strides,
                  int64_t num_groups, Tensor* out) {
  std::vector<std::vector<int64_t>> members(num_groups);
  ForEachIndex(x.shape().dims(), group_strides, [&](int64_t s, int64_t d) { members[d].push_back(s); });
  const T* xv = x.data<T>();
  const T* gv = g.data<T>();
  T* o = out->data<T>();
  std::vector<T> prefix;
  for (int64_t grp = 0; grp < num_groups; ++grp) {
    const std::vector<int64_t>& m = members[grp];
    prefix.assign(m.size(), T(1));
    for (size_t k = 1; k < m.size(); ++k) prefix[k] = prefix[k - 1] * xv[m[k - 1]];
    T suffix = T(1);
    for (size_t k = m.size(); k-- > 0;) {
      o[m[k]] = gv[grp] * prefix[k] * suffix;
      suffix *= xv[m[k]];
    }
  }
}

// Inputs: grad (the reduced shape, kept dims or not), x, axes.
absl::Status ProdGradKernel(OpKernelContext* ctx) {
  const Tensor& g = ctx->input(0);
  const Tensor& x = ctx->input(1);
  const TensorShape& xs = x.shape();
  if (g.dtype() != x.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": dtype mismatch"));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<bool> reduced, ReducedDims(ctx, xs, ctx->input(2)));
  SLUICE_ASSIGN_OR_RETURN(ReductionGroups groups, GroupsOf(ctx, xs, reduced, g));
  Tensor out(g.dtype(), xs);
  switch (g.dtype()) {
    case DType::kFloat32: ProdGradImpl<float>(g, x, groups.strides, groups.count, &out); break;
    case DType::kFloat64: ProdGradImpl<double>(g, x, groups.strides, groups.count, &out); break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": unsupported dtype"));
  }
  ctx->set_output(0, out);
  return absl::OkStatus();
}

template <typename T>
void ScatterAdd(const Tensor& g, const Tensor& positions, Tensor* out) {
  const T* gv = g.data<T>();
  const int64_t* pos = positions.data<int64_t>();
  T* o = out->data<T>();
  for (int64_t k = 0; k < g.NumElements(); ++k) o[pos[k]] += gv[k];
}

// Inputs: grad (the slice's shape), x. The forward kernel itself, run on
// the flat indices of x, says where each slice element came from, so the
// begin/end/stride/mask semantics cannot drift from the forward op.
absl::Status StridedSliceGradKernel(OpKernelContext* ctx) {
  const Tensor& g = ctx->input(0);
  const TensorShape& xs = ctx->input(1).shape();
  const StridedSliceSpec spec = StridedSliceSpecOf(ctx->node().attrs());
  Tensor iota(DType::kInt64, xs);
  int64_t* iv = iota.data<int64_t>();
  for (int64_t i = 0; i < iota.NumElements(); ++i) iv[i] = i;
  Tensor positions;
  SLUICE_RETURN_IF_ERROR(sluice::StridedSlice(iota, spec, &positions));
  if (positions.NumElements() != g.NumElements()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": gradient of shape ", g.shape().DebugString(),
                                                   " does not fit the slice of ", xs.DebugString()));
  }
  Tensor out = Tensor::Zeros(g.dtype(), xs);
  switch (g.dtype()) {
    case DType::kFloat32: ScatterAdd<float>(g, positions, &out); break;
    case DType::kFloat64: ScatterAdd<double>(g, positions, &out); break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(ctx->node().name(), ": unsupported dtype"));
  }
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// Output 0: input 0's dtype, input 1's shape.
absl::Status LikeInput1(InferenceContext* c) {
  c->set_output(0, c->input_dtype(0), c->input_shape(1), c->input_rank_known(1));
  return absl::OkStatus();
}

Output Build(const Scope& scope, const char* op, const char* name, std::vector<Output> inputs, AttrMap attrs = {}) {
  RegisterGradientHelperOps();
  for (const Output& o : inputs) {
    if (!o.valid()) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(op, ": invalid input")));
      return Output();
    }
  }
  attrs["T"] = inputs[0].dtype();
  return BuildOp(scope, op, name, std::move(inputs), std::move(attrs));
}

}  // namespace

void RegisterGradientHelperOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    OpRegistry* ops = OpRegistry::Global();
    KernelRegistry* kernels = KernelRegistry::Global();
    const std::vector<DType> types = {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64};
    RegisterOp(ops, {"SluiceSumToShapeOf", LikeInput1});
    RegisterCpuKernel(kernels, "SluiceSumToShapeOf", SumToShapeKernel, types);
    RegisterOp(ops, {"SluiceBroadcastReduced", LikeInput1});
    RegisterCpuKernel(kernels, "SluiceBroadcastReduced", BroadcastReducedKernel, types);
    RegisterOp(ops, {"SluiceSliceGrad", LikeInput1});
    RegisterCpuKernel(kernels, "SluiceSliceGrad", SliceGradKernel);
    const std::vector<DType> floats = {DType::kFloat32, DType::kFloat64};
    RegisterOp(ops, {"SluiceProdGrad", LikeInput1});
    RegisterCpuKernel(kernels, "SluiceProdGrad", ProdGradKernel, floats);
    RegisterOp(ops, {"SluiceStridedSliceGrad", LikeInput1});
    RegisterCpuKernel(kernels, "SluiceStridedSliceGrad", StridedSliceGradKernel, floats);
  });
}

Output SumToShapeOf(const Scope& scope, const Output& grad, const Output& like) {
  if (grad.valid() && like.valid() && grad.rank_known() && like.rank_known() &&
      grad.shape().IsFullyDefined() && grad.shape() == like.shape()) {
    return grad;
  }
  return Build(scope, "SluiceSumToShapeOf", "SumToShape", {grad, like});
}

Output BroadcastReduced(const Scope& scope, const Output& grad, const Output& x, const Output& axes,
                        bool reduce_all, bool mean) {
  return Build(scope, "SluiceBroadcastReduced", "BroadcastReduced", {grad, x, axes},
               {{"reduce_all", reduce_all}, {"mean", mean}});
}

Output SliceGrad(const Scope& scope, const Output& grad, const Output& x, const Output& begin) {
  return Build(scope, "SluiceSliceGrad", "SliceGrad", {grad, x, begin});
}

Output ProdGrad(const Scope& scope, const Output& grad, const Output& x, const Output& axes, bool reduce_all) {
  return Build(scope, "SluiceProdGrad", "ProdGrad", {grad, x, axes}, {{"reduce_all", reduce_all}});
}

Output StridedSliceGrad(const Scope& scope, const Output& grad, const Output& x, const AttrMap& slice_attrs) {
  AttrMap attrs;
  for (const char* k : {"begin", "end", "strides", "begin_mask", "end_mask", "shrink_axis_mask"}) {
    auto it = slice_attrs.find(k);
    if (it != slice_attrs.end()) attrs[k] = it->second;
  }
  return Build(scope, "SluiceStridedSliceGrad", "StridedSliceGrad", {grad, x}, std::move(attrs));
}

}  // namespace sluice::internal
