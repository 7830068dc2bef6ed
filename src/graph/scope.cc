#include "graph/scope.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"

namespace sluice {

struct Scope::StatusHolder {
  absl::Mutex mu;
  absl::Status status ABSL_GUARDED_BY(mu);
};

namespace {
std::string Join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, "/", Sv(name));
}
}  // namespace

Scope Scope::Root(Graph* graph) {
  Scope s;
  s.graph_ = graph;
  s.status_ = std::make_shared<StatusHolder>();
  return s;
}

absl::Status Scope::status() const {
  absl::MutexLock l(&status_->mu);
  return status_->status;
}

void Scope::UpdateStatus(const absl::Status& s) const {
  if (s.ok()) return;
  absl::MutexLock l(&status_->mu);
  if (status_->status.ok()) status_->status = s;
}

Scope Scope::NewSubScope(std::string_view name) const {
  Scope s = *this;
  s.op_name_.clear();
  s.exact_name_ = false;
  if (name.empty()) return s;
  s.name_scope_ = graph_->UniqueName(Join(name_scope_, name));
  return s;
}

Scope Scope::WithOpName(std::string_view name) const {
  Scope s = *this;
  s.op_name_ = std::string(name);
  s.exact_name_ = false;
  return s;
}

Scope Scope::WithControlDependencies(absl::Span<const Operation> ops) const {
  Scope s = *this;
  for (const Operation& op : ops) {
    if (!op.valid()) {
      UpdateStatus(absl::InvalidArgumentError("WithControlDependencies: invalid operation"));
      continue;
    }
    s.control_deps_.push_back(op.node());
  }
  return s;
}

Scope Scope::WithControlDependencies(const Output& output) const {
  return WithControlDependencies({output.op()});
}

Scope Scope::WithNoControlDependencies() const {
  Scope s = *this;
  s.control_deps_.clear();
  return s;
}

Scope Scope::WithDevice(std::string_view device) const {
  Scope s = *this;
  s.device_ = std::string(device);
  return s;
}

Scope Scope::VariableScope(std::string_view name, VariableScopeOptions options) const {
  Scope s = NewSubScope(name);
  s.var_scope_ = Join(var_scope_, name);
  if (options.initializer) s.initializer_ = std::move(options.initializer);
  if (options.reuse != VariableReuse::kInherit) s.reuse_ = options.reuse;
  return s;
}

Scope Scope::VariableScope(const Scope& captured, VariableScopeOptions options) const {
  // Ops nest under the current name scope, named after the captured
  // scope's last component; variables jump to the captured prefix.
  std::string_view last = captured.var_scope_;
  const size_t slash = last.rfind('/');
  if (slash != std::string_view::npos) last = last.substr(slash + 1);
  Scope s = NewSubScope(last);
  s.var_scope_ = captured.var_scope_;
  s.initializer_ = captured.initializer_;
  s.reuse_ = captured.reuse_;
  if (options.initializer) s.initializer_ = std::move(options.initializer);
  if (options.reuse != VariableReuse::kInherit) s.reuse_ = options.reuse;
  return s;
}

Scope Scope::WithExactOpName(std::string_view full_name) const {
  Scope s = *this;
  s.op_name_ = std::string(full_name);
  s.exact_name_ = true;
  return s;
}

Scope Scope::WithAbsoluteNameScope(std::string_view prefix) const {
  Scope s = *this;
  s.op_name_.clear();
  s.exact_name_ = false;
  s.name_scope_ = std::string(prefix);
  return s;
}

std::string Scope::GetUniqueNameForOp(std::string_view default_name) const {
  if (exact_name_) return op_name_;
  const std::string_view base = op_name_.empty() ? default_name : std::string_view(op_name_);
  return graph_->UniqueName(Join(name_scope_, base));
}

Node* Scope::AddNode(std::string_view op, std::string_view default_name,
                     std::vector<Output> inputs, AttrMap attrs) const {
  if (!ok()) return nullptr;
  NodeSpec spec;
  spec.op = std::string(op);
  spec.inputs = std::move(inputs);
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!spec.inputs[i].valid()) {
      UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat(Sv(op), ": input ", i, " is invalid (an earlier op failed)")));
      return nullptr;
    }
  }
  spec.name = GetUniqueNameForOp(default_name);
  spec.control_inputs = control_deps_;
  spec.attrs = std::move(attrs);
  spec.device = device_;
  absl::StatusOr<Node*> n = graph_->AddNode(std::move(spec));
  if (!n.ok()) {
    UpdateStatus(n.status());
    return nullptr;
  }
  return *n;
}

}  // namespace sluice
