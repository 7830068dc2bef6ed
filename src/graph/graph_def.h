#pragma once
// Graph <-> TensorFlow's GraphDef (serialized protobuf bytes).
//
//   SLUICE_ASSIGN_OR_RETURN(std::string bytes, GraphToGraphDef(g));
//   Graph g2;
//   SLUICE_RETURN_IF_ERROR(ImportGraphDef(bytes, &g2));
//   SLUICE_ASSIGN_OR_RETURN(Output y, g2.GetTensorByName("y:0"));
//
// Export writes one NodeDef per node in creation order, with the node's
// name, op, inputs ("node", "node:1", control inputs as "^node", last),
// requested device and attributes: sluice's own (already under
// TensorFlow's names: transpose_a, keep_dims, value, shape, ...) plus
// those TensorFlow derives from the inputs (T, Tidx, N, SrcT, ...; see
// internal/tf_op_table.h), so TensorBoard's graph tab and TensorFlow's
// importer read it. Ops that exist only in sluice (its gradient helpers
// "Sluice*") keep their names.
//
// Import adds every node (or, with `keep`, only what the kept nodes need)
// in dependency order. Attributes convert by their AttrValue kind; "_"
// attributes (TensorFlow's internal ones) are dropped. A VariableV2 node
// becomes a variable (GLOBAL_VARIABLES, TRAINABLE_VARIABLES) whose
// initializer is the Assign node "<name>/Assign" that writes it, so Saver
// and the initializers work on the imported graph.
//
// Errors: Unimplemented "op 'X' (node 'n') is not supported by sluice" for
// an op sluice lacks; InvalidArgument naming the node for a malformed
// node, a missing input, a cycle, or a shape function's objection;
// DataLoss for bytes that are not a GraphDef.
//
// Thread-safety: as Graph (building is serialised by the graph).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace sluice {

absl::StatusOr<std::string> GraphToGraphDef(const Graph& graph);

struct ImportGraphDefOptions {
  // Node names ("y", "y:0" and "^y" also accepted) to import with what they
  // need; empty imports every node. The Assign initializers of the kept
  // variables are kept too. Nodes nothing kept needs (a SavedModel's
  // save/restore ops, say) are skipped, so their ops need not exist.
  std::vector<std::string> keep;
  // Nodes to import as Placeholders of their output dtype (the attr
  // "dtype" or "T") instead of as themselves, cutting off their inputs: a
  // fed tensor, as a session feed would shadow it.
  std::vector<std::string> as_placeholders;
};

absl::Status ImportGraphDef(std::string_view graph_def, Graph* graph, const ImportGraphDefOptions& options = {});

}  // namespace sluice
