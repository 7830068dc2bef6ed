#pragma once
// Control-flow and checking op builders: where (Select / Where), cond,
// Assert, check_numerics. CPU kernels only. Errors go to the scope's status
// (scope.h); failed builders return an invalid Output.
//
// cond is not TensorFlow 1.x's Switch/Merge construction but the functional
// form TensorFlow 2 uses (op "If"): each branch is built by its function
// into a graph of its own, whose arguments are placeholders standing for
// `inputs`; the If kernel runs only the branch the predicate picks, in a
// session over that branch graph. So an op built inside a branch runs only
// when its branch is taken, and ops built outside (the inputs) always run,
// as in TensorFlow. Branches reach outer tensors only through `inputs`, and
// stateful ops inside a branch (variables, queues) are not shared with the
// outer session (docs/divergences.md). Branch graphs live as long as the
// process (a registry keyed by the node's then_branch / else_branch names).

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

// tf.where(cond, x, y) (TensorFlow 1.x's Select): cond of x's shape, or a
// vector over x's first dimension choosing whole rows.
Output Select(const Scope& scope, const Input& cond, const Input& x,
              const Input& y);
// tf.where(cond): int64 [num_true, rank] coordinates of the true elements.
Output Where(const Scope& scope, const Input& cond);

// Builds a branch in `scope` (a scope of the branch's own graph) from its
// arguments (placeholders of the inputs' dtypes and shapes).
using BranchFn = std::function<std::vector<Output>(
    const Scope& scope, const std::vector<Output>& args)>;
// tf.cond(pred, true_fn, false_fn) with the branch arguments explicit:
// pred is a bool scalar; both branches must return as many outputs, of the
// same dtypes. The results' static shapes are what the branches agree on.
// Differentiable with respect to float `inputs` (the gradient is itself a
// cond over gradient branches).
std::vector<Output> Cond(const Scope& scope, const Input& pred,
                         const std::vector<Input>& inputs,
                         const BranchFn& then_fn, const BranchFn& else_fn);

// tf.Assert(condition, data, summarize): when run with a false condition the
// Run fails with InvalidArgument "assertion failed: [data0] [data1] ..."
// (strings as they are, other tensors formatted as Print does). Use it as a
// control dependency or a target.
Operation Assert(const Scope& scope, const Input& condition,
                 const std::vector<Input>& data, int64_t summarize = 3);

// tf.check_numerics: x unchanged, or InvalidArgument "<message> : Tensor had
// NaN values" (or "Inf values") when x holds one. Float and double.
Output CheckNumerics(const Scope& scope, const Input& x,
                     std::string_view message);

}  // namespace sluice::ops
