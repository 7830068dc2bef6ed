#include "train/optimizer_ops.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "graph/gradients/gradients.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/ops/ops.h"

namespace sluice {
namespace {

absl::Status UpdateShape(InferenceContext* c, int num_refs, int grad_input) {
  for (int i = 1; i < num_refs; ++i) SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, i));
  SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, grad_input));
  if (c->input_rank_known(0) && c->input_rank_known(grad_input) &&
      !c->input_shape(0).IsCompatibleWith(c->input_shape(grad_input))) {
    return c->Error(absl::StrCat("var and grad shapes differ: ", c->input_shape(0).DebugString(),
                                 " vs ", c->input_shape(grad_input).DebugString()));
  }
  c->set_output(0, c->input_dtype(0), c->input_shape(0), c->input_rank_known(0));
  return absl::OkStatus();
}

absl::StatusOr<float> ScalarArg(const OpKernelContext* ctx, int i, const char* what) {
  const Tensor& t = ctx->input(i);
  if (t.NumElements() != 1 || t.dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a float scalar, got ", t.DebugString(2)));
  }
  return t.data<float>()[0];
}

absl::Status ReadInitialized(const std::shared_ptr<VariableState>& s, const Node* node,
                             Tensor* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
  if (!s->initialized) {
    return absl::FailedPreconditionError(
        absl::StrCat("Attempting to use uninitialized value ", node->name()));
  }
  *out = s->value;
  return absl::OkStatus();
}

absl::Status GradientDescentCpu(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(float alpha, ScalarArg(ctx, 1, "alpha"));
  const Tensor& delta = ctx->input(2);
  absl::MutexLock l(&var->mu);
  Tensor old;
  SLUICE_RETURN_IF_ERROR(ReadInitialized(var, ctx->node().input(0).node(), &old));
  if (old.shape() != delta.shape()) {
    return absl::InvalidArgumentError(absl::StrCat("var and delta do not have the same shape",
                                                   old.shape().DebugString(), " ",
                                                   delta.shape().DebugString()));
  }
  Tensor out(DType::kFloat32, old.shape());
  const float* w = old.data<float>();
  const float* d = delta.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < old.NumElements(); ++i) o[i] = w[i] - alpha * d[i];
  var->value = out;
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status MomentumCpu(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> accum, ctx->variable(1));
  SLUICE_ASSIGN_OR_RETURN(float lr, ScalarArg(ctx, 2, "lr"));
  SLUICE_ASSIGN_OR_RETURN(float momentum, ScalarArg(ctx, 4, "momentum"));
  const bool* nesterov = ctx->node().attr<bool>("use_nesterov");
  const Tensor& grad = ctx->input(3);
  absl::MutexLock l1(&var->mu);
  absl::MutexLock l2(&accum->mu);
  Tensor w, a;
  SLUICE_RETURN_IF_ERROR(ReadInitialized(var, ctx->node().input(0).node(), &w));
  SLUICE_RETURN_IF_ERROR(ReadInitialized(accum, ctx->node().input(1).node(), &a));
  if (w.shape() != grad.shape() || a.shape() != grad.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "var, accum and grad must have the same shape: ", w.shape().DebugString(), " ",
        a.shape().DebugString(), " ", grad.shape().DebugString()));
  }
  Tensor nw(DType::kFloat32, w.shape()), na(DType::kFloat32, w.shape());
  const float* pw = w.data<float>();
  const float* pa = a.data<float>();
  const float* pg = grad.data<float>();
  float* qw = nw.data<float>();
  float* qa = na.data<float>();
  const bool nest = nesterov != nullptr && *nesterov;
  for (int64_t i = 0; i < w.NumElements(); ++i) {
    qa[i] = pa[i] * momentum + pg[i];
    qw[i] = nest ? pw[i] - (pg[i] * lr + qa[i] * momentum * lr) : pw[i] - lr * qa[i];
  }
  accum->value = na;
  var->value = nw;
  ctx->set_output(0, nw);
  return absl::OkStatus();
}

void RegisterCpu(const char* op, KernelFn fn) {
  KernelDef k;
  k.op = op;
  k.device = DeviceType::kCPU;
  k.dtypes = {DType::kFloat32};
  k.fn = std::move(fn);
  KernelRegistry::Global()->Register(std::move(k));
}

}  // namespace

void RegisterOptimizerOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    OpRegistry* ops = OpRegistry::Global();
    OpDef gd{"ApplyGradientDescent", [](InferenceContext* c) {
               SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
               return UpdateShape(c, 1, 2);
             }};
    gd.stateful = true;
    gd.ref_inputs = {0};
    // AlreadyExists: another part of the engine defines the same op with
    // TensorFlow's signature, which is ours too.
    if (ops->Register(std::move(gd)).ok()) RegisterCpu("ApplyGradientDescent", GradientDescentCpu);
    OpDef mom{"ApplyMomentum", [](InferenceContext* c) {
                SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(5));
                return UpdateShape(c, 2, 3);
              }};
    mom.stateful = true;
    mom.ref_inputs = {0, 1};
    if (ops->Register(std::move(mom)).ok()) RegisterCpu("ApplyMomentum", MomentumCpu);
  });
}

namespace ops {

Output ApplyGradientDescent(const Scope& scope, const Input& var, const Input& alpha,
                            const Input& delta) {
  RegisterOptimizerOps();
  Output v = var.ToOutput(scope);
  if (!v.valid()) return Output();
  return Output(scope.AddNode("ApplyGradientDescent", "ApplyGradientDescent",
                              {v, alpha.ToOutput(scope, v.dtype()), delta.ToOutput(scope, v.dtype())},
                              {{"T", v.dtype()}}),
                0);
}

Output ApplyMomentum(const Scope& scope, const Input& var, const Input& accum, const Input& lr,
                     const Input& grad, const Input& momentum, bool use_nesterov) {
  RegisterOptimizerOps();
  Output v = var.ToOutput(scope);
  if (!v.valid()) return Output();
  return Output(scope.AddNode("ApplyMomentum", "ApplyMomentum",
                              {v, accum.ToOutput(scope, v.dtype()), lr.ToOutput(scope, v.dtype()),
                               grad.ToOutput(scope, v.dtype()), momentum.ToOutput(scope, v.dtype())},
                              {{"T", v.dtype()}, {"use_nesterov", use_nesterov}}),
                0);
}

}  // namespace ops

absl::StatusOr<Operation> MinimizeWithMomentum(const Scope& scope, const Output& loss,
                                               const std::vector<Variable>& vars,
                                               const Variable& global_step,
                                               MomentumOptimizerOptions options) {
  RegisterOptimizerOps();
  std::vector<Output> xs;
  for (const Variable& v : vars) xs.push_back(v.value());
  SLUICE_ASSIGN_OR_RETURN(std::vector<Output> grads, Gradients(scope, {loss}, xs));
  Scope opt = scope.NewSubScope("Momentum");
  Output lr = ops::Const(opt.WithOpName("learning_rate"), static_cast<float>(options.learning_rate));
  Output mom = ops::Const(opt.WithOpName("momentum"), static_cast<float>(options.momentum));
  std::vector<Operation> updates;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!grads[i].valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("No gradient for variable ", vars[i].op_name(), " from the loss"));
    }
    // The accumulator lives beside its variable (same device request).
    Scope at = scope.WithDevice(vars[i].value().node()->requested_device())
                   .WithAbsoluteNameScope(vars[i].op_name());
    VariableOptions vo;
    vo.name = "Momentum";
    vo.trainable = false;
    Variable accum = NewVariable(at, ops::Zeros(at, vars[i].shape(), vars[i].dtype()), vo);
    Output upd = ops::ApplyMomentum(opt.WithDevice(vars[i].value().node()->requested_device()),
                                    vars[i], accum, lr, grads[i], mom, options.use_nesterov);
    if (!upd.valid()) return scope.status();
    updates.push_back(upd.op());
  }
  SLUICE_RETURN_IF_ERROR(scope.status());
  if (!global_step.valid()) return ops::Group(opt.WithOpName("train"), updates);
  Output inc = ops::AssignAdd(opt.WithControlDependencies(updates), global_step,
                              Tensor::Scalar<int64_t>(1));
  SLUICE_RETURN_IF_ERROR(scope.status());
  Operation train = ops::Group(opt.WithOpName("train"), {inc.op()});
  SLUICE_RETURN_IF_ERROR(scope.status());
  return train;
}

}  // namespace sluice
