#pragma once
// tf.io.parse_example / parse_single_example / decode_raw as graph nodes,
// over readers/parse_example.h and readers/decode_raw.h (same semantics and
// status codes). With these and the queue ops a training graph can start
// from serialized records: parse -> decode -> reshape -> cast ->
// shuffle_batch, as the seed's programs do.

#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "readers/parse_example.h"

namespace sluice::ops {

struct SparseOutputs {
  Output indices;      // int64 [N, 2]
  Output values;       // [N]
  Output dense_shape;  // int64 [2]
};

struct ParsedFeatures {
  std::vector<Output> dense;          // in `dense` order, [batch] + shape
  std::vector<SparseOutputs> sparse;  // in `sparse` order
};

// serialized: string [batch].
ParsedFeatures ParseExample(const Scope& scope, const Input& serialized,
                            const std::vector<FixedLenFeature>& dense,
                            const std::vector<VarLenFeature>& sparse = {});
// serialized: a string scalar; dense outputs have the feature's own shape.
std::vector<Output> ParseSingleExample(const Scope& scope, const Input& serialized,
                                       const std::vector<FixedLenFeature>& dense);
// bytes: string tensor; out: bytes.shape + [n] of `out_type`.
Output DecodeRaw(const Scope& scope, const Input& bytes, DType out_type, bool little_endian = true);

}  // namespace sluice::ops
