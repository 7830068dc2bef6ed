// MetaGraphDef and SavedModel files (meta_graph.h).

#include "graph/meta_graph.h"

#include <errno.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/checkpoint.h"
#include "graph/internal/graph_def_proto.h"
#include "graph/tf_format/proto/meta_graph.pb.h"
#include "graph/variables.h"

namespace sluice {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  return ss.str();
}

// "name:0" -> "name".
std::string NodeName(const std::string& tensor) {
  const size_t colon = tensor.rfind(':');
  return colon == std::string::npos ? tensor : tensor.substr(0, colon);
}

void AddVariableCollection(const std::vector<Variable>& vars, tensorflow::CollectionDef* c) {
  auto* list = c->mutable_bytes_list();
  for (const Variable& v : vars) {
    tensorflow::VariableDef d;
    d.set_variable_name(absl::StrCat(v.op_name(), ":0"));
    d.set_initializer_name(v.initializer().name());
    d.set_snapshot_name(absl::StrCat(v.op_name(), ":0"));
    if (v.initial_value().valid()) d.set_initial_value_name(v.initial_value().name());
    d.set_trainable(v.trainable());
    list->add_value(d.SerializeAsString());
  }
}

absl::Status ImportProto(const tensorflow::MetaGraphDef& meta, Graph* graph, const ImportGraphDefOptions& options) {
  std::vector<internal::ImportedVariableSpec> specs;
  std::set<std::string> trainable;
  auto tv = meta.collection_def().find(kTrainableVariablesKey);
  if (tv != meta.collection_def().end()) {
    for (const std::string& bytes : tv->second.bytes_list().value()) {
      tensorflow::VariableDef d;
      if (d.ParseFromString(bytes)) trainable.insert(NodeName(d.variable_name()));
    }
  }
  auto gv = meta.collection_def().find(kGlobalVariablesKey);
  if (gv != meta.collection_def().end()) {
    for (const std::string& bytes : gv->second.bytes_list().value()) {
      tensorflow::VariableDef d;
      if (!d.ParseFromString(bytes)) return absl::DataLossError("a VariableDef in collection 'variables' is corrupt");
      internal::ImportedVariableSpec s;
      s.var_node = NodeName(d.variable_name());
      s.initializer_node = NodeName(d.initializer_name());
      s.trainable = tv == meta.collection_def().end() ? true : trainable.count(s.var_node) > 0;
      specs.push_back(std::move(s));
    }
  }
  SLUICE_RETURN_IF_ERROR(internal::ImportGraphProto(meta.graph_def(), graph, options, specs));
  auto train = meta.collection_def().find(kTrainOpKey);
  if (train != meta.collection_def().end()) {
    for (const std::string& name : train->second.node_list().value()) {
      Node* n = graph->FindNode(NodeName(name));
      if (n != nullptr) graph->AddToCollection(kTrainOpKey, Operation(n));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> GraphToMetaGraphDef(const Graph& graph, const MetaGraphSaverInfo& saver) {
  tensorflow::MetaGraphDef meta;
  meta.mutable_meta_info_def()->set_meta_graph_version("sluice");
  SLUICE_RETURN_IF_ERROR(internal::GraphToProto(graph, meta.mutable_graph_def()));
  tensorflow::SaverDef* sd = meta.mutable_saver_def();
  sd->set_max_to_keep(saver.max_to_keep);
  sd->set_keep_checkpoint_every_n_hours(static_cast<float>(saver.keep_checkpoint_every_n_hours));
  sd->set_version(tensorflow::SaverDef::V2);
  auto& collections = *meta.mutable_collection_def();
  const std::vector<Variable> global = GlobalVariables(graph);
  if (!global.empty()) AddVariableCollection(global, &collections[kGlobalVariablesKey]);
  const std::vector<Variable> trainable = TrainableVariables(graph);
  if (!trainable.empty()) AddVariableCollection(trainable, &collections[kTrainableVariablesKey]);
  std::vector<std::string> train_ops;
  for (const CollectionItem& item : graph.GetCollection(kTrainOpKey)) {
    if (const Operation* op = std::get_if<Operation>(&item)) train_ops.push_back(op->name());
    if (const Output* out = std::get_if<Output>(&item)) train_ops.push_back(out->node()->name());
  }
  if (!train_ops.empty()) {
    auto* list = collections[kTrainOpKey].mutable_node_list();
    for (const std::string& n : train_ops) list->add_value(n);
  }
  return meta.SerializeAsString();
}

absl::Status WriteMetaGraph(const std::string& path, const Graph& graph, const MetaGraphSaverInfo& saver) {
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, GraphToMetaGraphDef(graph, saver));
  return WriteFileAtomically(path, bytes);
}

absl::Status ImportMetaGraphDef(std::string_view bytes, Graph* graph, const ImportGraphDefOptions& options,
                                std::string_view what) {
  tensorflow::MetaGraphDef meta;
  if (!meta.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat(Sv(what), " is not a MetaGraphDef"));
  }
  return ImportProto(meta, graph, options);
}

absl::Status ImportMetaGraph(const std::string& path, Graph* graph, const ImportGraphDefOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  return ImportMetaGraphDef(bytes, graph, options, path);
}

absl::Status ImportSavedModel(const std::string& export_dir, Graph* graph, const ImportGraphDefOptions& options) {
  const std::string path = export_dir + "/saved_model.pb";
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  tensorflow::SavedModel model;
  if (!model.ParseFromString(bytes)) return absl::DataLossError(absl::StrCat(path, " is not a SavedModel"));
  if (model.meta_graphs_size() == 0) return absl::NotFoundError(absl::StrCat(path, " holds no MetaGraphDef"));
  return ImportProto(model.meta_graphs(0), graph, options);
}

std::string SavedModelVariablesPrefix(const std::string& export_dir) { return export_dir + "/variables/variables"; }

}  // namespace sluice
