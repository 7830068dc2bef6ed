#pragma once
// Internal to the graph area: graph_def.h on protobuf messages, for the
// MetaGraphDef and SavedModel code.

#include "absl/status/status.h"
#include "graph/graph.h"
#include "graph/graph_def.h"
#include "graph/tf_format/proto/graph.pb.h"

namespace sluice::internal {

absl::Status GraphToProto(const Graph& graph, tensorflow::GraphDef* out);

// How the importer should make variables (from a MetaGraphDef's
// "variables" collection); empty: every VariableV2 node, with its
// "<name>/Assign" initializer, trainable.
struct ImportedVariableSpec {
  std::string var_node;
  std::string initializer_node;  // may be empty: found as for a GraphDef
  bool trainable = true;
};

absl::Status ImportGraphProto(const tensorflow::GraphDef& def, Graph* graph, const ImportGraphDefOptions& options,
                              const std::vector<ImportedVariableSpec>& variables = {});

}  // namespace sluice::internal
