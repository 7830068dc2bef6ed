#include "graph/ops/math_ops.h"

#include "absl/strings/str_cat.h"
#include "graph/internal/op_util.h"
#include "kernels/cwise_ops.h"
#include "kernels/matmul_op.h"
#include "kernels/reduction_ops.h"

namespace sluice {
namespace ops {
namespace {

Output Binary(const Scope& scope, const char* op, const char* name, const Input& x,
              const Input& y) {
  auto [a, b] = internal::BinaryOperands(scope, x, y);
  if (!a.valid() || !b.valid()) return Output();
  return internal::BuildOp(scope, op, name, {a, b}, {{"T", a.dtype()}});
}

Output Unary(const Scope& scope, const char* op, const Input& x) {
  Output a = x.ToOutput(scope);
  if (!a.valid()) return Output();
  return internal::BuildOp(scope, op, op, {a}, {{"T", a.dtype()}});
}

Output Reduce(const Scope& scope, const char* op, const Input& x,
              const std::optional<std::vector<int64_t>>& axes, ReduceOptions options) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  std::vector<int32_t> ax;
  if (axes.has_value()) {
    ax.assign(axes->begin(), axes->end());
  } else if (in.rank_known()) {
    for (int i = 0; i < in.shape().rank(); ++i) ax.push_back(i);
  }
  AttrMap attrs{{"T", in.dtype()}, {"keep_dims", options.keep_dims}};
  // Axis None on an unknown-rank input: the kernel reduces every axis.
  if (!axes.has_value() && !in.rank_known()) attrs["reduce_all"] = true;
  Output axes_t = Input(Tensor::FromVector<int32_t>(absl::Span<const int32_t>(ax),
                                                    TensorShape{static_cast<int64_t>(ax.size())}))
                      .ToOutput(scope.WithOpName("Const"));
  return internal::BuildOp(scope, op, op, {in, axes_t}, std::move(attrs));
}

}  // namespace

Output Add(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Add", "Add", x, y); }
Output Sub(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Sub", "Sub", x, y); }
Output Mul(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Mul", "Mul", x, y); }
Output Div(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "RealDiv", "truediv", x, y);
}
Output Pow(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Pow", "Pow", x, y); }
Output Maximum(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "Maximum", "Maximum", x, y);
}
Output Minimum(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "Minimum", "Minimum", x, y);
}
Output SquaredDifference(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "SquaredDifference", "SquaredDifference", x, y);
}
Output Equal(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Equal", "Equal", x, y); }
Output NotEqual(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "NotEqual", "NotEqual", x, y);
}
Output Less(const Scope& s, const Input& x, const Input& y) { return Binary(s, "Less", "Less", x, y); }
Output LessEqual(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "LessEqual", "LessEqual", x, y);
}
Output Greater(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "Greater", "Greater", x, y);
}
Output GreaterEqual(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "GreaterEqual", "GreaterEqual", x, y);
}
Output LogicalAnd(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "LogicalAnd", "LogicalAnd", x, y);
}
Output LogicalOr(const Scope& s, const Input& x, const Input& y) {
  return Binary(s, "LogicalOr", "LogicalOr", x, y);
}
Output ReluGrad(const Scope& s, const Input& g, const Input& f) {
  return Binary(s, "ReluGrad", "ReluGrad", g, f);
}
Output SigmoidGrad(const Scope& s, const Input& y, const Input& dy) {
  return Binary(s, "SigmoidGrad", "SigmoidGrad", y, dy);
}
Output TanhGrad(const Scope& s, const Input& y, const Input& dy) {
  return Binary(s, "TanhGrad", "TanhGrad", y, dy);
}

Output Neg(const Scope& s, const Input& x) { return Unary(s, "Neg", x); }
Output Exp(const Scope& s, const Input& x) { return Unary(s, "Exp", x); }
Output Log(const Scope& s, const Input& x) { return Unary(s, "Log", x); }
Output Sqrt(const Scope& s, const Input& x) { return Unary(s, "Sqrt", x); }
Output Rsqrt(const Scope& s, const Input& x) { return Unary(s, "Rsqrt", x); }
Output Square(const Scope& s, const Input& x) { return Unary(s, "Square", x); }
Output Abs(const Scope& s, const Input& x) { return Unary(s, "Abs", x); }
Output Sign(const Scope& s, const Input& x) { return Unary(s, "Sign", x); }
Output Reciprocal(const Scope& s, const Input& x) { return Unary(s, "Reciprocal", x); }
Output Floor(const Scope& s, const Input& x) { return Unary(s, "Floor", x); }
Output Ceil(const Scope& s, const Input& x) { return Unary(s, "Ceil", x); }
Output LogicalNot(const Scope& s, const Input& x) { return Unary(s, "LogicalNot", x); }

Output MatMul(const Scope& scope, const Input& a, const Input& b, MatMulOptions options) {
  auto [x, y] = internal::BinaryOperands(scope, a, b);
  if (!x.valid() || !y.valid()) return Output();
  return internal::BuildOp(scope, "MatMul", "MatMul", {x, y},
                           {{"T", x.dtype()},
                            {"transpose_a", options.transpose_a},
                            {"transpose_b", options.transpose_b}});
}

Output ReduceSum(const Scope& s, const Input& x, std::optional<std::vector<int64_t>> axes,
                 ReduceOptions o) {
  return Reduce(s, "Sum", x, axes, o);
}
Output ReduceMean(const Scope& s, const Input& x, std::optional<std::vector<int64_t>> axes,
                  ReduceOptions o) {
  return Reduce(s, "Mean", x, axes, o);
}
Output ReduceMax(const Scope& s, const Input& x, std::optional<std::vector<int64_t>> axes,
                 ReduceOptions o) {
  return Reduce(s, "Max", x, axes, o);
}
Output ReduceMin(const Scope& s, const Input& x, std::optional<std::vector<int64_t>> axes,
                 ReduceOptions o) {
  return Reduce(s, "Min", x, axes, o);
}
Output ReduceProd(const Scope& s, const Input& x, std::optional<std::vector<int64_t>> axes,
                  ReduceOptions o) {
  return Reduce(s, "Prod", x, axes, o);
}

Output ArgMax(const Scope& scope, const Input& x, int64_t axis) {
  Output in = x.ToOutput(scope);
  Output ax = Input(static_cast<int>(axis)).ToOutput(scope.WithOpName("Const"));
  return internal::BuildOp(scope, "ArgMax", "ArgMax", {in, ax});
}

Output ArgMin(const Scope& scope, const Input& x, int64_t axis) {
  Output in = x.ToOutput(scope);
  Output ax = Input(static_cast<int>(axis)).ToOutput(scope.WithOpName("Const"));
  return internal::BuildOp(scope, "ArgMin", "ArgMin", {in, ax});
}

Output AddN(const Scope& scope, const std::vector<Input>& inputs) {
  std::vector<Output> in = internal::ToOutputs(scope, inputs);
  for (const Output& o : in) {
    if (!o.valid()) return Output();
  }
  return internal::BuildOp(scope, "AddN", "AddN", std::move(in),
                           {{"N", static_cast<int64_t>(inputs.size())}});
}

}  // namespace ops

namespace internal {

void RegisterMathOps(OpRegistry* ops, KernelRegistry* kernels) {
  const std::vector<DType> numeric = {DType::kFloat32, DType::kFloat64, DType::kInt32,
                                      DType::kInt64, DType::kUInt8};
  struct B {
    const char* name;
    BinaryOp op;
  };
  for (B b : {B{"Add", BinaryOp::kAdd}, B{"Sub", BinaryOp::kSub}, B{"Mul", BinaryOp::kMul},
              B{"RealDiv", BinaryOp::kDiv}, B{"Pow", BinaryOp::kPow},
              B{"Maximum", BinaryOp::kMaximum}, B{"Minimum", BinaryOp::kMinimum},
              B{"SquaredDifference", BinaryOp::kSquaredDifference},
              B{"Equal", BinaryOp::kEqual}, B{"NotEqual", BinaryOp::kNotEqual},
              B{"Less", BinaryOp::kLess}, B{"LessEqual", BinaryOp::kLessEqual},
              B{"Greater", BinaryOp::kGreater}, B{"GreaterEqual", BinaryOp::kGreaterEqual},
              B{"LogicalAnd", BinaryOp::kLogicalAnd}, B{"LogicalOr", BinaryOp::kLogicalOr},
              B{"ReluGrad", BinaryOp::kReluGrad}, B{"SigmoidGrad", BinaryOp::kSigmoidGrad},
              B{"TanhGrad", BinaryOp::kTanhGrad}}) {
    const bool boolean = IsComparison(b.op) || b.op == BinaryOp::kLogicalAnd ||
                         b.op == BinaryOp::kLogicalOr;
    RegisterOp(ops, {b.name, [boolean](InferenceContext* c) {
                       return shape_fns::BroadcastBinary(c, boolean);
                     }});
    RegisterCpuKernel(kernels, b.name, [op = b.op](OpKernelContext* ctx) {
      Tensor out;
      SLUICE_RETURN_IF_ERROR(BinaryCwise(op, ctx->input(0), ctx->input(1), &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
  }
  struct U {
    const char* name;
    UnaryOp op;
  };
  for (U u : {U{"Neg", UnaryOp::kNeg}, U{"Exp", UnaryOp::kExp}, U{"Log", UnaryOp::kLog},
              U{"Sqrt", UnaryOp::kSqrt}, U{"Rsqrt", UnaryOp::kRsqrt},
              U{"Square", UnaryOp::kSquare}, U{"Abs", UnaryOp::kAbs}, U{"Sign", UnaryOp::kSign},
              U{"Reciprocal", UnaryOp::kReciprocal}, U{"Floor", UnaryOp::kFloor},
              U{"Ceil", UnaryOp::kCeil}, U{"LogicalNot", UnaryOp::kLogicalNot},
              U{"Relu", UnaryOp::kRelu}, U{"Sigmoid", UnaryOp::kSigmoid},
              U{"Tanh", UnaryOp::kTanh}}) {
    RegisterOp(ops, {u.name, shape_fns::UnchangedShape});
    RegisterCpuKernel(kernels, u.name, [op = u.op](OpKernelContext* ctx) {
      Tensor out;
      SLUICE_RETURN_IF_ERROR(UnaryCwise(op, ctx->input(0), &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
  }

  RegisterOp(ops, {"MatMul", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
                     const bool ta = c->attr<bool>("transpose_a") && *c->attr<bool>("transpose_a");
                     const bool tb = c->attr<bool>("transpose_b") && *c->attr<bool>("transpose_b");
                     if (!c->input_rank_known(0) || !c->input_rank_known(1)) {
                       c->set_output(0, c->input_dtype(0), TensorShape{-1, -1});
                       return absl::OkStatus();
                     }
                     const TensorShape& a = c->input_shape(0);
                     const TensorShape& b = c->input_shape(1);
                     if (a.rank() != 2 || b.rank() != 2) {
                       return c->Error(absl::StrCat("Shape must be rank 2 but is rank ",
                                                    a.rank() != 2 ? a.rank() : b.rank()));
                     }
                     const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
                     const int64_t k2 = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
                     if (k >= 0 && k2 >= 0 && k != k2) {
                       return c->Error(absl::StrCat("Dimensions must be equal, but are ", k,
                                                    " and ", k2, " with input shapes: ",
                                                    a.DebugString(), ", ", b.DebugString()));
                     }
                     c->set_output(0, c->input_dtype(0), TensorShape{m, n});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "MatMul", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(bool ta, ctx->GetAttr<bool>("transpose_a"));
    SLUICE_ASSIGN_OR_RETURN(bool tb, ctx->GetAttr<bool>("transpose_b"));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::MatMul(ctx->input(0), ctx->input(1), ta, tb, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  }, numeric);

  struct R {
    const char* name;
    ReduceOp op;
  };
  for (R r : {R{"Sum", ReduceOp::kSum}, R{"Mean", ReduceOp::kMean}, R{"Max", ReduceOp::kMax},
              R{"Min", ReduceOp::kMin}, R{"Prod", ReduceOp::kProd}}) {
    RegisterOp(ops, {r.name, [](InferenceContext* c) {
                       SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                       const bool keep = c->attr<bool>("keep_dims") && *c->attr<bool>("keep_dims");
                       const Tensor* axes = c->input_constant(1);
                       if (!c->input_rank_known(0) || axes == nullptr) {
                         c->set_unknown_output(0, c->input_dtype(0));
                         return absl::OkStatus();
                       }
                       SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ax, IntValues(*axes));
                       SLUICE_ASSIGN_OR_RETURN(TensorShape s,
                                               ReducedShape(c->input_shape(0), ax, keep));
                       c->set_output(0, c->input_dtype(0), s);
                       return absl::OkStatus();
                     }});
    RegisterCpuKernel(kernels, r.name, [op = r.op](OpKernelContext* ctx) {
      const bool keep = ctx->node().attr<bool>("keep_dims") && *ctx->node().attr<bool>("keep_dims");
      std::vector<int64_t> ax;
      if (ctx->node().attr<bool>("reduce_all")) {
        for (int i = 0; i < ctx->input(0).rank(); ++i) ax.push_back(i);
      } else {
        SLUICE_ASSIGN_OR_RETURN(ax, IntValues(ctx->input(1)));
      }
      Tensor out;
      SLUICE_RETURN_IF_ERROR(sluice::Reduce(op, ctx->input(0), ax, keep, &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
  }

  for (const char* name : {"ArgMax", "ArgMin"}) {
    RegisterOp(ops, {name, [](InferenceContext* c) {
                       SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                       const Tensor* axis = c->input_constant(1);
                       if (!c->input_rank_known(0) || axis == nullptr) {
                         c->set_unknown_output(0, DType::kInt64);
                         return absl::OkStatus();
                       }
                       SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ax, IntValues(*axis));
                       SLUICE_ASSIGN_OR_RETURN(TensorShape s,
                                               ReducedShape(c->input_shape(0), ax, false));
                       c->set_output(0, DType::kInt64, s);
                       return absl::OkStatus();
                     }});
    const bool is_max = std::string_view(name) == "ArgMax";
    RegisterCpuKernel(kernels, name, [is_max](OpKernelContext* ctx) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ax, IntValues(ctx->input(1)));
      if (ax.size() != 1) return absl::InvalidArgumentError("ArgMax: dimension must be a scalar");
      Tensor out;
      SLUICE_RETURN_IF_ERROR(is_max ? sluice::ArgMax(ctx->input(0), ax[0], &out)
                                    : sluice::ArgMin(ctx->input(0), ax[0], &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    }, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64, DType::kUInt8});
  }

  RegisterOp(ops, {"AddN", [](InferenceContext* c) {
                     if (c->num_inputs() < 1) return c->Error("AddN needs inputs");
                     for (int i = 1; i < c->num_inputs(); ++i) {
                       SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, i));
                     }
                     return shape_fns::UnchangedShape(c);
                   }});
  RegisterCpuKernel(kernels, "AddN", [](OpKernelContext* ctx) {
    std::vector<Tensor> in;
    for (int i = 0; i < ctx->num_inputs(); ++i) in.push_back(ctx->input(i));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::AddN(in, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
}

}  // namespace internal
}  // namespace sluice
