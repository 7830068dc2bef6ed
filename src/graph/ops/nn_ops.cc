#include "graph/ops/nn_ops.h"

#include "absl/strings/str_cat.h"
#include "graph/internal/op_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/random_ops.h"
#include "kernels/nn_ops.h"

namespace sluice {
namespace ops {

using internal::BuildOp;

namespace {
Output UnaryT(const Scope& scope, const char* op, const Input& x) {
  Output a = x.ToOutput(scope);
  if (!a.valid()) return Output();
  return BuildOp(scope, op, op, {a}, {{"T", a.dtype()}});
}

XentOutputs Xent(const Scope& scope, const char* op, const char* name, const Input& labels,
                 const Input& logits) {
  Output lg = logits.ToOutput(scope);
  if (!lg.valid()) return {};
  Output lb = labels.ToOutput(scope, lg.dtype());
  Node* n = scope.AddNode(op, name, {lg, lb}, {{"T", lg.dtype()}});
  if (n == nullptr) return {};
  return {Output(n, 0), Output(n, 1)};
}

AttrMap ConvAttrs(const std::vector<int64_t>& strides, const std::string& padding) {
  return {{"strides", strides}, {"padding", padding}};
}
}  // namespace

Output Relu(const Scope& s, const Input& x) { return UnaryT(s, "Relu", x); }
Output Sigmoid(const Scope& s, const Input& x) { return UnaryT(s, "Sigmoid", x); }
Output Tanh(const Scope& s, const Input& x) { return UnaryT(s, "Tanh", x); }
Output Softmax(const Scope& s, const Input& x) { return UnaryT(s, "Softmax", x); }
Output LogSoftmax(const Scope& s, const Input& x) { return UnaryT(s, "LogSoftmax", x); }

XentOutputs SoftmaxCrossEntropyWithLogits(const Scope& scope, const Input& labels,
                                          const Input& logits) {
  return Xent(scope, "SoftmaxCrossEntropyWithLogits", "softmax_cross_entropy_with_logits",
              labels, logits);
}

XentOutputs SparseSoftmaxCrossEntropyWithLogits(const Scope& scope, const Input& labels,
                                                const Input& logits) {
  Output lg = logits.ToOutput(scope);
  if (!lg.valid()) return {};
  Output lb = labels.ToOutput(scope);
  Node* n = scope.AddNode("SparseSoftmaxCrossEntropyWithLogits",
                          "SparseSoftmaxCrossEntropyWithLogits", {lg, lb}, {{"T", lg.dtype()}});
  if (n == nullptr) return {};
  return {Output(n, 0), Output(n, 1)};
}

Output SigmoidCrossEntropyWithLogits(const Scope& scope, const Input& labels, const Input& logits) {
  Scope s = scope.NewSubScope("logistic_loss");
  Output x = logits.ToOutput(s);
  if (!x.valid()) return Output();
  Output z = labels.ToOutput(s, x.dtype());
  Output relu = Maximum(s, x, 0.0f);
  Output xz = Mul(s, x, z);
  Output log1p = Log(s, Add(s, Exp(s, Neg(s, Abs(s, x))), 1.0f));
  return Add(s, Sub(s, relu, xz), log1p);
}

Output WeightedCrossEntropyWithLogits(const Scope& scope, const Input& labels, const Input& logits,
                                      double pos_weight) {
  Scope s = scope.NewSubScope("logistic_loss");
  Output x = logits.ToOutput(s);
  if (!x.valid()) return Output();
  Output z = labels.ToOutput(s, x.dtype());
  Output q = Cast(s, Tensor::Scalar<double>(pos_weight), x.dtype());
  Output log_weight = Add(s, Mul(s, Sub(s, q, 1.0f), z), 1.0f);
  Output softplus = Add(s, Log(s, Add(s, Exp(s, Neg(s, Abs(s, x))), 1.0f)),
                        Maximum(s, Neg(s, x), 0.0f));
  return Add(s, Mul(s, Sub(s, 1.0f, z), x), Mul(s, log_weight, softplus));
}

Output Dropout(const Scope& scope, const Input& x, const Input& keep_prob, int64_t seed) {
  Scope s = scope.NewSubScope("dropout");
  Output in = x.ToOutput(s);
  if (!in.valid()) return Output();
  Output kp = keep_prob.ToOutput(s, in.dtype());
  Output u = RandomUniform(s, Shape(s, in), 0.0, 1.0, {in.dtype(), seed});
  Output mask = Floor(s, Add(s, kp, u));
  return Mul(s, Div(s, in, kp), mask);
}

Output BiasAdd(const Scope& scope, const Input& value, const Input& bias) {
  auto [v, b] = internal::BinaryOperands(scope, value, bias);
  if (!v.valid() || !b.valid()) return Output();
  return BuildOp(scope, "BiasAdd", "BiasAdd", {v, b}, {{"T", v.dtype()}});
}

Output BiasAddGrad(const Scope& scope, const Input& out_backprop) {
  return UnaryT(scope, "BiasAddGrad", out_backprop);
}

Output Conv2D(const Scope& scope, const Input& input, const Input& filter,
              const std::vector<int64_t>& strides, const std::string& padding) {
  auto [i, f] = internal::BinaryOperands(scope, input, filter);
  if (!i.valid() || !f.valid()) return Output();
  AttrMap a = ConvAttrs(strides, padding);
  a["T"] = i.dtype();
  return BuildOp(scope, "Conv2D", "Conv2D", {i, f}, std::move(a));
}

Output Conv2DBackpropInput(const Scope& scope, const Input& input_sizes, const Input& filter,
                           const Input& out_backprop, const std::vector<int64_t>& strides,
                           const std::string& padding) {
  Output f = filter.ToOutput(scope);
  if (!f.valid()) return Output();
  AttrMap a = ConvAttrs(strides, padding);
  a["T"] = f.dtype();
  return BuildOp(scope, "Conv2DBackpropInput", "Conv2DBackpropInput",
                 {input_sizes.ToOutput(scope), f, out_backprop.ToOutput(scope, f.dtype())},
                 std::move(a));
}

Output Conv2DBackpropFilter(const Scope& scope, const Input& input, const Input& filter_sizes,
                            const Input& out_backprop, const std::vector<int64_t>& strides,
                            const std::string& padding) {
  Output i = input.ToOutput(scope);
  if (!i.valid()) return Output();
  AttrMap a = ConvAttrs(strides, padding);
  a["T"] = i.dtype();
  return BuildOp(scope, "Conv2DBackpropFilter", "Conv2DBackpropFilter",
                 {i, filter_sizes.ToOutput(scope), out_backprop.ToOutput(scope, i.dtype())},
                 std::move(a));
}

Output MaxPool(const Scope& scope, const Input& input, const std::vector<int64_t>& ksize,
               const std::vector<int64_t>& strides, const std::string& padding) {
  Output i = input.ToOutput(scope);
  if (!i.valid()) return Output();
  AttrMap a = ConvAttrs(strides, padding);
  a["ksize"] = ksize;
  a["T"] = i.dtype();
  return BuildOp(scope, "MaxPool", "MaxPool", {i}, std::move(a));
}

Output MaxPoolGrad(const Scope& scope, const Input& orig_input, const Input& orig_output,
                   const Input& grad, const std::vector<int64_t>& ksize,
                   const std::vector<int64_t>& strides, const std::string& padding) {
  Output i = orig_input.ToOutput(scope);
  if (!i.valid()) return Output();
  AttrMap a = ConvAttrs(strides, padding);
  a["ksize"] = ksize;
  a["T"] = i.dtype();
  return BuildOp(scope, "MaxPoolGrad", "MaxPoolGrad",
                 {i, orig_output.ToOutput(scope), grad.ToOutput(scope, i.dtype())}, std::move(a));
}

}  // namespace ops

namespace internal {
namespace {

struct ConvParams {
  int64_t sh, sw, kh = 1, kw = 1;
  Padding padding;
};

template <typename AttrSource>
absl::StatusOr<ConvParams> GetConvParams(const AttrSource& src, bool pool) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> strides, src.template GetAttr<std::vector<int64_t>>("strides"));
  SLUICE_ASSIGN_OR_RETURN(std::string padding, src.template GetAttr<std::string>("padding"));
  if (strides.size() != 4 || strides[0] != 1 || strides[3] != 1) {
    return absl::InvalidArgumentError("strides must be [1, sh, sw, 1] (NHWC)");
  }
  ConvParams p;
  p.sh = strides[1];
  p.sw = strides[2];
  SLUICE_ASSIGN_OR_RETURN(p.padding, ParsePadding(padding));
  if (pool) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ksize, src.template GetAttr<std::vector<int64_t>>("ksize"));
    if (ksize.size() != 4 || ksize[0] != 1 || ksize[3] != 1) {
      return absl::InvalidArgumentError("ksize must be [1, kh, kw, 1] (NHWC)");
    }
    p.kh = ksize[1];
    p.kw = ksize[2];
  }
  return p;
}

int64_t OutDim(int64_t in, int64_t k, int64_t stride, Padding p) {
  if (in < 0 || k < 0) return -1;
  int64_t out, pad;
  ConvOutputSize(in, k, stride, p, &out, &pad);
  return out;
}

}  // namespace

void RegisterNnOps(OpRegistry* ops, KernelRegistry* kernels) {
  const std::vector<DType> floats = {DType::kFloat32, DType::kFloat64};
  for (const char* name : {"Softmax", "LogSoftmax"}) {
    RegisterOp(ops, {name, shape_fns::UnchangedShape});
    const bool log = std::string_view(name) == "LogSoftmax";
    RegisterCpuKernel(kernels, name, [log](OpKernelContext* ctx) {
      Tensor out;
      SLUICE_RETURN_IF_ERROR(log ? LogSoftmax(ctx->input(0), &out) : Softmax(ctx->input(0), &out));
      ctx->set_output(0, out);
      return absl::OkStatus();
    }, floats);
  }
  for (const char* name : {"SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits"}) {
    const bool sparse = std::string_view(name) != "SoftmaxCrossEntropyWithLogits";
    RegisterOp(ops, {name, [sparse](InferenceContext* c) {
                       SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                       if (!sparse) SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
                       const TensorShape& s = c->input_shape(0);
                       if (c->input_rank_known(0) && s.rank() != 2) {
                         return c->Error("logits must be 2-dimensional");
                       }
                       const int64_t b = c->input_rank_known(0) ? s.dim(0) : -1;
                       c->set_output(0, c->input_dtype(0), TensorShape{b});
                       c->set_output(1, c->input_dtype(0),
                                     c->input_rank_known(0) ? s : TensorShape{-1, -1});
                       return absl::OkStatus();
                     }});
    RegisterCpuKernel(kernels, name, [sparse](OpKernelContext* ctx) {
      Tensor loss, backprop;
      SLUICE_RETURN_IF_ERROR(
          sparse ? SparseSoftmaxCrossEntropyWithLogits(ctx->input(0), ctx->input(1), &loss, &backprop)
                 : SoftmaxCrossEntropyWithLogits(ctx->input(0), ctx->input(1), &loss, &backprop));
      ctx->set_output(0, loss);
      ctx->set_output(1, backprop);
      return absl::OkStatus();
    }, floats);
  }

  RegisterOp(ops, {"BiasAdd", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
                     return shape_fns::UnchangedShape(c);
                   }});
  RegisterCpuKernel(kernels, "BiasAdd", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::BiasAdd(ctx->input(0), ctx->input(1), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
  RegisterOp(ops, {"BiasAddGrad", [](InferenceContext* c) {
                     const TensorShape& s = c->input_shape(0);
                     c->set_output(0, c->input_dtype(0),
                                   TensorShape{c->input_rank_known(0) && s.rank() > 0
                                                   ? s.dim(s.rank() - 1)
                                                   : int64_t{-1}});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "BiasAddGrad", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::BiasAddGrad(ctx->input(0), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Conv2D", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
                     SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(*c, false));
                     if (!c->input_rank_known(0) || !c->input_rank_known(1)) {
                       c->set_output(0, c->input_dtype(0), TensorShape{-1, -1, -1, -1});
                       return absl::OkStatus();
                     }
                     const TensorShape& in = c->input_shape(0);
                     const TensorShape& f = c->input_shape(1);
                     if (in.rank() != 4 || f.rank() != 4) return c->Error("Conv2D needs rank-4 input and filter");
                     if (in.dim(3) >= 0 && f.dim(2) >= 0 && in.dim(3) != f.dim(2)) {
                       return c->Error("input depth must equal filter in_depth");
                     }
                     c->set_output(0, c->input_dtype(0),
                                   TensorShape{in.dim(0), OutDim(in.dim(1), f.dim(0), p.sh, p.padding),
                                               OutDim(in.dim(2), f.dim(1), p.sw, p.padding), f.dim(3)});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Conv2D", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx->node(), false));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Conv2D(ctx->input(0), ctx->input(1), p.sh, p.sw, p.padding, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  }, floats);

  // Backprop ops take a shape tensor (input_sizes / filter_sizes).
  for (const char* name : {"Conv2DBackpropInput", "Conv2DBackpropFilter"}) {
    const bool wrt_input = std::string_view(name) == "Conv2DBackpropInput";
    const int shape_input = wrt_input ? 0 : 1;
    RegisterOp(ops, {name, [shape_input](InferenceContext* c) {
                       SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                       const DType dt = c->input_dtype(shape_input == 0 ? 1 : 0);
                       if (const Tensor* s = c->input_constant(shape_input)) {
                         SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(*s));
                         c->set_output(0, dt, TensorShape(absl::Span<const int64_t>(dims)));
                       } else {
                         c->set_output(0, dt, TensorShape{-1, -1, -1, -1});
                       }
                       return absl::OkStatus();
                     }});
    RegisterCpuKernel(kernels, name, [wrt_input](OpKernelContext* ctx) {
      SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx->node(), false));
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                              IntValues(ctx->input(wrt_input ? 0 : 1)));
      const TensorShape shape{absl::Span<const int64_t>(dims)};
      Tensor out;
      if (wrt_input) {
        SLUICE_RETURN_IF_ERROR(sluice::Conv2DBackpropInput(shape, ctx->input(1), ctx->input(2),
                                                           p.sh, p.sw, p.padding, &out));
      } else {
        SLUICE_RETURN_IF_ERROR(sluice::Conv2DBackpropFilter(ctx->input(0), shape, ctx->input(2),
                                                            p.sh, p.sw, p.padding, &out));
      }
      ctx->set_output(0, out);
      return absl::OkStatus();
    }, floats);
  }

  RegisterOp(ops, {"MaxPool", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(*c, true));
                     if (!c->input_rank_known(0)) {
                       c->set_output(0, c->input_dtype(0), TensorShape{-1, -1, -1, -1});
                       return absl::OkStatus();
                     }
                     const TensorShape& in = c->input_shape(0);
                     if (in.rank() != 4) return c->Error("MaxPool needs a rank-4 input");
                     c->set_output(0, c->input_dtype(0),
                                   TensorShape{in.dim(0), OutDim(in.dim(1), p.kh, p.sh, p.padding),
                                               OutDim(in.dim(2), p.kw, p.sw, p.padding), in.dim(3)});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "MaxPool", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx->node(), true));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::MaxPool(ctx->input(0), p.kh, p.kw, p.sh, p.sw, p.padding, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  }, floats);
  RegisterOp(ops, {"MaxPoolGrad", shape_fns::UnchangedShape});
  RegisterCpuKernel(kernels, "MaxPoolGrad", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(ConvParams p, GetConvParams(ctx->node(), true));
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::MaxPoolGrad(ctx->input(0), ctx->input(2), p.kh, p.kw, p.sh,
                                               p.sw, p.padding, &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  }, floats);
}

}  // namespace internal
}  // namespace sluice
