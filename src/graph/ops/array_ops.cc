#include "graph/ops/array_ops.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/internal/op_util.h"
#include "kernels/array_ops.h"
#include "kernels/cwise_ops.h"

namespace sluice {
namespace ops {

using internal::BuildOp;

Output Const(const Scope& scope, const Input& value) { return value.ToOutput(scope); }

Output Const(const Scope& scope, const Input& value, DType dtype, const TensorShape& shape) {
  if (!value.is_literal()) {
    scope.UpdateStatus(absl::InvalidArgumentError("Const: value must be a literal"));
    return Output();
  }
  Tensor v;
  absl::Status s = sluice::Cast(value.literal(), dtype, &v);
  if (s.ok() && shape.IsFullyDefined() && v.NumElements() != shape.num_elements()) {
    if (v.NumElements() == 1) {
      Tensor filled;
      s = sluice::Fill(shape, v.Reshaped(TensorShape{}), &filled);
      v = filled;
    } else {
      s = absl::InvalidArgumentError(absl::StrCat("Const: ", v.NumElements(),
                                                  " values cannot have shape ",
                                                  shape.DebugString()));
    }
  } else if (s.ok() && shape.IsFullyDefined()) {
    v = v.Reshaped(shape);
  }
  if (!s.ok()) {
    scope.UpdateStatus(s);
    return Output();
  }
  return BuildOp(scope, "Const", "Const", {}, {{"value", v}, {"dtype", dtype}});
}

Output Placeholder(const Scope& scope, DType dtype) {
  return BuildOp(scope, "Placeholder", "Placeholder", {}, {{"dtype", dtype}});
}

Output Placeholder(const Scope& scope, DType dtype, const TensorShape& shape) {
  return BuildOp(scope, "Placeholder", "Placeholder", {}, {{"dtype", dtype}, {"shape", shape}});
}

Output PlaceholderWithDefault(const Scope& scope, const Input& default_value,
                              const TensorShape& shape) {
  Output d = default_value.ToOutput(scope);
  return BuildOp(scope, "PlaceholderWithDefault", "PlaceholderWithDefault", {d},
                 {{"shape", shape}});
}

Output Identity(const Scope& scope, const Input& x) {
  return BuildOp(scope, "Identity", "Identity", {x.ToOutput(scope)});
}

Output StopGradient(const Scope& scope, const Input& x) {
  return BuildOp(scope, "StopGradient", "StopGradient", {x.ToOutput(scope)});
}

Operation NoOp(const Scope& scope) {
  return Operation(scope.AddNode("NoOp", "NoOp", {}));
}

Operation Group(const Scope& scope, const std::vector<Operation>& ops) {
  return Operation(scope.WithControlDependencies(ops).AddNode("NoOp", "group_deps", {}));
}

Output Reshape(const Scope& scope, const Input& x, const Input& shape) {
  return BuildOp(scope, "Reshape", "Reshape", {x.ToOutput(scope), shape.ToOutput(scope)});
}

Output Shape(const Scope& scope, const Input& x) {
  return BuildOp(scope, "Shape", "Shape", {x.ToOutput(scope)});
}

Output Fill(const Scope& scope, const Input& dims, const Input& value) {
  return BuildOp(scope, "Fill", "Fill", {dims.ToOutput(scope), value.ToOutput(scope)});
}

Output Zeros(const Scope& scope, const TensorShape& shape, DType dtype) {
  return Const(scope.NewSubScope("zeros"), 0, dtype, shape);
}

Output Ones(const Scope& scope, const TensorShape& shape, DType dtype) {
  return Const(scope.NewSubScope("ones"), 1, dtype, shape);
}

Output ZerosLike(const Scope& scope, const Input& x) {
  return BuildOp(scope, "ZerosLike", "zeros_like", {x.ToOutput(scope)});
}

Output OnesLike(const Scope& scope, const Input& x) {
  return BuildOp(scope, "OnesLike", "ones_like", {x.ToOutput(scope)});
}

Output Concat(const Scope& scope, const std::vector<Input>& values, const Input& axis) {
  std::vector<Output> in = internal::ToOutputs(scope, values);
  in.push_back(axis.ToOutput(scope));
  return BuildOp(scope, "ConcatV2", "concat", std::move(in),
                 {{"N", static_cast<int64_t>(values.size())}});
}

std::vector<Output> Split(const Scope& scope, const Input& axis, const Input& value,
                          int64_t num_split) {
  Node* n = scope.AddNode("Split", "split", {axis.ToOutput(scope), value.ToOutput(scope)},
                          {{"num_split", num_split}});
  std::vector<Output> out;
  if (n == nullptr) return std::vector<Output>(num_split);
  for (int i = 0; i < n->num_outputs(); ++i) out.emplace_back(n, i);
  return out;
}

Output Slice(const Scope& scope, const Input& x, const Input& begin, const Input& size) {
  return BuildOp(scope, "Slice", "Slice",
                 {x.ToOutput(scope), begin.ToOutput(scope), size.ToOutput(scope)});
}

Output StridedSlice(const Scope& scope, const Input& x, const StridedSliceSpec& spec) {
  return BuildOp(scope, "StridedSlice", "strided_slice", {x.ToOutput(scope)},
                 {{"begin", spec.begin},
                  {"end", spec.end},
                  {"strides", spec.strides},
                  {"begin_mask", spec.begin_mask},
                  {"end_mask", spec.end_mask},
                  {"shrink_axis_mask", spec.shrink_axis_mask}});
}

Output Index(const Scope& scope, const Input& x, int64_t i) {
  StridedSliceSpec spec;
  spec.begin = {i};
  spec.end = {i + 1};
  spec.strides = {1};
  spec.shrink_axis_mask = 1;
  return StridedSlice(scope, x, spec);
}

Output OneHot(const Scope& scope, const Input& indices, const Input& depth, const Input& on_value,
              const Input& off_value) {
  auto [on, off] = internal::BinaryOperands(scope, on_value, off_value);
  return BuildOp(scope, "OneHot", "one_hot",
                 {indices.ToOutput(scope), depth.ToOutput(scope), on, off});
}

Output Transpose(const Scope& scope, const Input& x, const Input& perm) {
  return BuildOp(scope, "Transpose", "transpose", {x.ToOutput(scope), perm.ToOutput(scope)});
}

Output Cast(const Scope& scope, const Input& x, DType dtype) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  return BuildOp(scope, "Cast", "Cast", {in}, {{"SrcT", in.dtype()}, {"DstT", dtype}});
}

}  // namespace ops

namespace internal {
namespace {

absl::StatusOr<TensorShape> ShapeFromTensor(const Tensor& t) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(t));
  return TensorShape(absl::Span<const int64_t>(dims));
}

// Reshape target with one -1 resolved from the element count.
absl::StatusOr<TensorShape> ResolveReshape(const TensorShape& in, bool in_known,
                                           std::vector<int64_t> dims) {
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (unknown >= 0) return absl::InvalidArgumentError("only one input size may be -1");
      unknown = static_cast<int>(i);
    } else {
      known *= dims[i];
    }
  }
  if (in_known && in.IsFullyDefined()) {
    const int64_t n = in.num_elements();
    if (unknown >= 0) {
      if (known == 0 || n % known != 0) {
        return absl::InvalidArgumentError(absl::StrCat("Input to reshape is a tensor with ", n,
                                                       " values, which cannot be reshaped"));
      }
      dims[unknown] = n / known;
    } else if (known != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Input to reshape is a tensor with ", n,
          " values, but the requested shape has ", known));
    }
  }
  return TensorShape(absl::Span<const int64_t>(dims));
}

Tensor ShapeTensor(const TensorShape& s) {
  std::vector<int32_t> v(s.dims().begin(), s.dims().end());
  return Tensor::FromVector<int32_t>(absl::Span<const int32_t>(v),
                                     TensorShape{static_cast<int64_t>(v.size())});
}

}  // namespace

void RegisterArrayOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops, {"Const", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(Tensor v, c->GetAttr<Tensor>("value"));
                     c->set_output(0, v.dtype(), v.shape());
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Const", [](OpKernelContext* ctx) {
    ctx->set_output(0, *ctx->node().attr<Tensor>("value"));
    return absl::OkStatus();
  }, {}, /*inexpensive=*/true);

  RegisterOp(ops, {"Placeholder", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(DType dt, c->GetAttr<DType>("dtype"));
                     if (const TensorShape* s = c->attr<TensorShape>("shape")) {
                       c->set_output(0, dt, *s);
                     } else {
                       c->set_unknown_output(0, dt);
                     }
                     return absl::OkStatus();
                   }});
  // Never runs: the session refuses a plan with an unfed placeholder.
  RegisterCpuKernel(kernels, "Placeholder", [](OpKernelContext* ctx) {
    return absl::InvalidArgumentError(
        absl::StrCat("You must feed a value for placeholder tensor '", ctx->node().name(), "'"));
  }, {}, true);

  RegisterOp(ops, {"PlaceholderWithDefault", [](InferenceContext* c) {
                     const TensorShape* s = c->attr<TensorShape>("shape");
                     if (s != nullptr && c->input_rank_known(0) &&
                         !c->input_shape(0).IsCompatibleWith(*s)) {
                       return c->Error(absl::StrCat("default value shape ",
                                                    c->input_shape(0).DebugString(),
                                                    " is not compatible with ", s->DebugString()));
                     }
                     c->set_output(0, c->input_dtype(0), s ? *s : c->input_shape(0),
                                   s ? true : c->input_rank_known(0));
                     return absl::OkStatus();
                   }});
  auto identity = [](OpKernelContext* ctx) {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  };
  RegisterCpuKernel(kernels, "PlaceholderWithDefault", identity, {}, true);
  RegisterOp(ops, {"Identity", shape_fns::UnchangedShape});
  RegisterCpuKernel(kernels, "Identity", identity, {}, true);
  RegisterOp(ops, {"StopGradient", shape_fns::UnchangedShape});
  RegisterCpuKernel(kernels, "StopGradient", identity, {}, true);
  RegisterOp(ops, {"NoOp", shape_fns::NoOutputs});
  RegisterCpuKernel(kernels, "NoOp", [](OpKernelContext*) { return absl::OkStatus(); }, {}, true);

  RegisterOp(ops, {"Reshape", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     const Tensor* shape = c->input_constant(1);
                     if (shape == nullptr) {
                       if (c->input_rank_known(1) && c->input_shape(1).rank() == 1 &&
                           c->input_shape(1).dim(0) >= 0) {
                         TensorShape s;
                         for (int64_t i = 0; i < c->input_shape(1).dim(0); ++i) s.AddDim(-1);
                         c->set_output(0, c->input_dtype(0), s);
                       } else {
                         c->set_unknown_output(0, c->input_dtype(0));
                       }
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(*shape));
                     SLUICE_ASSIGN_OR_RETURN(
                         TensorShape s, ResolveReshape(c->input_shape(0), c->input_rank_known(0),
                                                       std::move(dims)));
                     c->set_output(0, c->input_dtype(0), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Reshape", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(ctx->input(1)));
    SLUICE_ASSIGN_OR_RETURN(TensorShape s,
                            ResolveReshape(ctx->input(0).shape(), true, std::move(dims)));
    ctx->set_output(0, ctx->input(0).Reshaped(s));
    return absl::OkStatus();
  }, {}, true);

  RegisterOp(ops, {"Shape", [](InferenceContext* c) {
                     c->set_output(0, DType::kInt32,
                                   TensorShape{c->input_rank_known(0) ? c->input_shape(0).rank()
                                                                      : int64_t{-1}});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Shape", [](OpKernelContext* ctx) {
    ctx->set_output(0, ShapeTensor(ctx->input(0).shape()));
    return absl::OkStatus();
  }, {}, true);

  RegisterOp(ops, {"Fill", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     if (const Tensor* d = c->input_constant(0)) {
                       SLUICE_ASSIGN_OR_RETURN(TensorShape s, ShapeFromTensor(*d));
                       c->set_output(0, c->input_dtype(1), s);
                     } else {
                       c->set_unknown_output(0, c->input_dtype(1));
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Fill", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(TensorShape s, ShapeFromTensor(ctx->input(0)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Fill(s, ctx->input(1), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  for (const char* name : {"ZerosLike", "OnesLike"}) {
    RegisterOp(ops, {name, shape_fns::UnchangedShape});
    const bool ones = std::string_view(name) == "OnesLike";
    RegisterCpuKernel(kernels, name, [ones](OpKernelContext* ctx) {
      const Tensor& x = ctx->input(0);
      if (!ones) {
        ctx->set_output(0, Tensor::Zeros(x.dtype(), x.shape()));
        return absl::OkStatus();
      }
      Tensor one, out;
      SLUICE_RETURN_IF_ERROR(sluice::Cast(Tensor::Scalar<int32_t>(1), x.dtype(), &one));
      SLUICE_RETURN_IF_ERROR(sluice::Fill(x.shape(), one, &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
  }

  RegisterOp(ops, {"ConcatV2", [](InferenceContext* c) {
                     const int n = c->num_inputs() - 1;
                     if (n < 1) return c->Error("ConcatV2 needs at least one value");
                     for (int i = 1; i < n; ++i) SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, i));
                     const Tensor* axis_t = c->input_constant(n);
                     bool known = true;
                     for (int i = 0; i < n; ++i) known = known && c->input_rank_known(i);
                     if (axis_t == nullptr || !known) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axis, IntValues(*axis_t));
                     const int r = c->input_shape(0).rank();
                     int64_t ax = axis.empty() ? 0 : axis[0];
                     if (ax < 0) ax += r;
                     if (ax < 0 || ax >= r) return c->Error("concat axis out of range");
                     TensorShape s = c->input_shape(0);
                     int64_t total = 0;
                     for (int i = 0; i < n; ++i) {
                       const TensorShape& si = c->input_shape(i);
                       if (si.rank() != r) return c->Error("concat inputs differ in rank");
                       if (total >= 0) total = si.dim(ax) < 0 ? -1 : total + si.dim(ax);
                       for (int d = 0; d < r; ++d) {
                         if (d == ax) continue;
                         if (s.dim(d) < 0) s.set_dim(d, si.dim(d));
                         else if (si.dim(d) >= 0 && si.dim(d) != s.dim(d)) {
                           return c->Error(absl::StrCat("Dimension ", d,
                                                        " in both shapes must be equal: ",
                                                        s.DebugString(), " vs ", si.DebugString()));
                         }
                       }
                     }
                     s.set_dim(ax, total);
                     c->set_output(0, c->input_dtype(0), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "ConcatV2", [](OpKernelContext* ctx) {
    const int n = ctx->num_inputs() - 1;
    std::vector<Tensor> in(n);
    for (int i = 0; i < n; ++i) in[i] = ctx->input(i);
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axis, IntValues(ctx->input(n)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Concat(in, axis.empty() ? 0 : axis[0], &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Split", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(int64_t k, c->GetAttr<int64_t>("num_split"));
                     const Tensor* axis_t = c->input_constant(0);
                     TensorShape s = c->input_shape(1);
                     bool known = c->input_rank_known(1) && axis_t != nullptr;
                     if (known) {
                       SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axis, IntValues(*axis_t));
                       int64_t ax = axis.empty() ? 0 : axis[0];
                       if (ax < 0) ax += s.rank();
                       if (ax < 0 || ax >= s.rank()) return c->Error("split axis out of range");
                       if (s.dim(ax) >= 0) {
                         if (s.dim(ax) % k != 0) return c->Error("split dimension not divisible");
                         s.set_dim(ax, s.dim(ax) / k);
                       }
                     }
                     for (int64_t i = 0; i < k; ++i) {
                       if (known) c->set_output(i, c->input_dtype(1), s);
                       else c->set_unknown_output(i, c->input_dtype(1));
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Split", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axis, IntValues(ctx->input(0)));
    SLUICE_ASSIGN_OR_RETURN(int64_t k, ctx->GetAttr<int64_t>("num_split"));
    std::vector<Tensor> parts;
    SLUICE_RETURN_IF_ERROR(sluice::Split(ctx->input(1), axis.empty() ? 0 : axis[0], k, &parts));
    for (size_t i = 0; i < parts.size(); ++i) ctx->set_output(i, parts[i]);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Slice", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                     const Tensor* size = c->input_constant(2);
                     if (size == nullptr || !c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> sz, IntValues(*size));
                     const Tensor* begin = c->input_constant(1);
                     TensorShape s;
                     for (size_t d = 0; d < sz.size(); ++d) {
                       int64_t v = sz[d];
                       if (v == -1) {
                         v = -1;
                         if (begin != nullptr && d < static_cast<size_t>(c->input_shape(0).rank()) &&
                             c->input_shape(0).dim(d) >= 0) {
                           auto b = IntValues(*begin);
                           if (b.ok() && d < b->size()) v = c->input_shape(0).dim(d) - (*b)[d];
                         }
                       }
                       s.AddDim(v);
                     }
                     c->set_output(0, c->input_dtype(0), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Slice", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(ctx->input(1)));
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> size, IntValues(ctx->input(2)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Slice(ctx->input(0), begin, size, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"StridedSlice", [](InferenceContext* c) {
                     if (!c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(TensorShape s,
                                             StridedSliceShape(c->input_shape(0), StridedSliceSpecOf(c->attrs())));
                     c->set_output(0, c->input_dtype(0), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "StridedSlice", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::StridedSlice(ctx->input(0), StridedSliceSpecOf(ctx->node().attrs()), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"OneHot", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(4));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(2, 3));
                     if (!c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(2));
                       return absl::OkStatus();
                     }
                     TensorShape s = c->input_shape(0);
                     const Tensor* depth = c->input_constant(1);
                     int64_t d = -1;
                     if (depth != nullptr) {
                       SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(*depth));
                       if (!v.empty()) d = v[0];
                     }
                     s.AddDim(d);
                     c->set_output(0, c->input_dtype(2), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "OneHot", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> depth, IntValues(ctx->input(1)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::OneHot(ctx->input(0), depth.empty() ? 0 : depth[0],
                                          ctx->input(2), ctx->input(3), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Transpose", [](InferenceContext* c) {
                     const Tensor* perm = c->input_constant(1);
                     if (perm == nullptr || !c->input_rank_known(0)) {
                       c->set_unknown_output(0, c->input_dtype(0));
                       return absl::OkStatus();
                     }
                     SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> p, IntValues(*perm));
                     if (static_cast<int>(p.size()) != c->input_shape(0).rank()) {
                       return c->Error("perm must have one entry per dimension");
                     }
                     TensorShape s;
                     for (int64_t d : p) {
                       if (d < 0 || d >= c->input_shape(0).rank()) return c->Error("bad perm");
                       s.AddDim(c->input_shape(0).dim(d));
                     }
                     c->set_output(0, c->input_dtype(0), s);
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Transpose", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> p, IntValues(ctx->input(1)));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Transpose(ctx->input(0), p, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Cast", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(DType to, c->GetAttr<DType>("DstT"));
                     c->set_output(0, to, c->input_shape(0), c->input_rank_known(0));
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Cast", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(DType to, ctx->GetAttr<DType>("DstT"));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Cast(ctx->input(0), to, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
}

}  // namespace internal
}  // namespace sluice
