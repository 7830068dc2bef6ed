// Variable::initialized_value() (variables.h): an "_InitializedValue" node
// (registered with the control-flow ops) reading the variable reference.

#include "graph/internal/op_util.h"
#include "graph/variables.h"

namespace sluice {

Output Variable::initialized_value() const {
  if (!valid()) return Output();
  Scope s = Scope::Root(graph()).WithAbsoluteNameScope(op_name());
  return internal::BuildOp(s, "_InitializedValue", "initialized_value",
                           {value(), initial_value()}, {{"T", dtype()}});
}

}  // namespace sluice
