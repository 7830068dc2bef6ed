#pragma once
// Variable state ops: the raw VariableV2 node and the assignments. Most
// code uses NewVariable / GetVariable (variables.h) instead of VariableV2.
//
// Assign* take the variable as `ref` (a Variable or its value() Output) and
// produce the variable's new value. validate_shape = false lets Assign
// store a value of another shape (variables that grow).

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

// A VariableV2 node. `shape` with -1 dims (or validate_shape false at
// creation) accepts values of any compatible shape.
Output VariableV2(const Scope& scope, const TensorShape& shape, DType dtype,
                  bool shape_known = true);

struct AssignOptions {
  bool validate_shape = true;
};
Output Assign(const Scope& scope, const Input& ref, const Input& value, AssignOptions options = {});
Output AssignAdd(const Scope& scope, const Input& ref, const Input& value);
Output AssignSub(const Scope& scope, const Input& ref, const Input& value);
// tf.count_up_to: the variable's value before incrementing it; OutOfRange
// "Reached limit of <limit>" once it has reached `limit` (int32/int64).
Output CountUpTo(const Scope& scope, const Input& ref, int64_t limit);

}  // namespace sluice::ops
