#include "graph/optimizers/adam.h"

#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"

namespace sluice {

absl::Status AdamOptimizer::Prepare(const Scope& scope, const std::vector<GradAndVar>& grads_and_vars) {
  if (beta1_power_.valid()) return absl::OkStatus();
  // TensorFlow makes them with the dtype of the first variable.
  const DType t = grads_and_vars.front().second.dtype();
  beta1_power_ = NonSlot(scope, "beta1_power", beta1_, t);
  beta2_power_ = NonSlot(scope, "beta2_power", beta2_, t);
  return scope.status();
}

absl::StatusOr<Output> AdamOptimizer::ApplyDense(const Scope& s, const Output& grad, const Variable& var) {
  SLUICE_ASSIGN_OR_RETURN(Variable m, Slot(s, var, "Adam"));
  SLUICE_ASSIGN_OR_RETURN(Variable v, Slot(s, var, "Adam_1"));
  Output b1p = beta1_power_.value(), b2p = beta2_power_.value();
  if (var.dtype() != beta1_power_.dtype()) {
    b1p = ops::Cast(s, b1p, var.dtype());
    b2p = ops::Cast(s, b2p, var.dtype());
  }
  Output lr_t = ops::Div(s, ops::Mul(s, ops::Sqrt(s, ops::Sub(s, Scalar(s, 1.0, var.dtype()), b2p)), Scalar(s, learning_rate_, var.dtype())), ops::Sub(s, Scalar(s, 1.0, var.dtype()), b1p));
  Output m_t = ops::Assign(s, m, ops::Add(s, ops::Mul(s, m, Scalar(s, beta1_, var.dtype())), ops::Mul(s, grad, Scalar(s, 1.0 - beta1_, var.dtype()))));
  Output v_t = ops::Assign(s, v, ops::Add(s, ops::Mul(s, v, Scalar(s, beta2_, var.dtype())), ops::Mul(s, ops::Square(s, grad), Scalar(s, 1.0 - beta2_, var.dtype()))));
  return ops::AssignSub(s, var, ops::Div(s, ops::Mul(s, lr_t, m_t), ops::Add(s, ops::Sqrt(s, v_t), Scalar(s, epsilon_, var.dtype()))));
}

absl::StatusOr<std::vector<Operation>> AdamOptimizer::Finish(const Scope& scope, const std::vector<Operation>&) {
  // `scope` waits for every update: the powers change after all reads.
  Output u1 = ops::Assign(scope, beta1_power_, ops::Mul(scope, beta1_power_, Scalar(scope, beta1_, beta1_power_.dtype())));
  Output u2 = ops::Assign(scope, beta2_power_, ops::Mul(scope, beta2_power_, Scalar(scope, beta2_, beta2_power_.dtype())));
  SLUICE_RETURN_IF_ERROR(scope.status());
  return std::vector<Operation>{u1.op(), u2.op()};
}

}  // namespace sluice
