#pragma once
// Neural-network CPU kernels (float, double): softmax, log-softmax, the
// fused softmax cross-entropy ops, bias add, and NHWC conv2d / max-pool.
// Element-wise activations (relu, sigmoid, tanh) are UnaryOp values in
// cwise_ops.h. Results are new tensors. InvalidArgument on wrong ranks,
// shapes or dtypes. Outputs must not alias inputs. Thread-safe.

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice {

// Along the last dimension, numerically stable (max subtracted).
absl::Status Softmax(const Tensor& logits, Tensor* out);
absl::Status LogSoftmax(const Tensor& logits, Tensor* out);

// logits, labels: [batch, classes]. loss: [batch]; backprop: softmax -
// labels (the gradient of loss w.r.t. logits), as TensorFlow's fused op.
absl::Status SoftmaxCrossEntropyWithLogits(const Tensor& logits, const Tensor& labels,
                                           Tensor* loss, Tensor* backprop);
// labels: [batch] int32/int64 class ids in [0, classes); an id out of range
// is InvalidArgument naming it.
absl::Status SparseSoftmaxCrossEntropyWithLogits(const Tensor& logits, const Tensor& labels,
                                                 Tensor* loss, Tensor* backprop);

// value [..., C] + bias [C].
absl::Status BiasAdd(const Tensor& value, const Tensor& bias, Tensor* out);
// Sum of `grad` over every dim but the last: the gradient of BiasAdd's bias.
absl::Status BiasAddGrad(const Tensor& grad, Tensor* out);

enum class Padding { kValid, kSame };
// "VALID" / "SAME".
absl::StatusOr<Padding> ParsePadding(std::string_view s);
// TensorFlow's output size and leading pad for one spatial dimension.
void ConvOutputSize(int64_t in, int64_t k, int64_t stride, Padding p, int64_t* out,
                    int64_t* pad_before);

// input [N,H,W,C], filter [KH,KW,C,O] -> [N,OH,OW,O]; strides (sh, sw).
absl::Status Conv2D(const Tensor& input, const Tensor& filter, int64_t stride_h,
                    int64_t stride_w, Padding padding, Tensor* out);
// Gradients of Conv2D w.r.t. its input (shape of `input_shape`) and filter.
absl::Status Conv2DBackpropInput(const TensorShape& input_shape, const Tensor& filter,
                                 const Tensor& out_backprop, int64_t stride_h, int64_t stride_w,
                                 Padding padding, Tensor* out);
absl::Status Conv2DBackpropFilter(const Tensor& input, const TensorShape& filter_shape,
                                  const Tensor& out_backprop, int64_t stride_h, int64_t stride_w,
                                  Padding padding, Tensor* out);

// input [N,H,W,C]; window (kh, kw), strides (sh, sw).
absl::Status MaxPool(const Tensor& input, int64_t kh, int64_t kw, int64_t stride_h,
                     int64_t stride_w, Padding padding, Tensor* out);
// Routes each output gradient to the input position that held the max.
absl::Status MaxPoolGrad(const Tensor& input, const Tensor& out_backprop, int64_t kh, int64_t kw,
                         int64_t stride_h, int64_t stride_w, Padding padding, Tensor* out);

}  // namespace sluice
