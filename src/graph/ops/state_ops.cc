#include "graph/ops/state_ops.h"


#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/internal/op_util.h"
#include "kernels/cwise_ops.h"

namespace sluice {
namespace ops {

Output VariableV2(const Scope& scope, const TensorShape& shape, DType dtype, bool shape_known) {
  AttrMap attrs{{"dtype", dtype}};
  if (shape_known) attrs["shape"] = shape;
  return internal::BuildOp(scope, "VariableV2", "Variable", {}, std::move(attrs));
}

namespace {
Output AssignLike(const Scope& scope, const char* op, const char* name, const Input& ref,
                  const Input& value, AttrMap attrs) {
  Output r = ref.ToOutput(scope);
  if (!r.valid()) return Output();
  Output v = value.ToOutput(scope, r.dtype());
  if (!v.valid()) return Output();
  attrs["T"] = r.dtype();
  return internal::BuildOp(scope, op, name, {r, v}, std::move(attrs));
}
}  // namespace

Output Assign(const Scope& scope, const Input& ref, const Input& value, AssignOptions options) {
  return AssignLike(scope, "Assign", "Assign", ref, value,
                    {{"validate_shape", options.validate_shape}});
}

Output AssignAdd(const Scope& scope, const Input& ref, const Input& value) {
  return AssignLike(scope, "AssignAdd", "AssignAdd", ref, value, {});
}

Output AssignSub(const Scope& scope, const Input& ref, const Input& value) {
  return AssignLike(scope, "AssignSub", "AssignSub", ref, value, {});
}

Output CountUpTo(const Scope& scope, const Input& ref, int64_t limit) {
  Output r = ref.ToOutput(scope);
  if (!r.valid()) return Output();
  return internal::BuildOp(scope, "CountUpTo", "CountUpTo", {r},
                           {{"T", r.dtype()}, {"limit", limit}});
}

}  // namespace ops

namespace internal {
namespace {

absl::Status CheckRef(InferenceContext* c) {
  SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
  SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
  return absl::OkStatus();
}

// Stores `value`, reusing the buffer in place only when nobody else holds
// it (so tensors handed out earlier never change under their readers).
absl::Status AssignKernel(OpKernelContext* ctx, bool validate_shape) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  const Tensor& value = ctx->input(1);
  const Node* var_node = ctx->node().input(0).node();
  const bool var_validates = var_node->output_rank_known(0);
  if (validate_shape && var_validates &&
      !value.shape().IsCompatibleWith(var_node->output_shape(0))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Assign requires shapes of both tensors to match. lhs shape= ",
        var_node->output_shape(0).DebugString(), " rhs shape= ", value.shape().DebugString()));
  }
  absl::MutexLock l(&var->mu);
  var->value = value;
  var->initialized = true;
  ctx->set_output(0, value);
  return absl::OkStatus();
}

absl::Status UpdateKernel(OpKernelContext* ctx, BinaryOp op) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  const Node* var_node = ctx->node().input(0).node();
  absl::MutexLock l(&var->mu);
  if (!var->initialized) {
    return absl::FailedPreconditionError(
        absl::StrCat("Attempting to use uninitialized value ", var_node->name()));
  }
  if (var->value.shape() != ctx->input(1).shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Must have the same shape: variable ", var->value.shape().DebugString(), " vs update ",
        ctx->input(1).shape().DebugString()));
  }
  // In place when this variable holds the only reference to its buffer
  // (the optimizers' hot path; ref_count() acquires the other holders'
  // last uses); otherwise a reader holds the old value and the update goes
  // to a new tensor.
  if (var->value.buffer()->ref_count() == 1 && var->value.dtype() != DType::kString &&
      var->value.dtype() != DType::kBool) {
    SLUICE_RETURN_IF_ERROR(BinaryCwiseInPlace(op, &var->value, ctx->input(1)));
    ctx->set_output(0, var->value);
    return absl::OkStatus();
  }
  Tensor out;
  SLUICE_RETURN_IF_ERROR(BinaryCwise(op, var->value, ctx->input(1), &out));
  var->value = out;
  ctx->set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

void RegisterStateOps(OpRegistry* ops, KernelRegistry* kernels) {
  OpDef var{"VariableV2", [](InferenceContext* c) {
              SLUICE_ASSIGN_OR_RETURN(DType dt, c->GetAttr<DType>("dtype"));
              if (const TensorShape* s = c->attr<TensorShape>("shape")) {
                c->set_output(0, dt, *s);
              } else {
                c->set_unknown_output(0, dt);
              }
              return absl::OkStatus();
            }};
  var.stateful = true;
  var.ref_output = true;
  RegisterOp(ops, std::move(var));
  // The reference itself: make sure the state exists; consumers read it.
  RegisterCpuKernel(kernels, "VariableV2", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> v,
                            GetVariableState(ctx->resources(), &ctx->node()));
    (void)v;
    // The session never reads a ref node's output (consumers and fetches
    // read the state), so a marker stands in for it: holding the value here
    // for the whole run would defeat the in-place updates.
    static const Tensor* marker = new Tensor(Tensor::Zeros(DType::kFloat32, TensorShape{}));
    ctx->set_output(0, *marker);
    return absl::OkStatus();
  }, {}, /*inexpensive=*/true);

  for (const char* name : {"Assign", "AssignAdd", "AssignSub"}) {
    OpDef def{name, [name](InferenceContext* c) {
                SLUICE_RETURN_IF_ERROR(CheckRef(c));
                const bool validate =
                    std::string_view(name) != "Assign" ||
                    (c->attr<bool>("validate_shape") == nullptr || *c->attr<bool>("validate_shape"));
                if (validate && c->input_rank_known(0) && c->input_rank_known(1) &&
                    !c->input_shape(1).IsCompatibleWith(c->input_shape(0))) {
                  return c->Error(absl::StrCat(
                      "Shapes must be equal: variable ", c->input_shape(0).DebugString(),
                      " vs value ", c->input_shape(1).DebugString()));
                }
                if (validate) {
                  c->set_output(0, c->input_dtype(0), c->input_shape(0), c->input_rank_known(0));
                } else {
                  c->set_output(0, c->input_dtype(1), c->input_shape(1), c->input_rank_known(1));
                }
                return absl::OkStatus();
              }};
    def.stateful = true;
    def.ref_inputs = {0};
    RegisterOp(ops, std::move(def));
  }
  RegisterCpuKernel(kernels, "Assign", [](OpKernelContext* ctx) {
    const bool* v = ctx->node().attr<bool>("validate_shape");
    return AssignKernel(ctx, v == nullptr || *v);
  }, {}, true);
  OpDef count{"CountUpTo", [](InferenceContext* c) {
                 c->set_output(0, c->input_dtype(0), TensorShape{});
                 return absl::OkStatus();
               }};
  count.stateful = true;
  count.ref_inputs = {0};
  RegisterOp(ops, std::move(count));
  RegisterCpuKernel(kernels, "CountUpTo", [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
    SLUICE_ASSIGN_OR_RETURN(int64_t limit, ctx->GetAttr<int64_t>("limit"));
    absl::MutexLock l(&var->mu);
    if (!var->initialized) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Attempting to use uninitialized value ", ctx->node().input(0).node()->name()));
    }
    const Tensor& v = var->value;
    int64_t now;
    if (v.dtype() == DType::kInt32) now = v.scalar<int32_t>();
    else if (v.dtype() == DType::kInt64) now = v.scalar<int64_t>();
    else return absl::InvalidArgumentError("CountUpTo needs an int32 or int64 variable");
    if (now >= limit) return absl::OutOfRangeError(absl::StrCat("Reached limit of ", limit));
    ctx->set_output(0, v.dtype() == DType::kInt32 ? Tensor::Scalar<int32_t>(now)
                                                 : Tensor::Scalar<int64_t>(now));
    var->value = v.dtype() == DType::kInt32 ? Tensor::Scalar<int32_t>(now + 1)
                                            : Tensor::Scalar<int64_t>(now + 1);
    return absl::OkStatus();
  }, {DType::kInt32, DType::kInt64});
  RegisterCpuKernel(kernels, "AssignAdd",
                    [](OpKernelContext* ctx) { return UpdateKernel(ctx, BinaryOp::kAdd); });
  RegisterCpuKernel(kernels, "AssignSub",
                    [](OpKernelContext* ctx) { return UpdateKernel(ctx, BinaryOp::kSub); });
}

}  // namespace internal
}  // namespace sluice
