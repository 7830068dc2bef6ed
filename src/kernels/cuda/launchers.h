#pragma once
// Launchers of the CUDA kernels in gpu_kernels.cu. Plain C++ over raw
// device pointers (no absl, no Eigen) so that nvcc compiles only this
// surface; gpu_ops.cc turns their cudaError_t into Status naming the op.
// Every launcher queues work on `stream` and returns the launch error.
// Shapes are row-major; NHWC for images and HWIO for conv filters.

#include <cuda_runtime.h>

#include <cstdint>

namespace sluice::cuda {

enum class BinaryOp : int { kAdd, kSub, kMul, kDiv, kMax, kMin, kSquaredDifference };
enum class UnaryOp : int { kSqrt, kRsqrt, kSquare, kNeg };
enum class ElemType : int { kFloat32, kFloat64, kInt32, kInt64, kUInt8, kBool };

// Broadcasting over up to 4 dims: out_dims, and for each operand the
// element stride per dim (0 where it broadcasts).
struct Broadcast4 {
  int64_t out_dims[4];
  int64_t a_strides[4];
  int64_t b_strides[4];
};

cudaError_t LaunchBinary(BinaryOp op, const float* a, const float* b, float* out, int64_t n,
                         const Broadcast4& bc, cudaStream_t s);
cudaError_t LaunchCast(ElemType from, const void* in, ElemType to, void* out, int64_t n,
                       cudaStream_t s);
cudaError_t LaunchFill(float* out, float value, int64_t n, cudaStream_t s);
cudaError_t LaunchUnary(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t s);
cudaError_t LaunchRelu(const float* x, float* y, int64_t n, cudaStream_t s);
cudaError_t LaunchReluGrad(const float* grad, const float* features, float* out, int64_t n,
                           cudaStream_t s);
cudaError_t LaunchBiasAdd(const float* x, const float* bias, float* y, int64_t rows, int64_t cols,
                          cudaStream_t s);
// out[c] = sum over rows of g[r, c].
cudaError_t LaunchBiasAddGrad(const float* g, float* out, int64_t rows, int64_t cols,
                              cudaStream_t s);
// out[o, i] = scale * sum_r x[o, r, i].
cudaError_t LaunchReduceSum(const float* x, float* out, int64_t outer, int64_t reduce,
                            int64_t inner, float scale, cudaStream_t s);
// out[o, r, i] = scale * g[o, i].
cudaError_t LaunchBroadcastReduced(const float* g, float* out, int64_t outer, int64_t reduce,
                                   int64_t inner, float scale, cudaStream_t s);
// Row-wise softmax / log-softmax over the last dim.
cudaError_t LaunchSoftmax(const float* x, float* y, int64_t rows, int64_t cols, bool log,
                          cudaStream_t s);
// loss[r] = logsumexp(x[r]) - x[r, label]; backprop = softmax - onehot.
// A label outside [0, cols) gives NaN for its row (TensorFlow's GPU rule).
cudaError_t LaunchSparseXent(const float* logits, const void* labels, bool labels_int64,
                             float* loss, float* backprop, int64_t rows, int64_t cols,
                             cudaStream_t s);
// out[o, i] = argmax_r x[o, r, i].
cudaError_t LaunchArgMax(const float* x, int64_t* out, int64_t outer, int64_t reduce,
                         int64_t inner, cudaStream_t s);
// The scalar hyper-parameters come from the host value, or, when the
// matching *_dev pointer is not null, from that device scalar (read by the
// kernel: a device-computed learning rate needs no host round trip).
cudaError_t LaunchMomentum(const float* w, const float* accum, const float* grad, float* new_w,
                           float* new_accum, float lr, float momentum, bool nesterov, int64_t n,
                           cudaStream_t s, const float* lr_dev = nullptr,
                           const float* momentum_dev = nullptr);
cudaError_t LaunchGradientDescent(const float* w, const float* delta, float* new_w, float alpha,
                                  int64_t n, cudaStream_t s, const float* alpha_dev = nullptr);

struct ConvGeometry {
  int64_t n, h, w, c;      // input
  int64_t kh, kw, oc;      // filter
  int64_t oh, ow;          // output
  int64_t sh, sw;          // strides
  int64_t pad_t, pad_l;    // leading padding
};
// The patch matrix of a convolution, [n*oh*ow, kh*kw*c] (a GEMM with the
// HWIO filter as [kh*kw*c, oc] gives the output), and its adjoint, which
// sums a patch-matrix gradient back into dx [n, h, w, c].
cudaError_t LaunchIm2Col(const float* x, float* col, const ConvGeometry& g, cudaStream_t s);
cudaError_t LaunchCol2Im(const float* col, float* dx, const ConvGeometry& g, cudaStream_t s);
// Max pooling uses ConvGeometry with oc = c (channels pass through).
cudaError_t LaunchMaxPool(const float* x, float* y, const ConvGeometry& g, cudaStream_t s);
// dx[i] = sum of dy over the windows whose max is element i (first max in
// window order wins, as the CPU kernel); deterministic (a gather).
cudaError_t LaunchMaxPoolGrad(const float* x, const float* dy, float* dx, const ConvGeometry& g,
                              cudaStream_t s);

}  // namespace sluice::cuda
