#pragma once
// Print as a graph node (tf.print): when it runs it writes its inputs,
// separated by spaces, as one line to the session's print sink. String
// scalars print raw; tensors print as NumPy does ("[1 2 3]",
// "[[1 2]\n [3 4]]"). Use it as a target, usually with control
// dependencies: Scope::WithControlDependencies(assign) makes it print the
// value after the assignment.

#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

struct PrintOptions {
  // Elements shown per dimension before "..." (tf.print's summarize).
  int summarize = 3;
};

Operation Print(const Scope& scope, const std::vector<Input>& inputs, PrintOptions options = {});

// TensorFlow 1.x tf.Print: identity of `input` that prints `message`
// followed by `data` when it runs.
Output PrintIdentity(const Scope& scope, const Input& input, const std::vector<Input>& data,
                     std::string_view message);

}  // namespace sluice::ops

namespace sluice {
// NumPy-style text of a tensor, as the Print op writes it.
std::string FormatTensorForPrint(const Tensor& t, int summarize);
}  // namespace sluice
