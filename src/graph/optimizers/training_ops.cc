#include "graph/optimizers/training_ops.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/variables.h"
#include "kernels/training_ops.h"

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

absl::StatusOr<double> ScalarArg(const OpKernelContext* ctx, int i, const char* what) {
  const Tensor& t = ctx->input(i);
  if (t.NumElements() == 1 && t.dtype() == DType::kFloat32) return t.data<float>()[0];
  if (t.NumElements() == 1 && t.dtype() == DType::kFloat64) return t.data<double>()[0];
  return absl::InvalidArgumentError(
      absl::StrCat(ctx->node().name(), ": ", what, " must be a float scalar, got ",
                   t.DebugString(2)));
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

absl::Status GradientDescentKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(double alpha, ScalarArg(ctx, 1, "alpha"));
  absl::MutexLock l(&var->mu);
  Tensor w, out;
  SLUICE_RETURN_IF_ERROR(ReadInitialized(var, ctx->node().input(0).node(), &w));
  SLUICE_RETURN_IF_ERROR(ApplyGradientDescentCpu(w, alpha, ctx->input(2), &out));
  var->value = out;
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status MomentumKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> accum, ctx->variable(1));
  SLUICE_ASSIGN_OR_RETURN(double lr, ScalarArg(ctx, 2, "lr"));
  SLUICE_ASSIGN_OR_RETURN(double momentum, ScalarArg(ctx, 4, "momentum"));
  const bool* nesterov = ctx->node().attr<bool>("use_nesterov");
  absl::MutexLock l1(&var->mu);
  absl::MutexLock l2(&accum->mu);
  Tensor w, a, nw, na;
  SLUICE_RETURN_IF_ERROR(ReadInitialized(var, ctx->node().input(0).node(), &w));
  SLUICE_RETURN_IF_ERROR(ReadInitialized(accum, ctx->node().input(1).node(), &a));
  SLUICE_RETURN_IF_ERROR(ApplyMomentumCpu(w, a, lr, ctx->input(3), momentum,
                                          nesterov != nullptr && *nesterov, &nw, &na));
  accum->value = na;
  var->value = nw;
  ctx->set_output(0, nw);
  return absl::OkStatus();
}

void RegisterCpu(const char* op, KernelFn fn) {
  KernelDef k;
  k.op = op;
  k.device = DeviceType::kCPU;
  k.dtypes = {DType::kFloat32, DType::kFloat64};
  k.fn = std::move(fn);
  KernelRegistry::Global()->Register(std::move(k));
}

}  // namespace

void RegisterTrainingOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    OpRegistry* ops = OpRegistry::Global();
    OpDef gd{"ApplyGradientDescent", [](InferenceContext* c) {
               SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
               return UpdateShape(c, 1, 2);
             }};
    gd.stateful = true;
    gd.ref_inputs = {0};
    if (ops->Register(std::move(gd)).ok()) RegisterCpu("ApplyGradientDescent", GradientDescentKernel);
    OpDef mom{"ApplyMomentum", [](InferenceContext* c) {
                SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(5));
                return UpdateShape(c, 2, 3);
              }};
    mom.stateful = true;
    mom.ref_inputs = {0, 1};
    if (ops->Register(std::move(mom)).ok()) RegisterCpu("ApplyMomentum", MomentumKernel);
  });
}

namespace ops {

Output ApplyGradientDescent(const Scope& scope, const Input& var, const Input& alpha,
                            const Input& delta) {
  RegisterTrainingOps();
  Output v = var.ToOutput(scope);
  if (!v.valid()) return Output();
  return Output(scope.AddNode("ApplyGradientDescent", "ApplyGradientDescent",
                              {v, alpha.ToOutput(scope, v.dtype()), delta.ToOutput(scope, v.dtype())},
                              {{"T", v.dtype()}}),
                0);
}

Output ApplyMomentum(const Scope& scope, const Input& var, const Input& accum, const Input& lr,
                     const Input& grad, const Input& momentum, bool use_nesterov) {
  RegisterTrainingOps();
  Output v = var.ToOutput(scope);
  if (!v.valid()) return Output();
  return Output(scope.AddNode("ApplyMomentum", "ApplyMomentum",
                              {v, accum.ToOutput(scope, v.dtype()), lr.ToOutput(scope, v.dtype()),
                               grad.ToOutput(scope, v.dtype()), momentum.ToOutput(scope, v.dtype())},
                              {{"T", v.dtype()}, {"use_nesterov", use_nesterov}}),
                0);
}

}  // namespace ops
}  // namespace sluice
