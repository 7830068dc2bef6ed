#include "graph/gradients/gradients.h"

#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/gradient_registry.h"
#include "graph/gradients/grad_util.h"
#include "graph/gradients/helper_ops.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"

namespace sluice {
namespace {

// Sums the gradients reaching one output; invalid when none did.
Output Aggregate(const Scope& s, const std::vector<Output>& grads) {
  if (grads.empty()) return Output();
  if (grads.size() == 1) return grads[0];
  std::vector<Input> in(grads.begin(), grads.end());
  return ops::AddN(s, in);
}

}  // namespace

void RegisterStandardGradients() {
  static std::once_flag once;
  std::call_once(once, [] {
    internal::RegisterGradientHelperOps();
    GradientRegistry* r = GradientRegistry::Global();
    internal::RegisterMathGradients(r);
    internal::RegisterNnGradients(r);
    internal::RegisterArrayGradients(r);
    internal::RegisterManipGradients(r);
  });
}

absl::Status AddSymbolicGradients(const Scope& scope, const std::vector<Output>& ys,
                                  const std::vector<Output>& xs, const std::vector<Output>& grad_ys,
                                  std::vector<Output>* grads) {
  RegisterStandardGradients();
  SLUICE_RETURN_IF_ERROR(scope.status());
  Graph* graph = scope.graph();
  if (!grad_ys.empty() && grad_ys.size() != ys.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Gradients: ", grad_ys.size(), " grad_ys for ", ys.size(), " ys"));
  }
  for (const auto* list : {&ys, &xs, &grad_ys}) {
    for (const Output& o : *list) {
      if (!o.valid()) return absl::InvalidArgumentError("Gradients: an invalid Output was given");
      if (o.graph() != graph) {
        return absl::InvalidArgumentError(absl::StrCat("Gradients: ", o.name(), " belongs to graph '",
                                                       o.graph()->name(), "', not '", graph->name(), "'"));
      }
    }
  }
  // Nodes created from here on are gradient ops; only older ones matter.
  const int n = graph->num_nodes();
  std::vector<char> from_y(n, 0), from_x(n, 0);
  std::vector<Node*> stack;
  for (const Output& y : ys) stack.push_back(y.node());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (from_y[node->id()]) continue;
    from_y[node->id()] = 1;
    for (const Output& in : node->inputs()) {
      if (!from_y[in.node()->id()]) stack.push_back(in.node());
    }
  }
  int min_x = n;
  for (const Output& x : xs) {
    from_x[x.node()->id()] = 1;
    min_x = std::min(min_x, x.node()->id());
  }
  // Inputs precede their consumers, so one ascending pass finds every node
  // downstream of some x.
  for (int id = min_x; id < n; ++id) {
    if (from_x[id]) continue;
    for (const Output& in : graph->node(id)->inputs()) {
      if (from_x[in.node()->id()]) {
        from_x[id] = 1;
        break;
      }
    }
  }

  absl::flat_hash_map<Output, std::vector<Output>> pending;
  const Scope gs = scope.NewSubScope("gradients");
  for (size_t i = 0; i < ys.size(); ++i) {
    Output seed = grad_ys.empty() ? ops::OnesLike(gs, ys[i]) : grad_ys[i];
    pending[ys[i]].push_back(seed);
  }
  SLUICE_RETURN_IF_ERROR(gs.status());

  absl::flat_hash_map<Output, Output> x_grads;  // summed gradients of xs' outputs
  auto is_x = [&](const Output& o) {
    for (const Output& x : xs) {
      if (x == o) return true;
    }
    return false;
  };

  int max_y = 0;
  for (const Output& y : ys) max_y = std::max(max_y, y.node()->id());
  for (int id = max_y; id >= min_x; --id) {
    if (!from_y[id] || !from_x[id]) continue;
    Node* node = graph->node(id);
    Operation op(node);
    std::vector<Output> out_grads(node->num_outputs());
    bool any = false;
    for (int k = 0; k < node->num_outputs(); ++k) {
      auto it = pending.find(Output(node, k));
      if (it == pending.end()) continue;
      out_grads[k] = Aggregate(gs, it->second);
      any = any || out_grads[k].valid();
      if (is_x(Output(node, k))) x_grads[Output(node, k)] = out_grads[k];
    }
    SLUICE_RETURN_IF_ERROR(gs.status());
    if (!any || node->num_inputs() == 0) continue;
    // Only inputs that themselves lie between xs and ys need gradients.
    bool needed = false;
    for (const Output& in : node->inputs()) needed = needed || (from_x[in.node()->id()] != 0);
    if (!needed) continue;
    absl::StatusOr<GradFunc> fn = GradientRegistry::Global()->Lookup(node->type());
    if (!fn.ok()) {
      return absl::NotFoundError(absl::StrCat("No gradient defined for operation '", node->name(),
                                              "' (op type: ", node->type(), ")"));
    }
    const Scope os = gs.NewSubScope(absl::StrCat(node->name(), "_grad"));
    std::vector<Output> in_grads;
    absl::Status st = (*fn)(os, op, out_grads, &in_grads);
    if (st.ok()) st = os.status();
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat("gradient of ", node->name(), " (", node->type(),
                                                  "): ", st.message()));
    }
    if (static_cast<int>(in_grads.size()) != node->num_inputs()) {
      return absl::InternalError(absl::StrCat("gradient function of ", node->type(), " returned ",
                                              in_grads.size(), " gradients for ", node->num_inputs(),
                                              " inputs"));
    }
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Output& in = node->input(i);
      if (in_grads[i].valid() && from_x[in.node()->id()]) pending[in].push_back(in_grads[i]);
    }
  }

  grads->clear();
  for (const Output& x : xs) {
    auto it = x_grads.find(x);
    if (it != x_grads.end()) {
      grads->push_back(it->second);
      continue;
    }
    // An x that is also a y, or whose node was skipped (no inputs).
    auto p = pending.find(x);
    grads->push_back(p == pending.end() ? Output() : Aggregate(gs, p->second));
  }
  return gs.status();
}

absl::StatusOr<std::vector<Output>> Gradients(const Scope& scope, const std::vector<Output>& ys,
                                              const std::vector<Output>& xs,
                                              const std::vector<Output>& grad_ys) {
  std::vector<Output> grads;
  SLUICE_RETURN_IF_ERROR(AddSymbolicGradients(scope, ys, xs, grad_ys, &grads));
  return grads;
}

}  // namespace sluice
