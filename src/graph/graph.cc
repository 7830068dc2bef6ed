#include "graph/graph.h"

#include <atomic>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/op_registry.h"

namespace sluice {

namespace {
std::string DefaultGraphName() {
  static std::atomic<int64_t> counter{0};
  return absl::StrCat("graph_", counter.fetch_add(1) + 1);
}
}  // namespace

Operation Output::op() const { return Operation(node_); }
Graph* Output::graph() const { return node_ ? node_->graph() : nullptr; }
DType Output::dtype() const { return node_->output_dtype(index_); }
const TensorShape& Output::shape() const { return node_->output_shape(index_); }
bool Output::rank_known() const { return node_->output_rank_known(index_); }
std::string Output::name() const {
  if (node_ == nullptr) return "<invalid>";
  return absl::StrCat(node_->name(), ":", index_);
}

const std::string& Operation::name() const { return node_->name(); }
const std::string& Operation::type() const { return node_->type(); }
Graph* Operation::graph() const { return node_->graph(); }
int Operation::num_inputs() const { return node_->num_inputs(); }
Output Operation::input(int i) const { return node_->input(i); }
int Operation::num_outputs() const { return node_->num_outputs(); }

absl::Status Node::MissingAttr(std::string_view name) const {
  return absl::InvalidArgumentError(
      absl::StrCat("Node '", name_, "' (", type_, ") has no attribute '", Sv(name),
                   "' of the expected type"));
}

Graph::Graph(std::string name) : name_(name.empty() ? DefaultGraphName() : std::move(name)) {}
Graph::~Graph() = default;

absl::StatusOr<Node*> Graph::AddNode(NodeSpec spec) {
  const OpDef* def = OpRegistry::Global()->Find(spec.op);
  if (def == nullptr) {
    return absl::NotFoundError(absl::StrCat("Op type not registered '", spec.op, "' (node '",
                                            spec.name, "')"));
  }
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const Output& in = spec.inputs[i];
    if (!in.valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Node '", spec.name, "': input ", i, " is invalid (an earlier op failed)"));
    }
    if (in.graph() != this) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot connect nodes of different graphs: input ", i, " '", in.name(), "' of '",
          spec.name, "' (", spec.op, ") belongs to graph '", in.graph()->name(),
          "', but the node is being added to graph '", name_, "'"));
    }
    if (in.index() < 0 || in.index() >= in.node()->num_outputs()) {
      return absl::InvalidArgumentError(absl::StrCat("Node '", spec.name, "': input ", i,
                                                     " refers to a missing output ", in.name()));
    }
  }
  for (Node* c : spec.control_inputs) {
    if (c == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Node '", spec.name, "': invalid control input"));
    }
    if (c->graph() != this) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot connect nodes of different graphs: control input '", c->name(), "' of '",
          spec.name, "' belongs to graph '", c->graph()->name(),
          "', but the node is being added to graph '", name_, "'"));
    }
  }
  InferenceContext ctx(spec.name, spec.inputs, spec.attrs);
  if (def->shape_fn) {
    absl::Status s = def->shape_fn(&ctx);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("Node '", spec.name, "' (", spec.op,
                                                 "): ", s.message()));
    }
  }
  auto node = std::unique_ptr<Node>(new Node());
  node->name_ = std::move(spec.name);
  node->type_ = std::move(spec.op);
  node->graph_ = this;
  node->op_def_ = def;
  node->inputs_ = std::move(spec.inputs);
  // Deduplicated, order kept: a control input listed twice waits once.
  for (Node* c : spec.control_inputs) {
    bool dup = false;
    for (Node* d : node->control_inputs_) dup = dup || d == c;
    if (!dup) node->control_inputs_.push_back(c);
  }
  node->output_dtypes_ = ctx.output_dtypes();
  node->output_shapes_ = ctx.output_shapes();
  node->output_rank_known_ = ctx.output_rank_known();
  node->device_ = std::move(spec.device);
  node->attrs_ = std::move(spec.attrs);
  absl::MutexLock l(&mu_);
  if (by_name_.contains(node->name_)) {
    return absl::InvalidArgumentError(absl::StrCat("Duplicate node name in graph '", name_,
                                                   "': '", node->name_, "'"));
  }
  node->id_ = static_cast<int>(nodes_.size());
  Node* raw = node.get();
  used_names_.insert(raw->name_);
  by_name_[raw->name_] = raw;
  nodes_.push_back(std::move(node));
  return raw;
}

std::string Graph::UniqueName(std::string_view name) {
  absl::MutexLock l(&mu_);
  std::string base(name);
  if (!used_names_.contains(base)) {
    used_names_.insert(base);
    return base;
  }
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(base, "_", i);
    if (!used_names_.contains(candidate)) {
      used_names_.insert(candidate);
      return candidate;
    }
  }
}

bool Graph::IsNameUsed(std::string_view name) const {
  absl::MutexLock l(&mu_);
  return used_names_.contains(std::string(name));
}

Node* Graph::FindNode(std::string_view name) const {
  absl::MutexLock l(&mu_);
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<Output> Graph::GetTensorByName(std::string_view name) const {
  std::string_view node_name = name;
  int index = 0;
  const size_t colon = name.rfind(':');
  if (colon != std::string_view::npos) {
    node_name = name.substr(0, colon);
    if (!absl::SimpleAtoi(Sv(name.substr(colon + 1)), &index)) {
      return absl::InvalidArgumentError(absl::StrCat("Bad tensor name '", Sv(name), "'"));
    }
  }
  Node* n = FindNode(node_name);
  if (n == nullptr || index < 0 || index >= n->num_outputs()) {
    return absl::NotFoundError(absl::StrCat("The name '", Sv(name),
                                            "' refers to a Tensor which does not exist in graph '",
                                            name_, "'"));
  }
  return Output(n, index);
}

int Graph::num_nodes() const {
  absl::MutexLock l(&mu_);
  return static_cast<int>(nodes_.size());
}

Node* Graph::node(int id) const {
  absl::MutexLock l(&mu_);
  return id >= 0 && id < static_cast<int>(nodes_.size()) ? nodes_[id].get() : nullptr;
}

const VariableRecord* Graph::AddVariable(VariableRecord r) {
  absl::MutexLock l(&mu_);
  variables_.push_back(std::move(r));
  const VariableRecord* rec = &variables_.back();
  variables_by_name_[rec->name] = rec;
  return rec;
}

const VariableRecord* Graph::FindVariable(std::string_view name) const {
  absl::MutexLock l(&mu_);
  auto it = variables_by_name_.find(std::string(name));
  return it == variables_by_name_.end() ? nullptr : it->second;
}

void Graph::AddToCollection(std::string_view key, CollectionItem item) {
  absl::MutexLock l(&mu_);
  auto it = collections_.find(key);
  if (it == collections_.end()) it = collections_.emplace(std::string(key), std::vector<CollectionItem>{}).first;
  it->second.push_back(std::move(item));
}

std::vector<CollectionItem> Graph::GetCollection(std::string_view key) const {
  absl::MutexLock l(&mu_);
  auto it = collections_.find(key);
  return it == collections_.end() ? std::vector<CollectionItem>{} : it->second;
}

std::vector<std::string> Graph::CollectionKeys() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> keys;
  for (const auto& [k, v] : collections_) keys.push_back(k);
  return keys;
}

void Graph::set_seed(std::optional<int64_t> seed) {
  absl::MutexLock l(&mu_);
  seed_ = seed;
}

std::optional<int64_t> Graph::seed() const {
  absl::MutexLock l(&mu_);
  return seed_;
}

int64_t Graph::NextOpSeed() {
  absl::MutexLock l(&mu_);
  return ++op_seed_counter_;
}

}  // namespace sluice
