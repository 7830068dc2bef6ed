#pragma once
// Optimizer: tf.train.Optimizer's minimize / compute_gradients /
// apply_gradients over sluice's graph. Subclasses give the per-variable
// update (TensorFlow's _apply_dense) built from Assign ops, and may own
// slot variables ("<var>/<OptimizerName>", non-trainable, in
// GLOBAL_VARIABLES so Saver and the initializer cover them) and non-slot
// variables (Adam's beta1_power / beta2_power).
//
//   GradientDescentOptimizer opt(0.5);
//   SLUICE_ASSIGN_OR_RETURN(Operation train, opt.Minimize(root, loss, {.global_step = step}));
//   sess.Run({{x, batch}}, {}, {train}, nullptr);
//
// Gating: every update waits for every gradient (TensorFlow's GATE_GRAPH),
// so no variable changes while the backward pass still reads it, and a
// step is the same computation however the session schedules it.
// With a global_step variable (int32/int64 scalar), the train op also
// increments it after the updates.
//
// Errors: NotFound from Gradients for an op without a gradient;
// InvalidArgument when no variable gets a gradient ("No gradients provided
// for any variable"), for a variable of non-floating dtype or one whose
// shape is not fully defined (slots need it), or an invalid loss.
// Not thread-safe: build from one thread.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/scope.h"
#include "graph/variables.h"

namespace sluice {

using GradAndVar = std::pair<Output, Variable>;

struct MinimizeOptions {
  // Empty: TRAINABLE_VARIABLES.
  std::vector<Variable> var_list;
  std::optional<Variable> global_step;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Gradients of `loss` for each variable (an invalid Output where the
  // loss does not depend on it).
  absl::StatusOr<std::vector<GradAndVar>> ComputeGradients(const Scope& scope, const Output& loss,
                                                           std::vector<Variable> var_list = {});
  // The update ops, grouped into one train op (named after the optimizer).
  absl::StatusOr<Operation> ApplyGradients(const Scope& scope, const std::vector<GradAndVar>& grads_and_vars,
                                           std::optional<Variable> global_step = std::nullopt);
  absl::StatusOr<Operation> Minimize(const Scope& scope, const Output& loss, const MinimizeOptions& options = {});

  // "GradientDescent", "Momentum", "Adagrad", "RMSProp", "Adam".
  const std::string& name() const { return name_; }

  // The slot `slot` ("Momentum", "Adam_1", ...) of `var`, if created.
  std::optional<Variable> GetSlot(const Variable& var, std::string_view slot) const;

 protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}

  // Creates non-slot state before the first update (Adam's powers).
  virtual absl::Status Prepare(const Scope& scope, const std::vector<GradAndVar>& grads_and_vars) {
    return absl::OkStatus();
  }
  // The update of one variable; returns the op that performs it.
  virtual absl::StatusOr<Output> ApplyDense(const Scope& scope, const Output& grad, const Variable& var) = 0;
  // Ops that must run after every update (Adam's power updates); `updates`
  // are the per-variable update ops. The default adds nothing.
  virtual absl::StatusOr<std::vector<Operation>> Finish(const Scope& scope, const std::vector<Operation>& updates) {
    return std::vector<Operation>{};
  }

  // A zero-initialised (or `initial`-filled) slot of var's shape and dtype,
  // named "<var>/<slot>", created once.
  absl::StatusOr<Variable> Slot(const Scope& scope, const Variable& var, std::string_view slot,
                                double initial = 0.0);
  // A scalar constant of `dtype` holding `value` exactly (a bare double
  // literal would pass through float32).
  static Output Scalar(const Scope& scope, double value, DType dtype);
  // A scalar non-slot variable of `dtype` named `name` (beta1_power).
  Variable NonSlot(const Scope& scope, std::string_view name, double initial, DType dtype);

 private:
  std::string name_;
  std::vector<std::pair<std::pair<const VariableRecord*, std::string>, Variable>> slots_;
};

}  // namespace sluice
