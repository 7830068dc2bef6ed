#include "graph/ops/manip_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "graph/internal/op_util.h"
#include "kernels/batch_matmul_op.h"
#include "kernels/manip_ops.h"
#include "kernels/sequence_ops.h"

namespace sluice {
namespace ops {

using internal::BuildOp;

Output Range(const Scope& scope, const Input& start, const Input& limit,
             const Input& delta) {
  std::vector<Output> in = internal::ToOutputs(scope, {start, limit, delta});
  if (!in[0].valid()) return Output();
  return BuildOp(scope, "Range", "range", in, {{"Tidx", in[0].dtype()}});
}

Output LinSpace(const Scope& scope, const Input& start, const Input& stop,
                const Input& num) {
  auto [a, b] = internal::BinaryOperands(scope, start, stop);
  Output n = num.ToOutput(scope);
  if (!a.valid() || !n.valid()) return Output();
  return BuildOp(scope, "LinSpace", "LinSpace", {a, b, n},
                 {{"T", a.dtype()}, {"Tidx", n.dtype()}});
}

Output Stack(const Scope& scope, const std::vector<Input>& values,
             int64_t axis) {
  std::vector<Output> in = internal::ToOutputs(scope, values);
  if (in.empty() || !in[0].valid()) {
    scope.UpdateStatus(
        absl::InvalidArgumentError("stack needs at least one valid value"));
    return Output();
  }
  return BuildOp(scope, "Pack", "stack", in,
                 {{"N", static_cast<int64_t>(in.size())},
                  {"T", in[0].dtype()},
                  {"axis", axis}});
}

std::vector<Output> Unstack(const Scope& scope, const Input& value,
                            std::optional<int64_t> num, int64_t axis) {
  Output v = value.ToOutput(scope);
  if (!v.valid()) return {};
  if (!num.has_value()) {
    const int r = v.rank_known() ? v.shape().rank() : 0;
    const int64_t a = axis < 0 ? axis + r : axis;
    if (!v.rank_known() || a < 0 || a >= r ||
        v.shape().dim(static_cast<int>(a)) < 0) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          "Cannot infer num from shape of ", v.name(), " along axis ", axis)));
      return {};
    }
    num = v.shape().dim(static_cast<int>(a));
  }
  Node* n = scope.AddNode("Unpack", "unstack", {v},
                          {{"num", *num}, {"T", v.dtype()}, {"axis", axis}});
  if (n == nullptr) return {};
  std::vector<Output> out;
  for (int i = 0; i < n->num_outputs(); ++i) out.emplace_back(n, i);
  return out;
}

Output Tile(const Scope& scope, const Input& x, const Input& multiples) {
  Output in = x.ToOutput(scope), m = multiples.ToOutput(scope);
  if (!in.valid() || !m.valid()) return Output();
  return BuildOp(scope, "Tile", "Tile", {in, m},
                 {{"T", in.dtype()}, {"Tmultiples", m.dtype()}});
}

Output Pad(const Scope& scope, const Input& x, const Input& paddings) {
  Output in = x.ToOutput(scope), p = paddings.ToOutput(scope);
  if (!in.valid() || !p.valid()) return Output();
  return BuildOp(scope, "Pad", "Pad", {in, p},
                 {{"T", in.dtype()}, {"Tpaddings", p.dtype()}});
}

Output PadV2(const Scope& scope, const Input& x, const Input& paddings,
             const Input& constant_value) {
  auto [in, c] = internal::BinaryOperands(scope, x, constant_value);
  Output p = paddings.ToOutput(scope);
  if (!in.valid() || !p.valid()) return Output();
  return BuildOp(scope, "PadV2", "PadV2", {in, p, c},
                 {{"T", in.dtype()}, {"Tpaddings", p.dtype()}});
}

Output Gather(const Scope& scope, const Input& params, const Input& indices,
              int64_t axis) {
  Output p = params.ToOutput(scope), i = indices.ToOutput(scope);
  Output a = Input(static_cast<int>(axis)).ToOutput(scope);
  if (!p.valid() || !i.valid() || !a.valid()) return Output();
  return BuildOp(scope, "GatherV2", "GatherV2", {p, i, a},
                 {{"Tparams", p.dtype()},
                  {"Tindices", i.dtype()},
                  {"Taxis", DType::kInt32},
                  {"batch_dims", int64_t{0}}});
}

Output UnsortedSegmentSum(const Scope& scope, const Input& data,
                          const Input& segment_ids, const Input& num_segments) {
  Output d = data.ToOutput(scope), i = segment_ids.ToOutput(scope),
         n = num_segments.ToOutput(scope);
  if (!d.valid() || !i.valid() || !n.valid()) return Output();
  return BuildOp(
      scope, "UnsortedSegmentSum", "UnsortedSegmentSum", {d, i, n},
      {{"T", d.dtype()}, {"Tindices", i.dtype()}, {"Tnumsegments", n.dtype()}});
}

Output Squeeze(const Scope& scope, const Input& x, std::vector<int64_t> axis) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  return BuildOp(scope, "Squeeze", "Squeeze", {in},
                 {{"T", in.dtype()}, {"squeeze_dims", std::move(axis)}});
}

Output ExpandDims(const Scope& scope, const Input& x, const Input& axis) {
  Output in = x.ToOutput(scope), a = axis.ToOutput(scope);
  if (!in.valid() || !a.valid()) return Output();
  return BuildOp(scope, "ExpandDims", "ExpandDims", {in, a},
                 {{"T", in.dtype()}, {"Tdim", a.dtype()}});
}

Output Size(const Scope& scope, const Input& x) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  return BuildOp(scope, "Size", "Size", {in},
                 {{"T", in.dtype()}, {"out_type", DType::kInt32}});
}

Output Rank(const Scope& scope, const Input& x) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  return BuildOp(scope, "Rank", "Rank", {in}, {{"T", in.dtype()}});
}

Output BatchMatMul(const Scope& scope, const Input& x, const Input& y,
                   BatchMatMulOptions options) {
  auto [a, b] = internal::BinaryOperands(scope, x, y);
  if (!a.valid() || !b.valid()) return Output();
  return BuildOp(
      scope, "BatchMatMulV2", "MatMul", {a, b},
      {{"T", a.dtype()}, {"adj_x", options.adj_x}, {"adj_y", options.adj_y}});
}

}  // namespace ops

namespace internal {
namespace {

absl::StatusOr<int64_t> ScalarInt(const Tensor& t, const char* what) {
  if (t.NumElements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be a scalar, got shape ", t.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(t));
  return v[0];
}

// Shape after Squeeze of `in` (rank known) with `axes`; unknown rank (nullopt)
// when some dim is unknown and no axes are named.
absl::StatusOr<std::optional<TensorShape>> SqueezedShape(
    const TensorShape& in, const std::vector<int64_t>& axes) {
  const int r = in.rank();
  std::vector<bool> drop(r, false);
  if (axes.empty()) {
    for (int d = 0; d < r; ++d) {
      if (in.dim(d) < 0) return std::optional<TensorShape>();
      drop[d] = in.dim(d) == 1;
    }
  } else {
    for (int64_t a : axes) {
      const int64_t ax = a < 0 ? a + r : a;
      if (ax < 0 || ax >= r) {
        return absl::InvalidArgumentError(
            absl::StrCat("Tried to squeeze dim index ", a, " for tensor with ",
                         r, " dimensions."));
      }
      if (in.dim(static_cast<int>(ax)) > 1 ||
          in.dim(static_cast<int>(ax)) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Can not squeeze dim[", ax, "], expected a dimension of 1, got ",
            in.dim(static_cast<int>(ax))));
      }
      drop[ax] = true;
    }
  }
  TensorShape out;
  for (int d = 0; d < r; ++d) {
    if (!drop[d]) out.AddDim(in.dim(d));
  }
  return std::optional<TensorShape>(out);
}

absl::StatusOr<TensorShape> ExpandedShape(const TensorShape& in, int64_t axis) {
  const int r = in.rank();
  const int64_t a = axis < 0 ? axis + r + 1 : axis;
  if (a < 0 || a > r) {
    return absl::InvalidArgumentError(absl::StrCat("Tried to expand dim index ",
                                                   axis, " for tensor with ", r,
                                                   " dimensions."));
  }
  TensorShape out;
  for (int d = 0; d < r; ++d) {
    if (d == a) out.AddDim(1);
    out.AddDim(in.dim(d));
  }
  if (a == r) out.AddDim(1);
  return out;
}

TensorShape UnknownDims(int rank) {
  TensorShape s;
  for (int i = 0; i < rank; ++i) s.AddDim(-1);
  return s;
}

void RegisterSequenceOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops,
             {"Range", [](InferenceContext* c) {
                SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                const DType dt = c->input_dtype(0);
                if (c->input_dtype(1) != dt || c->input_dtype(2) != dt) {
                  return c->Error("start, limit and delta must have one dtype");
                }
                const Tensor* s = c->input_constant(0);
                const Tensor* l = c->input_constant(1);
                const Tensor* d = c->input_constant(2);
                int64_t n = -1;
                if (s && l && d) {
                  absl::StatusOr<int64_t> size = RangeSize(*s, *l, *d);
                  if (!size.ok()) return c->Error(Sv(size.status().message()));
                  n = *size;
                }
                c->set_output(0, dt, TensorShape{n});
                return absl::OkStatus();
              }});
  RegisterCpuKernel(kernels, "Range", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::Range(ctx->input(0), ctx->input(1), ctx->input(2), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"LinSpace", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                     int64_t n = -1;
                     if (const Tensor* t = c->input_constant(2)) {
                       SLUICE_ASSIGN_OR_RETURN(n, ScalarInt(*t, "num"));
                     }
                     c->set_output(0, c->input_dtype(0), TensorShape{n});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "LinSpace", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(int64_t n, ScalarInt(ctx->input(2), "num"));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::LinSpace(ctx->input(0), ctx->input(1), n, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
}

void RegisterStackOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops,
             {"Pack", [](InferenceContext* c) {
                SLUICE_ASSIGN_OR_RETURN(int64_t axis,
                                        c->GetAttr<int64_t>("axis"));
                const int n = c->num_inputs();
                TensorShape s;
                bool known = false;
                for (int i = 0; i < n; ++i) {
                  if (c->input_dtype(i) != c->input_dtype(0)) {
                    return c->Error("all values must have one dtype");
                  }
                  if (!c->input_rank_known(i)) continue;
                  if (!known) {
                    s = c->input_shape(i);
                    known = true;
                  } else if (!s.IsCompatibleWith(c->input_shape(i))) {
                    return c->Error(absl::StrCat(
                        "Shapes of all inputs must match: ", s.DebugString(),
                        " vs ", c->input_shape(i).DebugString()));
                  }
                }
                if (!known) {
                  c->set_unknown_output(0, c->input_dtype(0));
                  return absl::OkStatus();
                }
                const int r = s.rank();
                const int64_t a = axis < 0 ? axis + r + 1 : axis;
                if (a < 0 || a > r) {
                  return c->Error(absl::StrCat("axis = ", axis, " not in [",
                                               -r - 1, ", ", r + 1, ")"));
                }
                TensorShape out;
                for (int d = 0; d <= r; ++d) {
                  if (d == a) out.AddDim(n);
                  if (d < r) out.AddDim(s.dim(d));
                }
                c->set_output(0, c->input_dtype(0), out);
                return absl::OkStatus();
              }});
  RegisterCpuKernel(kernels, "Pack", [](OpKernelContext* ctx) {
    std::vector<Tensor> in;
    for (int i = 0; i < ctx->num_inputs(); ++i) in.push_back(ctx->input(i));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::Pack(in, *ctx->node().attr<int64_t>("axis"), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(
      ops,
      {"Unpack", [](InferenceContext* c) {
         SLUICE_ASSIGN_OR_RETURN(int64_t num, c->GetAttr<int64_t>("num"));
         SLUICE_ASSIGN_OR_RETURN(int64_t axis, c->GetAttr<int64_t>("axis"));
         for (int64_t i = 0; i < num; ++i)
           c->set_unknown_output(static_cast<int>(i), c->input_dtype(0));
         if (!c->input_rank_known(0)) return absl::OkStatus();
         const TensorShape& s = c->input_shape(0);
         const int r = s.rank();
         const int64_t a = axis < 0 ? axis + r : axis;
         if (a < 0 || a >= r) {
           return c->Error(
               absl::StrCat("axis = ", axis, " not in [", -r, ", ", r, ")"));
         }
         const int64_t d = s.dim(static_cast<int>(a));
         if (d >= 0 && d != num) {
           return c->Error(
               absl::StrCat("Dimension must be ", num, " but is ", d));
         }
         TensorShape part;
         for (int i = 0; i < r; ++i) {
           if (i != a) part.AddDim(s.dim(i));
         }
         for (int64_t i = 0; i < num; ++i)
           c->set_output(static_cast<int>(i), c->input_dtype(0), part);
         return absl::OkStatus();
       }});
  RegisterCpuKernel(kernels, "Unpack", [](OpKernelContext* ctx) {
    std::vector<Tensor> out;
    const int64_t axis = *ctx->node().attr<int64_t>("axis");
    SLUICE_RETURN_IF_ERROR(sluice::Unpack(ctx->input(0), axis, &out));
    if (static_cast<int>(out.size()) != ctx->node().num_outputs()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Unpack: input has ", out.size(), " entries along axis ",
                       axis, ", expected ", ctx->node().num_outputs()));
    }
    for (size_t i = 0; i < out.size(); ++i)
      ctx->set_output(static_cast<int>(i), out[i]);
    return absl::OkStatus();
  });
}

void RegisterShapeOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops,
             {"Tile", [](InferenceContext* c) {
                const Tensor* m = c->input_constant(1);
                if (m == nullptr || !c->input_rank_known(0)) {
                  if (c->input_rank_known(0)) {
                    c->set_output(0, c->input_dtype(0),
                                  UnknownDims(c->input_shape(0).rank()));
                  } else {
                    c->set_unknown_output(0, c->input_dtype(0));
                  }
                  return absl::OkStatus();
                }
                SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> mv, IntValues(*m));
                const TensorShape& s = c->input_shape(0);
                if (static_cast<int>(mv.size()) != s.rank()) {
                  return c->Error(absl::StrCat(
                      "Expected multiples argument to be a vector of length ",
                      s.rank(), " but got length ", mv.size()));
                }
                TensorShape out;
                for (int d = 0; d < s.rank(); ++d)
                  out.AddDim(s.dim(d) < 0 ? -1 : s.dim(d) * mv[d]);
                c->set_output(0, c->input_dtype(0), out);
                return absl::OkStatus();
              }});
  RegisterCpuKernel(kernels, "Tile", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> m, IntValues(ctx->input(1)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Tile(ctx->input(0), m, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  auto pad_shape = [](InferenceContext* c) {
    const Tensor* p = c->input_constant(1);
    if (!c->input_rank_known(0)) {
      c->set_unknown_output(0, c->input_dtype(0));
      return absl::OkStatus();
    }
    const TensorShape& s = c->input_shape(0);
    if (p == nullptr) {
      c->set_output(0, c->input_dtype(0), UnknownDims(s.rank()));
      return absl::OkStatus();
    }
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> pv, IntValues(*p));
    if (static_cast<int>(pv.size()) != 2 * s.rank()) {
      return c->Error(absl::StrCat("paddings must be [", s.rank(), ", 2], got ",
                                   p->shape().DebugString()));
    }
    TensorShape out;
    for (int d = 0; d < s.rank(); ++d)
      out.AddDim(s.dim(d) < 0 ? -1 : s.dim(d) + pv[2 * d] + pv[2 * d + 1]);
    c->set_output(0, c->input_dtype(0), out);
    return absl::OkStatus();
  };
  RegisterOp(ops, {"Pad", pad_shape});
  RegisterOp(ops, {"PadV2", pad_shape});
  for (const char* name : {"Pad", "PadV2"}) {
    RegisterCpuKernel(kernels, name, [](OpKernelContext* ctx) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> p, IntValues(ctx->input(1)));
      Tensor constant =
          ctx->num_inputs() > 2
              ? ctx->input(2)
              : Tensor::Zeros(ctx->input(0).dtype(), TensorShape{});
      Tensor out;
      SLUICE_RETURN_IF_ERROR(sluice::Pad(ctx->input(0), p, constant, &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
  }

  RegisterOp(
      ops, {"GatherV2", [](InferenceContext* c) {
              SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
              const Tensor* a = c->input_constant(2);
              if (a == nullptr || !c->input_rank_known(0) ||
                  !c->input_rank_known(1)) {
                c->set_unknown_output(0, c->input_dtype(0));
                return absl::OkStatus();
              }
              SLUICE_ASSIGN_OR_RETURN(int64_t axis, ScalarInt(*a, "axis"));
              const TensorShape& p = c->input_shape(0);
              const int r = p.rank();
              const int64_t ax = axis < 0 ? axis + r : axis;
              if (ax < 0 || ax >= r) {
                return c->Error(absl::StrCat("Expected axis in the range [", -r,
                                             ", ", r, "), but got ", axis));
              }
              TensorShape out;
              for (int d = 0; d < ax; ++d) out.AddDim(p.dim(d));
              for (int64_t d : c->input_shape(1).dims()) out.AddDim(d);
              for (int d = static_cast<int>(ax) + 1; d < r; ++d)
                out.AddDim(p.dim(d));
              c->set_output(0, c->input_dtype(0), out);
              return absl::OkStatus();
            }});
  RegisterCpuKernel(kernels, "GatherV2", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(int64_t axis, ScalarInt(ctx->input(2), "axis"));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::Gather(ctx->input(0), ctx->input(1), axis, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"UnsortedSegmentSum", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                     const Tensor* n = c->input_constant(2);
                     if (!c->input_rank_known(0) || !c->input_rank_known(1)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     int64_t num = -1;
                     if (n != nullptr) {
                       SLUICE_ASSIGN_OR_RETURN(num,
                                               ScalarInt(*n, "num_segments"));
                     }
                     TensorShape out{num};
                     const TensorShape& d = c->input_shape(0);
                     for (int i = c->input_shape(1).rank(); i < d.rank(); ++i)
                       out.AddDim(d.dim(i));
                     c->set_output(0, c->input_dtype(0), out);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "UnsortedSegmentSum", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(int64_t n,
                            ScalarInt(ctx->input(2), "num_segments"));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::UnsortedSegmentSum(ctx->input(0), ctx->input(1), n, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Squeeze", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(
                         std::vector<int64_t> axes,
                         c->GetAttr<std::vector<int64_t>>("squeeze_dims"));
                     if (!c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     auto s = SqueezedShape(c->input_shape(0), axes);
                     if (!s.ok()) return c->Error(Sv(s.status().message()));
                     if (s->has_value()) {
                       c->set_output(0, c->input_dtype(0), **s);
                     } else {
                       c->set_unknown_output(0, c->input_dtype(0));
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(
      kernels, "Squeeze",
      [](OpKernelContext* ctx) {
        SLUICE_ASSIGN_OR_RETURN(
            auto s, SqueezedShape(ctx->input(0).shape(),
                                  *ctx->node().attr<std::vector<int64_t>>(
                                      "squeeze_dims")));
        ctx->set_output(0, ctx->input(0).Reshaped(*s));
        return absl::OkStatus();
      },
      {}, true);

  RegisterOp(ops, {"ExpandDims", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     const Tensor* a = c->input_constant(1);
                     if (a == nullptr || !c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(int64_t axis,
                                             ScalarInt(*a, "axis"));
                     auto s = ExpandedShape(c->input_shape(0), axis);
                     if (!s.ok()) return c->Error(Sv(s.status().message()));
                     c->set_output(0, c->input_dtype(0), *s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(
      kernels, "ExpandDims",
      [](OpKernelContext* ctx) {
        SLUICE_ASSIGN_OR_RETURN(int64_t axis, ScalarInt(ctx->input(1), "axis"));
        SLUICE_ASSIGN_OR_RETURN(TensorShape s,
                                ExpandedShape(ctx->input(0).shape(), axis));
        ctx->set_output(0, ctx->input(0).Reshaped(s));
        return absl::OkStatus();
      },
      {}, true);

  for (const char* name : {"Size", "Rank"}) {
    RegisterOp(ops, {name, [](InferenceContext* c) {
                       c->set_output(0, DType::kInt32, TensorShape{});
                       return absl::OkStatus();
                     }});
    const bool size = std::string_view(name) == "Size";
    RegisterCpuKernel(
        kernels, name,
        [size](OpKernelContext* ctx) {
          const Tensor& x = ctx->input(0);
          ctx->set_output(0, Tensor::Scalar<int32_t>(static_cast<int32_t>(
                                 size ? x.NumElements() : x.rank())));
          return absl::OkStatus();
        },
        {}, true);
  }

  RegisterOp(ops, {"BatchMatMulV2", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
                     if (!c->input_rank_known(0) || !c->input_rank_known(1)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     auto s = BatchMatMulShape(
                         c->input_shape(0), c->input_shape(1),
                         *c->attr<bool>("adj_x"), *c->attr<bool>("adj_y"));
                     if (!s.ok()) return c->Error(Sv(s.status().message()));
                     c->set_output(0, c->input_dtype(0), *s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "BatchMatMulV2", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::BatchMatMul(
        ctx->input(0), ctx->input(1), *ctx->node().attr<bool>("adj_x"),
        *ctx->node().attr<bool>("adj_y"), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
}

}  // namespace

void RegisterManipOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterSequenceOps(ops, kernels);
  RegisterStackOps(ops, kernels);
  RegisterShapeOps(ops, kernels);
}

}  // namespace internal
}  // namespace sluice
