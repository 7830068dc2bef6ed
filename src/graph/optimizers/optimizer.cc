#include "graph/optimizers/optimizer.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/gradients/gradients.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::StatusOr<std::vector<GradAndVar>> Optimizer::ComputeGradients(const Scope& scope, const Output& loss,
                                                                    std::vector<Variable> var_list) {
  if (!loss.valid()) return absl::InvalidArgumentError("Optimizer: invalid loss");
  if (var_list.empty()) var_list = TrainableVariables(*scope.graph());
  if (var_list.empty()) return absl::InvalidArgumentError("No variables to optimize.");
  std::vector<Output> xs;
  for (const Variable& v : var_list) {
    if (!v.valid()) return absl::InvalidArgumentError("Optimizer: invalid variable in var_list");
    xs.push_back(v.value());
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Output> grads, Gradients(scope, {loss}, xs));
  std::vector<GradAndVar> out;
  for (size_t i = 0; i < var_list.size(); ++i) out.emplace_back(grads[i], var_list[i]);
  return out;
}

absl::StatusOr<Operation> Optimizer::ApplyGradients(const Scope& scope,
                                                    const std::vector<GradAndVar>& grads_and_vars,
                                                    std::optional<Variable> global_step) {
  std::vector<GradAndVar> live;
  std::vector<Operation> grad_ops;
  for (const auto& [g, v] : grads_and_vars) {
    if (!g.valid()) continue;
    if (v.dtype() != DType::kFloat32 && v.dtype() != DType::kFloat64) {
      return absl::InvalidArgumentError(absl::StrCat("Optimizer: variable ", v.name(), " is not floating point"));
    }
    live.emplace_back(g, v);
    grad_ops.push_back(g.op());
  }
  if (live.empty()) {
    std::string names;
    for (const auto& gv : grads_and_vars) absl::StrAppend(&names, names.empty() ? "" : ", ", gv.second.name());
    return absl::InvalidArgumentError(absl::StrCat("No gradients provided for any variable: ", names));
  }
  const Scope os = scope.NewSubScope(name_);
  SLUICE_RETURN_IF_ERROR(Prepare(scope, live));
  // Gate: no update starts before every gradient is computed.
  const Scope gated = os.WithControlDependencies(grad_ops);
  std::vector<Operation> updates;
  for (const auto& [g, v] : live) {
    const Scope vs = gated.NewSubScope(absl::StrCat("update_", v.op_name()));
    SLUICE_ASSIGN_OR_RETURN(Output u, ApplyDense(vs, g, v));
    SLUICE_RETURN_IF_ERROR(vs.status());
    updates.push_back(u.op());
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Operation> finish, Finish(os.WithControlDependencies(updates), updates));
  std::vector<Operation> all = updates;
  all.insert(all.end(), finish.begin(), finish.end());
  if (global_step.has_value()) {
    if (!global_step->valid()) return absl::InvalidArgumentError("Optimizer: invalid global_step");
    const DType t = global_step->dtype();
    if (t != DType::kInt64 && t != DType::kInt32) {
      return absl::InvalidArgumentError("Optimizer: global_step must be int32 or int64");
    }
    Tensor one = t == DType::kInt64 ? Tensor::Scalar<int64_t>(1) : Tensor::Scalar<int32_t>(1);
    Output inc = ops::AssignAdd(scope.WithControlDependencies(all).WithOpName(name_), *global_step,
                                ops::Const(os, one));
    SLUICE_RETURN_IF_ERROR(scope.status());
    return inc.op();
  }
  Operation train = ops::Group(scope.WithOpName(name_), all);
  SLUICE_RETURN_IF_ERROR(scope.status());
  return train;
}

absl::StatusOr<Operation> Optimizer::Minimize(const Scope& scope, const Output& loss,
                                              const MinimizeOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<GradAndVar> gv, ComputeGradients(scope, loss, options.var_list));
  return ApplyGradients(scope, gv, options.global_step);
}

std::optional<Variable> Optimizer::GetSlot(const Variable& var, std::string_view slot) const {
  for (const auto& [key, v] : slots_) {
    if (key.first == var.record() && key.second == slot) return v;
  }
  return std::nullopt;
}

absl::StatusOr<Variable> Optimizer::Slot(const Scope& scope, const Variable& var, std::string_view slot,
                                         double initial) {
  if (auto existing = GetSlot(var, slot)) return *existing;
  if (!var.shape().IsFullyDefined()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Optimizer: variable ", var.name(), " needs a fully defined shape for its slots"));
  }
  // Slots live beside their variable ("w/Momentum"), outside any control
  // dependencies of the update scope.
  const Scope at = scope.WithNoControlDependencies().WithAbsoluteNameScope(var.op_name());
  Output init = ops::Const(at.NewSubScope(absl::StrCat(Sv(slot), "_init")),
                           Tensor::Scalar<double>(initial), var.dtype(), var.shape());
  Variable v = NewVariable(at, init, {.name = std::string(slot), .trainable = false});
  SLUICE_RETURN_IF_ERROR(at.status());
  slots_.push_back({{var.record(), std::string(slot)}, v});
  return v;
}

Output Optimizer::Scalar(const Scope& scope, double value, DType dtype) {
  return ops::Const(scope, Tensor::Scalar<double>(value), dtype, TensorShape{});
}

Variable Optimizer::NonSlot(const Scope& scope, std::string_view name, double initial, DType dtype) {
  const Scope at = scope.WithNoControlDependencies().WithAbsoluteNameScope("");
  Output init = ops::Const(at.NewSubScope(absl::StrCat(Sv(name), "_init")), Tensor::Scalar<double>(initial),
                           dtype, TensorShape{});
  return NewVariable(at, init, {.name = std::string(name), .trainable = false});
}

}  // namespace sluice
