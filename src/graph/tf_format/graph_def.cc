// Graph <-> GraphDef (graph_def.h, internal/graph_def_proto.h).

#include <deque>
#include <map>
#include <set>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/internal/graph_def_proto.h"
#include "graph/internal/tf_op_table.h"
#include "graph/internal/tf_types.h"
#include "graph/op_registry.h"

namespace sluice {
namespace internal {
namespace {

// TensorFlow 1.x's GraphDef producer version of the ops sluice writes.
constexpr int kGraphDefProducer = 26;

template <class>
inline constexpr bool kAlwaysFalse = false;

absl::Status ToAttrValue(const AttrValue& v, tensorflow::AttrValue* out, std::string_view what) {
  out->Clear();
  return std::visit(
      [&](const auto& x) -> absl::Status {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, int64_t>) {
          out->set_i(x);
        } else if constexpr (std::is_same_v<X, double>) {
          out->set_f(static_cast<float>(x));
        } else if constexpr (std::is_same_v<X, bool>) {
          out->set_b(x);
        } else if constexpr (std::is_same_v<X, std::string>) {
          out->set_s(x);
        } else if constexpr (std::is_same_v<X, DType>) {
          out->set_type(ToTfDataType(x));
        } else if constexpr (std::is_same_v<X, TensorShape>) {
          ToTfShape(x, out->mutable_shape());
        } else if constexpr (std::is_same_v<X, Tensor>) {
          ToTensorProto(x, out->mutable_tensor());
        } else if constexpr (std::is_same_v<X, std::vector<int64_t>>) {
          auto* list = out->mutable_list();
          for (int64_t i : x) list->add_i(i);
        } else if constexpr (std::is_same_v<X, std::vector<DType>>) {
          auto* list = out->mutable_list();
          for (DType d : x) list->add_type(ToTfDataType(d));
        } else if constexpr (std::is_same_v<X, std::vector<TensorShape>>) {
          auto* list = out->mutable_list();
          for (const TensorShape& s : x) ToTfShape(s, list->add_shape());
        } else if constexpr (std::is_same_v<X, std::vector<std::string>>) {
          auto* list = out->mutable_list();
          for (const std::string& s : x) list->add_s(s);
        } else {
          return absl::UnimplementedError(absl::StrCat("GraphDef export: ", Sv(what), " has an attribute kind "
                                                       "with no AttrValue form"));
        }
        return absl::OkStatus();
      },
      v);
}

// Lists TensorFlow leaves empty carry no element kind; TensorFlow's names
// tell shape lists and type lists apart.
bool NamesShapeList(std::string_view attr) { return attr.find("shapes") != std::string_view::npos; }
bool NamesTypeList(std::string_view attr) {
  return attr == "component_types" || attr == "dtypes" || attr == "Tdense" || attr == "sparse_types" ||
         attr == "Tcomponents" || attr == "output_types";
}

// nullopt: leave the attribute out (a shape of unknown rank, sluice's way
// of saying "no shape").
absl::StatusOr<std::optional<AttrValue>> FromAttrValue(const tensorflow::AttrValue& v, std::string_view attr,
                                                       std::string_view node) {
  const std::string what = absl::StrCat("node '", Sv(node), "' attr '", Sv(attr), "'");
  switch (v.value_case()) {
    case tensorflow::AttrValue::kS: return AttrValue(v.s());
    case tensorflow::AttrValue::kI: return AttrValue(static_cast<int64_t>(v.i()));
    case tensorflow::AttrValue::kF: return AttrValue(static_cast<double>(v.f()));
    case tensorflow::AttrValue::kB: return AttrValue(v.b());
    case tensorflow::AttrValue::kType: {
      SLUICE_ASSIGN_OR_RETURN(DType d, FromTfDataType(v.type(), what));
      return AttrValue(d);
    }
    case tensorflow::AttrValue::kShape: {
      bool rank_known = true;
      SLUICE_ASSIGN_OR_RETURN(TensorShape s, FromTfShape(v.shape(), what, &rank_known));
      if (!rank_known) return std::optional<AttrValue>();
      return AttrValue(s);
    }
    case tensorflow::AttrValue::kTensor: {
      SLUICE_ASSIGN_OR_RETURN(Tensor t, FromTensorProto(v.tensor(), what));
      return AttrValue(std::move(t));
    }
    case tensorflow::AttrValue::kList: {
      const auto& l = v.list();
      if (l.f_size() > 0 || l.b_size() > 0 || l.tensor_size() > 0 || l.func_size() > 0) {
        return absl::UnimplementedError(absl::StrCat(what, ": sluice has no attribute of this list kind"));
      }
      if (l.s_size() > 0) return AttrValue(std::vector<std::string>(l.s().begin(), l.s().end()));
      if (l.type_size() > 0 || NamesTypeList(attr)) {
        std::vector<DType> out;
        for (int t : l.type()) {
          SLUICE_ASSIGN_OR_RETURN(DType d, FromTfDataType(t, what));
          out.push_back(d);
        }
        return AttrValue(std::move(out));
      }
      if (l.shape_size() > 0 || NamesShapeList(attr)) {
        std::vector<TensorShape> out;
        for (const auto& s : l.shape()) {
          SLUICE_ASSIGN_OR_RETURN(TensorShape shape, FromTfShape(s, what));
          out.push_back(shape);
        }
        return AttrValue(std::move(out));
      }
      return AttrValue(std::vector<int64_t>(l.i().begin(), l.i().end()));
    }
    default:
      return absl::UnimplementedError(absl::StrCat(what, ": functions and placeholders are not supported"));
  }
}

std::string InputName(const Output& o) {
  return o.index() == 0 ? o.node()->name() : absl::StrCat(o.node()->name(), ":", o.index());
}

absl::Status AddDerived(const Node& n, const DerivedAttr& d, tensorflow::NodeDef* nd) {
  if (nd->attr().count(d.name) > 0) return absl::OkStatus();  // sluice set it itself
  tensorflow::AttrValue& v = (*nd->mutable_attr())[d.name];
  switch (d.kind) {
    case DerivedAttr::kInputDType: {
      const int i = d.index < 0 ? n.num_inputs() + d.index : d.index;
      if (i < 0 || i >= n.num_inputs()) {
        nd->mutable_attr()->erase(d.name);
        return absl::OkStatus();
      }
      v.set_type(ToTfDataType(n.input(i).dtype()));
      return absl::OkStatus();
    }
    case DerivedAttr::kOutputDType:
      if (d.index >= n.num_outputs()) {
        nd->mutable_attr()->erase(d.name);
        return absl::OkStatus();
      }
      v.set_type(ToTfDataType(n.output_dtype(d.index)));
      return absl::OkStatus();
    case DerivedAttr::kNumInputs: v.set_i(n.num_inputs() + d.index); return absl::OkStatus();
    case DerivedAttr::kConstant: return ToAttrValue(d.value, &v, n.name());
  }
  return absl::OkStatus();
}

// "name", "name:3", "^name" -> (name, index; -1 for a control input).
bool ParseInput(std::string_view s, std::string* node, int* index) {
  if (!s.empty() && s[0] == '^') {
    *node = std::string(s.substr(1));
    *index = -1;
    return !node->empty();
  }
  const size_t colon = s.rfind(':');
  *index = 0;
  if (colon != std::string_view::npos) {
    if (!absl::SimpleAtoi(Sv(s.substr(colon + 1)), index) || *index < 0) return false;
    s = s.substr(0, colon);
  }
  *node = std::string(s);
  return !node->empty();
}

std::string NodeNameOf(std::string_view s) {
  std::string node;
  int index;
  return ParseInput(s, &node, &index) ? node : std::string(s);
}

absl::StatusOr<NodeSpec> PlaceholderFor(const tensorflow::NodeDef& nd) {
  NodeSpec spec;
  spec.op = "Placeholder";
  spec.name = nd.name();
  const std::string what = absl::StrCat("node '", nd.name(), "'");
  const tensorflow::AttrValue* t = nullptr;
  for (const char* k : {"dtype", "T"}) {
    auto it = nd.attr().find(k);
    if (it != nd.attr().end() && it->second.value_case() == tensorflow::AttrValue::kType) t = &it->second;
    if (t != nullptr) break;
  }
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " has no dtype or T attr to feed"));
  SLUICE_ASSIGN_OR_RETURN(DType d, FromTfDataType(t->type(), what));
  spec.attrs["dtype"] = d;
  auto shapes = nd.attr().find("_output_shapes");
  if (shapes != nd.attr().end() && shapes->second.list().shape_size() > 0) {
    bool rank_known = true;
    SLUICE_ASSIGN_OR_RETURN(TensorShape s, FromTfShape(shapes->second.list().shape(0), what, &rank_known));
    if (rank_known) spec.attrs["shape"] = s;
  }
  return spec;
}

}  // namespace

absl::Status GraphToProto(const Graph& graph, tensorflow::GraphDef* out) {
  out->Clear();
  out->mutable_versions()->set_producer(kGraphDefProducer);
  const int n_nodes = graph.num_nodes();
  for (int id = 0; id < n_nodes; ++id) {
    const Node* n = graph.node(id);
    tensorflow::NodeDef* nd = out->add_node();
    nd->set_name(n->name());
    const TfOpInfo* info = FindTfOp(n->type());
    nd->set_op(info != nullptr && !info->tf_op.empty() ? info->tf_op : n->type());
    for (const Output& in : n->inputs()) nd->add_input(InputName(in));
    for (const Node* c : n->control_inputs()) nd->add_input(absl::StrCat("^", c->name()));
    nd->set_device(n->requested_device());
    for (const auto& [name, value] : n->attrs()) {
      SLUICE_RETURN_IF_ERROR(ToAttrValue(value, &(*nd->mutable_attr())[name], n->name()));
    }
    if (info != nullptr) {
      for (const DerivedAttr& d : info->derived) SLUICE_RETURN_IF_ERROR(AddDerived(*n, d, nd));
    }
    if ((n->type() == "Placeholder" || n->type() == "PlaceholderWithDefault") && nd->attr().count("shape") == 0) {
      (*nd->mutable_attr())["shape"].mutable_shape()->set_unknown_rank(true);
    }
  }
  return absl::OkStatus();
}

absl::Status ImportGraphProto(const tensorflow::GraphDef& def, Graph* graph, const ImportGraphDefOptions& options,
                              const std::vector<ImportedVariableSpec>& variables) {
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < def.node_size(); ++i) {
    if (!index.emplace(def.node(i).name(), i).second) {
      return absl::InvalidArgumentError(absl::StrCat("GraphDef: two nodes are named '", def.node(i).name(), "'"));
    }
  }
  const absl::flat_hash_set<std::string> as_placeholder(options.as_placeholders.begin(),
                                                        options.as_placeholders.end());
  for (const std::string& p : as_placeholder) {
    if (!index.contains(p)) return absl::NotFoundError(absl::StrCat("GraphDef has no node '", p, "' to feed"));
  }
  // Parsed inputs of every node: (producer index, output index or -1).
  std::vector<std::vector<std::pair<int, int>>> inputs(def.node_size());
  for (int i = 0; i < def.node_size(); ++i) {
    if (as_placeholder.contains(def.node(i).name())) continue;
    for (const std::string& in : def.node(i).input()) {
      std::string name;
      int out_index;
      if (!ParseInput(in, &name, &out_index)) {
        return absl::InvalidArgumentError(
            absl::StrCat("node '", def.node(i).name(), "' has a malformed input '", in, "'"));
      }
      auto it = index.find(name);
      if (it == index.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("node '", def.node(i).name(), "' has input '", in, "' which is not in the GraphDef"));
      }
      inputs[i].emplace_back(it->second, out_index);
    }
  }
  // Variables: their initializers.
  std::map<std::string, ImportedVariableSpec> var_specs;
  for (const ImportedVariableSpec& v : variables) var_specs[v.var_node] = v;
  auto initializer_of = [&](int var) -> int {
    const std::string& name = def.node(var).name();
    auto spec = var_specs.find(name);
    if (spec != var_specs.end() && !spec->second.initializer_node.empty()) {
      auto it = index.find(spec->second.initializer_node);
      return it == index.end() ? -1 : it->second;
    }
    auto it = index.find(name + "/Assign");
    if (it == index.end() || inputs[it->second].empty() || inputs[it->second][0].first != var) return -1;
    return it->second;
  };

  // What to import: everything, or what the kept nodes need.
  std::vector<bool> keep(def.node_size(), options.keep.empty());
  if (!options.keep.empty()) {
    std::deque<int> todo;
    auto mark = [&](int i) {
      if (!keep[i]) {
        keep[i] = true;
        todo.push_back(i);
      }
    };
    for (const std::string& k : options.keep) {
      auto it = index.find(NodeNameOf(k));
      if (it == index.end()) return absl::NotFoundError(absl::StrCat("GraphDef has no node '", k, "' to keep"));
      mark(it->second);
    }
    while (!todo.empty()) {
      const int i = todo.front();
      todo.pop_front();
      for (const auto& [producer, out] : inputs[i]) mark(producer);
      if (def.node(i).op() == "VariableV2" && !as_placeholder.contains(def.node(i).name())) {
        const int init = initializer_of(i);
        if (init >= 0) mark(init);
      }
    }
  }

  // Dependency order: GraphDef order, each node after its inputs (a
  // depth-first walk, so an already ordered GraphDef keeps its order).
  std::vector<int> order;
  {
    std::vector<int> state(def.node_size(), 0);  // 0 new, 1 on the stack, 2 done
    for (int root = 0; root < def.node_size(); ++root) {
      if (!keep[root] || state[root] != 0) continue;
      std::vector<std::pair<int, size_t>> stack = {{root, 0}};
      state[root] = 1;
      while (!stack.empty()) {
        auto& [i, next] = stack.back();
        if (next < inputs[i].size()) {
          const int p = inputs[i][next++].first;
          if (state[p] == 1) {
            return absl::InvalidArgumentError(absl::StrCat("GraphDef has a cycle through node '",
                                                           def.node(p).name(), "' (control flow is not supported)"));
          }
          if (state[p] == 0) {
            state[p] = 1;
            stack.emplace_back(p, 0);
          }
          continue;
        }
        state[i] = 2;
        order.push_back(i);
        stack.pop_back();
      }
    }
  }
  std::vector<Node*> made(def.node_size(), nullptr);
  for (const int i : order) {
    const tensorflow::NodeDef& nd = def.node(i);
    NodeSpec spec;
    if (as_placeholder.contains(nd.name())) {
      SLUICE_ASSIGN_OR_RETURN(spec, PlaceholderFor(nd));
    } else {
      spec.op = SluiceOpForTfOp(nd.op());
      if (OpRegistry::Global()->Find(spec.op) == nullptr) {
        return absl::UnimplementedError(
            absl::StrCat("op '", nd.op(), "' (node '", nd.name(), "') is not supported by sluice"));
      }
      spec.name = nd.name();
      for (const auto& [producer, out] : inputs[i]) {
        Node* p = made[producer];
        if (out < 0) {
          spec.control_inputs.push_back(p);
          continue;
        }
        if (out >= p->num_outputs()) {
          return absl::InvalidArgumentError(absl::StrCat("node '", nd.name(), "' reads output ", out, " of '",
                                                         p->name(), "', which has ", p->num_outputs()));
        }
        spec.inputs.emplace_back(p, out);
      }
      for (const auto& [name, value] : nd.attr()) {
        if (!name.empty() && name[0] == '_') continue;
        SLUICE_ASSIGN_OR_RETURN(std::optional<AttrValue> v, FromAttrValue(value, name, nd.name()));
        if (v.has_value()) spec.attrs[name] = std::move(*v);
      }
    }
    spec.device = nd.device();
    absl::StatusOr<Node*> node = graph->AddNode(std::move(spec));
    if (!node.ok()) {
      return absl::Status(node.status().code(),
                          absl::StrCat("importing node '", nd.name(), "': ", node.status().message()));
    }
    made[i] = *node;
  }

  // Variables.
  for (int i = 0; i < def.node_size(); ++i) {
    if (made[i] == nullptr || made[i]->type() != "VariableV2") continue;
    Node* var = made[i];
    const int init = initializer_of(i);
    if (init < 0 || made[init] == nullptr || made[init]->num_inputs() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("variable '", var->name(), "' has no Assign initializer in the GraphDef"));
    }
    VariableRecord r;
    r.name = var->name();
    r.var = var;
    r.initializer = made[init];
    r.initial_value = made[init]->input(1);
    r.dtype = var->output_dtype(0);
    const TensorShape* shape = var->attr<TensorShape>("shape");
    r.validate_shape = shape != nullptr;
    if (shape != nullptr) r.shape = *shape;
    auto spec = var_specs.find(var->name());
    r.trainable = spec == var_specs.end() ? true : spec->second.trainable;
    const VariableRecord* rec = graph->AddVariable(std::move(r));
    graph->AddToCollection(kGlobalVariablesKey, rec);
    if (rec->trainable) graph->AddToCollection(kTrainableVariablesKey, rec);
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<std::string> GraphToGraphDef(const Graph& graph) {
  tensorflow::GraphDef def;
  SLUICE_RETURN_IF_ERROR(internal::GraphToProto(graph, &def));
  return def.SerializeAsString();
}

absl::Status ImportGraphDef(std::string_view graph_def, Graph* graph, const ImportGraphDefOptions& options) {
  tensorflow::GraphDef def;
  if (!def.ParseFromArray(graph_def.data(), static_cast<int>(graph_def.size()))) {
    return absl::DataLossError("the bytes are not a GraphDef");
  }
  return internal::ImportGraphProto(def, graph, options);
}

}  // namespace sluice
