#pragma once
// Scope: where op builders put nodes (TensorFlow's C++ Scope, extended with
// Python's name_scope / variable_scope rules).
//
//   Graph g;
//   Scope root = Scope::Root(&g);
//   Scope layer = root.VariableScope("op1");          // variable_scope('op1')
//   Variable w = GetVariable(layer, "weight", {1});   // "op1/weight:0"
//   Output y = ops::Mul(layer, w, 2.0f);              // "op1/Mul:0"
//
// Naming rules (TensorFlow 1.x):
//   * NewSubScope(name) is name_scope(name): the prefix is made unique in
//     the graph ("name1", then "name1_1"); reusing a Scope object re-enters
//     its exact prefix (Python's name_scope("name1/")).
//   * VariableScope(name) is variable_scope(name): it extends the variable
//     scope ("variable2/variable3") and opens a unique name scope named
//     `name` under the current one.
//   * VariableScope(captured) re-enters a captured variable scope: variables
//     made by GetVariable get the captured prefix and inherit its
//     initializer and reuse, while ops get a new name scope named after the
//     captured scope's last component under the current name scope.
//   * Op names are the default (op type) or WithOpName's, under the name
//     scope, made unique ("Add", "Add_1").
//   * NewVariable's names take the name scope; GetVariable's take only the
//     variable scope.
//
// Errors: builders never throw or abort. A builder that fails records the
// first error in the status shared by every scope derived from the same
// Root and returns an invalid Output; later builders given an invalid
// Output fail too. Check scope.status() (or ok()) after building.
//
// A Scope is a small value; copies share the graph and the status.
// Not thread-safe: build a graph from one thread at a time.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "core/status.h"
#include "graph/graph.h"

namespace sluice {

class Scope;

// Builds the ops that compute an initial value of `shape` and `dtype` in
// `scope` (variables.h has the standard initializers).
using Initializer =
    std::function<Output(const Scope& scope, const TensorShape& shape, DType dtype)>;

enum class VariableReuse {
  kInherit,    // Python's reuse=None
  kReuse,      // reuse=True: GetVariable must find an existing variable
  kAutoReuse,  // tf.AUTO_REUSE: find or create
};

struct VariableScopeOptions {
  Initializer initializer;  // empty: inherit
  VariableReuse reuse = VariableReuse::kInherit;
};

class Scope {
 public:
  // The root scope of `graph` (which must outlive every derived scope).
  static Scope Root(Graph* graph);

  Graph* graph() const { return graph_; }
  absl::Status status() const;
  bool ok() const { return status().ok(); }
  // Keeps the first error.
  void UpdateStatus(const absl::Status& s) const;

  Scope NewSubScope(std::string_view name) const;
  Scope WithOpName(std::string_view name) const;
  Scope WithControlDependencies(absl::Span<const Operation> ops) const;
  Scope WithControlDependencies(const Output& output) const;
  Scope WithNoControlDependencies() const;
  // "/cpu:0", "/gpu:0", "/device:GPU:0" (see device.h); "" clears.
  Scope WithDevice(std::string_view device) const;
  Scope VariableScope(std::string_view name, VariableScopeOptions options = {}) const;
  Scope VariableScope(const Scope& captured, VariableScopeOptions options = {}) const;
  // For composite builders: the next op gets exactly `full_name` (no
  // prefix, not made unique), as TensorFlow names a composite's final op
  // after its own name scope ("shuffle_batch" inside "shuffle_batch/").
  // AddNode fails if a node already has that name.
  Scope WithExactOpName(std::string_view full_name) const;
  // For composite builders (variables): a scope whose name scope is exactly
  // `prefix` (absolute, not made unique), keeping everything else.
  Scope WithAbsoluteNameScope(std::string_view prefix) const;

  // "name1/variable1" ("" at the root), no trailing slash.
  const std::string& name_scope() const { return name_scope_; }
  const std::string& variable_scope() const { return var_scope_; }
  const Initializer& variable_initializer() const { return initializer_; }
  VariableReuse reuse() const { return reuse_; }
  const std::vector<Node*>& control_dependencies() const { return control_deps_; }
  const std::string& device() const { return device_; }

  // For op builders: the unique full name for a new op whose default name
  // is `default_name` (WithOpName overrides it).
  std::string GetUniqueNameForOp(std::string_view default_name) const;
  // Adds a node named GetUniqueNameForOp(default_name) with this scope's
  // control dependencies and device. Returns null (and records the error)
  // when the scope already failed, an input is invalid, or AddNode fails.
  Node* AddNode(std::string_view op, std::string_view default_name, std::vector<Output> inputs,
                AttrMap attrs = {}) const;

 private:
  struct StatusHolder;
  Scope() = default;

  Graph* graph_ = nullptr;
  std::shared_ptr<StatusHolder> status_;
  std::string name_scope_;
  std::string op_name_;
  bool exact_name_ = false;
  std::vector<Node*> control_deps_;
  std::string device_;
  std::string var_scope_;
  Initializer initializer_;
  VariableReuse reuse_ = VariableReuse::kInherit;
};

}  // namespace sluice
