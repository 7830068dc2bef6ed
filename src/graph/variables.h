#pragma once
// Variables: state that persists across Session::Run calls (tf.Variable,
// tf.get_variable), their initializers, and the variable collections.
//
// A variable is a VariableV2 node (its output is a reference: ops that use
// it read the current value when they run; fetching it gives the value at
// the end of the run), an initial-value subgraph, and an Assign node that
// stores the initial value ("<name>/Assign"). Values live in each Session,
// so two sessions of one graph have separate values.
//
// Names: NewVariable names take the name scope ("name1/variable1/a:0");
// GetVariable names take only the variable scope ("variable1/b:0"), see
// scope.h. Errors are recorded in the scope's status (an invalid Variable
// is returned).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor_shape.h"
#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice {

// Handle to a variable. Copyable; valid while its graph lives.
class Variable {
 public:
  Variable() = default;
  explicit Variable(const VariableRecord* record) : record_(record) {}

  bool valid() const { return record_ != nullptr; }
  // "op1/weight:0", as TensorFlow's Variable.name.
  std::string name() const;
  // "op1/weight", the VariableV2 node's name.
  const std::string& op_name() const { return record_->name; }
  // The reference output (VariableV2:0); use it as an op input.
  Output value() const { return Output(record_->var, 0); }
  operator Output() const { return value(); }
  Operation op() const { return Operation(record_->var); }
  // Running it stores the initial value.
  Operation initializer() const { return Operation(record_->initializer); }
  Output initial_value() const { return record_->initial_value; }
  // Variable.initialized_value(): a new node (named
  // "<var>/initialized_value") whose value is the variable's when it is
  // initialised and the initial value otherwise, so another variable's
  // initializer may use it whatever order initializers run in. The initial
  // value is computed either way (TensorFlow computes it only when needed;
  // docs/divergences.md). Invalid Output if the graph refuses the node.
  Output initialized_value() const;
  DType dtype() const { return record_->dtype; }
  const TensorShape& shape() const { return record_->shape; }
  bool trainable() const { return record_->trainable; }
  Graph* graph() const { return record_->var->graph(); }
  const VariableRecord* record() const { return record_; }

  friend bool operator==(const Variable& a, const Variable& b) { return a.record_ == b.record_; }

 private:
  const VariableRecord* record_ = nullptr;
};

struct VariableOptions {
  std::string name = "Variable";
  std::optional<DType> dtype;        // default: the initial value's dtype
  std::optional<TensorShape> shape;  // default: the initial value's shape
  bool trainable = true;
  // false: the variable may later hold values of any shape (its declared
  // shape becomes unknown), as tf.Variable(validate_shape=False).
  bool validate_shape = true;
  // A LOCAL_VARIABLES entry (epoch counters, metrics) instead of a global
  // one: not saved, initialised by LocalVariablesInitializer. Never
  // trainable.
  bool local = false;
};

// tf.Variable(initial_value, ...). Adds to GLOBAL_VARIABLES and, when
// trainable, TRAINABLE_VARIABLES.
Variable NewVariable(const Scope& scope, const Input& initial_value, VariableOptions options = {});

struct GetVariableOptions {
  DType dtype = DType::kFloat32;
  // Empty: the variable scope's initializer, else glorot_uniform for
  // floating types and zeros otherwise (TensorFlow's defaults).
  Initializer initializer;
  bool trainable = true;
};

// tf.get_variable(name, shape, ...): creates "<variable scope>/<name>", or
// returns the existing one when the scope reuses (kReuse, kAutoReuse).
// InvalidArgument (in the scope status) when it exists and the scope does
// not reuse ("Variable op1/weight already exists, disallowed. Did you mean
// to set reuse=True..."), when reuse is set and it does not exist, or when
// the shape or dtype differs from the existing variable's.
Variable GetVariable(const Scope& scope, std::string_view name, const TensorShape& shape,
                     GetVariableOptions options = {});

// Initializers (tf.*_initializer). Seeds follow TensorFlow: 0 means "derive
// from the graph seed, or random".
Initializer ZerosInitializer();
Initializer OnesInitializer();
Initializer ConstantInitializer(double value);
Initializer RandomNormalInitializer(double mean = 0.0, double stddev = 1.0, int64_t seed = 0);
Initializer TruncatedNormalInitializer(double mean = 0.0, double stddev = 1.0, int64_t seed = 0);
Initializer RandomUniformInitializer(double minval = 0.0, double maxval = 1.0, int64_t seed = 0);
// Glorot (Xavier): limit sqrt(6 / (fan_in + fan_out)) / stddev
// sqrt(2 / (fan_in + fan_out)), fans from the last two dims (conv kernels
// multiply by the receptive field size).
Initializer GlorotUniformInitializer(int64_t seed = 0);
Initializer GlorotNormalInitializer(int64_t seed = 0);

// A NoOp ("init") that runs every given variable's initializer.
Operation VariablesInitializer(const Scope& scope, const std::vector<Variable>& vars);
// tf.global_variables_initializer(): VariablesInitializer(GLOBAL_VARIABLES).
Operation GlobalVariablesInitializer(const Scope& scope);

// tf.local_variables_initializer().
Operation LocalVariablesInitializer(const Scope& scope);

std::vector<Variable> GlobalVariables(const Graph& graph);
std::vector<Variable> LocalVariables(const Graph& graph);
std::vector<Variable> TrainableVariables(const Graph& graph);

}  // namespace sluice
