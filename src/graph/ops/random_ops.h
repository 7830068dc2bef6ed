#pragma once
// Random op builders (float, double). Each node owns a generator in the
// session: successive runs draw successive values. Seeds follow
// TensorFlow's rule: with a graph seed (Graph::set_seed) or an op seed the
// sequence is reproducible across sessions and processes; with neither it
// is fresh each session.

#include <cstdint>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

struct RandomOptions {
  DType dtype = DType::kFloat32;
  int64_t seed = 0;  // 0: none
};

// `shape` is a literal shape ({2, 3}) or an int32 Output (ops::Shape(x)).
Output RandomNormal(const Scope& scope, const Input& shape, double mean = 0.0, double stddev = 1.0,
                    RandomOptions options = {});
Output TruncatedNormal(const Scope& scope, const Input& shape, double mean = 0.0,
                       double stddev = 1.0, RandomOptions options = {});
Output RandomUniform(const Scope& scope, const Input& shape, double minval = 0.0,
                     double maxval = 1.0, RandomOptions options = {});

// tf.random.shuffle: a permutation of x's rows (dim 0), fresh each run.
Output RandomShuffle(const Scope& scope, const Input& x, int64_t seed = 0);

}  // namespace sluice::ops
