#pragma once
// Internal to the graph area: how each sluice op appears in a TensorFlow
// GraphDef. sluice nodes already carry most of TensorFlow's attributes
// under TensorFlow's names (transpose_a, keep_dims, dtype, value, ...);
// this table adds the ones TensorFlow requires that sluice derives from
// its inputs instead (T, Tidx, N, SrcT, ...), and renames ops whose sluice
// name differs. Every op sluice registers has a row (a test checks this):
// an op added later gets its GraphDef form by adding its row to
// tf_format/tf_op_table.cc.
//
// Export adds the derived attributes; import keeps them (sluice's kernels
// ignore attributes they do not read) and drops TensorFlow's internal "_"
// attributes.

#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace sluice::internal {

// An attribute computed from the node on export.
struct DerivedAttr {
  enum Kind {
    kInputDType,   // the dtype of input `index` (negative: from the end)
    kOutputDType,  // the dtype of output `index`
    kNumInputs,    // the number of inputs plus `index`
    kConstant,     // `value`
  };
  std::string name;
  Kind kind = kInputDType;
  int index = 0;
  AttrValue value;
};

struct TfOpInfo {
  std::string tf_op;  // TensorFlow's op name (empty: the same as sluice's)
  std::vector<DerivedAttr> derived;
};

// The row for a sluice op; null when it has none.
const TfOpInfo* FindTfOp(std::string_view sluice_op);
// The sluice op for a TensorFlow op name (itself when no row renames it).
std::string SluiceOpForTfOp(std::string_view tf_op);
// Every sluice op with a row.
std::vector<std::string> TfOpTableOps();

}  // namespace sluice::internal
