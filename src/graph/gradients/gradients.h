#pragma once
// Symbolic differentiation (tf.gradients): builds, in the graph, the ops
// that compute d(sum of ys)/d(xs).
//
//   SLUICE_ASSIGN_OR_RETURN(std::vector<Output> g, Gradients(root, {loss}, {w, b}));
//
// The backward pass visits the ops that lie on a path from some x to some
// y, newest first (a node's inputs always exist before it, so node ids are
// a topological order), sums the gradients reaching each output (AddN) and
// calls the op type's gradient function from the GradientRegistry
// (gradient_registry.h; the standard ones are registered on first use).
// Gradient ops are named "gradients/<op name>_grad/...".
//
// Results: one Output per x; an invalid Output where no path leads from x
// to any y (TensorFlow's None). grad_ys, when given, holds one initial
// gradient per y (else ones, as TensorFlow).
// Errors: NotFound "No gradient defined for operation 'NAME' (op type:
// TYPE)" when an op on the path has no gradient function; InvalidArgument
// for invalid or foreign Outputs, a grad_ys of the wrong length, or an
// error a gradient function recorded in the scope.
//
// Not thread-safe with respect to other builders of the same graph.

#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/scope.h"

namespace sluice {

absl::StatusOr<std::vector<Output>> Gradients(const Scope& scope, const std::vector<Output>& ys,
                                              const std::vector<Output>& xs,
                                              const std::vector<Output>& grad_ys = {});

// The same, TensorFlow C++'s signature.
absl::Status AddSymbolicGradients(const Scope& scope, const std::vector<Output>& ys,
                                  const std::vector<Output>& xs, const std::vector<Output>& grad_ys,
                                  std::vector<Output>* grads);

// Registers the standard gradient functions and helper ops (idempotent;
// Gradients calls it). Exposed for code that looks up the registry itself.
void RegisterStandardGradients();

}  // namespace sluice
