#include "graph/kernel_registry.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"

namespace sluice {

DType KernelDType(const Node& node) {
  if (const DType* t = node.attr<DType>("T")) return *t;
  if (const DType* t = node.attr<DType>("dtype")) return *t;
  if (node.num_outputs() > 0) return node.output_dtype(0);
  if (node.num_inputs() > 0) return node.input(0).dtype();
  return DType::kFloat32;
}

void KernelRegistry::Register(KernelDef def) {
  absl::MutexLock l(&mu_);
  std::string op = def.op;
  kernels_[op].push_back(std::make_unique<KernelDef>(std::move(def)));
}

const KernelDef* KernelRegistry::Find(const Node& node, DeviceType device) const {
  const DType dt = KernelDType(node);
  absl::MutexLock l(&mu_);
  auto it = kernels_.find(node.type());
  if (it == kernels_.end()) return nullptr;
  for (const auto& k : it->second) {
    if (k->device != device) continue;
    if (k->dtypes.empty()) return k.get();
    for (DType d : k->dtypes) {
      if (d == dt) return k.get();
    }
  }
  return nullptr;
}

OpKernelContext::OpKernelContext(const Node* node, std::vector<Tensor> inputs, const Env& env)
    : node_(node),
      inputs_(std::move(inputs)),
      outputs_(node->num_outputs()),
      device_(env.device),
      resources_(env.resources),
      wait_(env.wait),
      print_(env.print),
      in_place_(env.update_variables_in_place) {}

OpKernelContext::OpKernelContext(const Node* node, std::vector<Tensor> inputs,
                                 std::vector<Tensor> outputs, const Env& env)
    : node_(node),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      device_(env.device),
      resources_(env.resources),
      wait_(env.wait),
      print_(env.print),
      in_place_(env.update_variables_in_place) {
  outputs_.clear();
  outputs_.resize(node->num_outputs());
}

void OpKernelContext::set_output(int i, Tensor t) { outputs_[i] = std::move(t); }

absl::StatusOr<std::shared_ptr<VariableState>> OpKernelContext::variable(int i) const {
  const Node* src = node_->input(i).node();
  if (!src->op_def().ref_output) {
    return absl::InvalidArgumentError(absl::StrCat("Node '", node_->name(), "': input ", i,
                                                   " must be a variable, got '", src->name(),
                                                   "' (", src->type(), ")"));
  }
  return GetVariableState(resources_, src);
}

void OpKernelContext::Print(std::string_view line) const {
  if (print_ != nullptr && *print_) {
    (*print_)(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
}

absl::StatusOr<std::shared_ptr<VariableState>> GetVariableState(ResourceMgr* resources,
                                                                const Node* var_node) {
  return resources->LookupOrCreate<VariableState>(
      var_node, []() -> absl::StatusOr<std::shared_ptr<VariableState>> {
        return std::make_shared<VariableState>();
      });
}

}  // namespace sluice
