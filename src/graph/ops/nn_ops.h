#pragma once
// Neural-network op builders (tf.nn): activations, softmax, the four
// cross-entropy losses, dropout, bias_add, conv2d / max_pool (NHWC), and
// the gradient ops the gradient functions build (ReluGrad is in
// math_ops.h). Errors go to the scope's status.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

Output Relu(const Scope& scope, const Input& x);
Output Sigmoid(const Scope& scope, const Input& x);
Output Tanh(const Scope& scope, const Input& x);
// Along the last dimension.
Output Softmax(const Scope& scope, const Input& logits);
Output LogSoftmax(const Scope& scope, const Input& logits);

// The fused op: loss [batch] and backprop (softmax - labels) [batch, n].
struct XentOutputs {
  Output loss;
  Output backprop;
};
XentOutputs SoftmaxCrossEntropyWithLogits(const Scope& scope, const Input& labels,
                                          const Input& logits);
// labels: [batch] int32/int64 class ids.
XentOutputs SparseSoftmaxCrossEntropyWithLogits(const Scope& scope, const Input& labels,
                                                const Input& logits);
// max(x, 0) - x * z + log(1 + exp(-|x|)), element-wise (stable form).
Output SigmoidCrossEntropyWithLogits(const Scope& scope, const Input& labels, const Input& logits);
// (1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0)).
Output WeightedCrossEntropyWithLogits(const Scope& scope, const Input& labels, const Input& logits,
                                      double pos_weight);

// x * mask / keep_prob with mask ~ Bernoulli(keep_prob), drawn per run.
Output Dropout(const Scope& scope, const Input& x, const Input& keep_prob, int64_t seed = 0);

Output BiasAdd(const Scope& scope, const Input& value, const Input& bias);
Output BiasAddGrad(const Scope& scope, const Input& out_backprop);

// strides = {1, sh, sw, 1}; padding "SAME" or "VALID".
Output Conv2D(const Scope& scope, const Input& input, const Input& filter,
              const std::vector<int64_t>& strides, const std::string& padding);
Output Conv2DBackpropInput(const Scope& scope, const Input& input_sizes, const Input& filter,
                           const Input& out_backprop, const std::vector<int64_t>& strides,
                           const std::string& padding);
Output Conv2DBackpropFilter(const Scope& scope, const Input& input, const Input& filter_sizes,
                            const Input& out_backprop, const std::vector<int64_t>& strides,
                            const std::string& padding);
// ksize = {1, kh, kw, 1}.
Output MaxPool(const Scope& scope, const Input& input, const std::vector<int64_t>& ksize,
               const std::vector<int64_t>& strides, const std::string& padding);
Output MaxPoolGrad(const Scope& scope, const Input& orig_input, const Input& orig_output,
                   const Input& grad, const std::vector<int64_t>& ksize,
                   const std::vector<int64_t>& strides, const std::string& padding);

}  // namespace sluice::ops
