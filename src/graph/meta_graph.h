#pragma once
// MetaGraphDef and SavedModel files (TensorFlow's meta_graph.proto).
//
//   Saver::Save(..., write_meta_graph=true) writes PREFIX.meta with
//   WriteMetaGraph; a new program rebuilds the graph with ImportMetaGraph,
//   restores the variables with Saver(GlobalVariables(g)), and feeds and
//   fetches by name (g.GetTensorByName("y:0")) -- tf.train.import_meta_graph.
//
// A MetaGraphDef written here holds meta_info_def (meta_graph_version
// "sluice"), graph_def (graph_def.h), saver_def (max_to_keep,
// keep_checkpoint_every_n_hours, version V2; sluice's graphs have no
// save/restore ops, so the tensor and op names are empty) and the
// collections "variables" and "trainable_variables" (VariableDef bytes:
// variable, initializer, snapshot and initial value names) and "train_op"
// (node names). Other collections are not written.
//
// Import rebuilds the graph, the variables (from the "variables" and
// "trainable_variables" collections when present) and the "train_op"
// collection. Errors as graph_def.h; NotFound / the errno mapping for
// files; DataLoss naming the file for bytes that do not parse.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/graph_def.h"

namespace sluice {

struct MetaGraphSaverInfo {
  int max_to_keep = 5;
  double keep_checkpoint_every_n_hours = 10000.0;
};

// The serialized MetaGraphDef of `graph`.
absl::StatusOr<std::string> GraphToMetaGraphDef(const Graph& graph, const MetaGraphSaverInfo& saver = {});
// Writes it to `path` atomically.
absl::Status WriteMetaGraph(const std::string& path, const Graph& graph, const MetaGraphSaverInfo& saver = {});

// Rebuilds the graph stored at `path` (a .meta file) into `graph` (usually
// empty). `options` as for ImportGraphDef.
absl::Status ImportMetaGraph(const std::string& path, Graph* graph, const ImportGraphDefOptions& options = {});
absl::Status ImportMetaGraphDef(std::string_view meta_graph_def, Graph* graph,
                                const ImportGraphDefOptions& options = {}, std::string_view what = "MetaGraphDef");

// EXPORT_DIR/saved_model.pb's first MetaGraphDef (the "serve" graph of TF
// Serving's models), imported like ImportMetaGraph; prune with
// options.keep to the outputs needed, so that the SavedModel's own save and
// restore ops (SaveV2, RestoreV2, ...) are skipped. Restore the variables
// from SavedModelVariablesPrefix(export_dir) with a Saver.
absl::Status ImportSavedModel(const std::string& export_dir, Graph* graph, const ImportGraphDefOptions& options = {});
std::string SavedModelVariablesPrefix(const std::string& export_dir);

}  // namespace sluice
