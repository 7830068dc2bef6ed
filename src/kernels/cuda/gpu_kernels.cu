// CUDA kernels behind launchers.h. Straightforward one-thread-per-output
// kernels (block reductions where an output sums many inputs); no atomics,
// so results are deterministic.

#include <cfloat>
#include <cmath>

#include "kernels/cuda/launchers.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;

inline unsigned Blocks(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  if (b > 65535LL * 32) b = 65535LL * 32;
  return static_cast<unsigned>(b);
}

#define GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{blockDim.x} * gridDim.x)

__device__ inline float Apply(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kMax: return fmaxf(a, b);
    case BinaryOp::kMin: return fminf(a, b);
    case BinaryOp::kSquaredDifference: return (a - b) * (a - b);
  }
  return 0.f;
}

__global__ void BinaryKernel(BinaryOp op, const float* a, const float* b, float* out, int64_t n,
                             Broadcast4 bc) {
  GRID_LOOP(i, n) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int d = 3; d >= 0; --d) {
      const int64_t idx = rem % bc.out_dims[d];
      rem /= bc.out_dims[d];
      ia += idx * bc.a_strides[d];
      ib += idx * bc.b_strides[d];
    }
    out[i] = Apply(op, a[ia], b[ib]);
  }
}

template <typename From, typename To>
__global__ void CastKernel(const From* in, To* out, int64_t n) {
  GRID_LOOP(i, n) out[i] = static_cast<To>(in[i]);
}

template <typename From>
cudaError_t CastTo(const From* in, ElemType to, void* out, int64_t n, cudaStream_t s) {
  switch (to) {
    case ElemType::kFloat32: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<float*>(out), n); break;
    case ElemType::kFloat64: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<double*>(out), n); break;
    case ElemType::kInt32: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<int32_t*>(out), n); break;
    case ElemType::kInt64: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<int64_t*>(out), n); break;
    case ElemType::kUInt8: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<uint8_t*>(out), n); break;
    case ElemType::kBool: CastKernel<<<Blocks(n), kThreads, 0, s>>>(in, static_cast<bool*>(out), n); break;
  }
  return cudaGetLastError();
}

__global__ void FillKernel(float* out, float v, int64_t n) {
  GRID_LOOP(i, n) out[i] = v;
}
__global__ void ReluKernel(const float* x, float* y, int64_t n) {
  GRID_LOOP(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
__global__ void ReluGradKernel(const float* g, const float* f, float* out, int64_t n) {
  GRID_LOOP(i, n) out[i] = f[i] > 0.f ? g[i] : 0.f;
}
__global__ void BiasAddKernel(const float* x, const float* b, float* y, int64_t n, int64_t cols) {
  GRID_LOOP(i, n) y[i] = x[i] + b[i % cols];
}

// One block per output element (o, i): threads stride over r.
__global__ void ReduceKernel(const float* x, float* out, int64_t outer, int64_t reduce,
                             int64_t inner, float scale) {
  __shared__ float partial[kThreads];
  for (int64_t k = blockIdx.x; k < outer * inner; k += gridDim.x) {
    const int64_t o = k / inner, in = k % inner;
    float acc = 0.f;
    for (int64_t r = threadIdx.x; r < reduce; r += blockDim.x) acc += x[(o * reduce + r) * inner + in];
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) partial[threadIdx.x] += partial[threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[k] = partial[0] * scale;
    __syncthreads();
  }
}

__global__ void BroadcastReducedKernel(const float* g, float* out, int64_t n, int64_t reduce,
                                       int64_t inner, float scale) {
  GRID_LOOP(i, n) {
    const int64_t in = i % inner, o = i / (inner * reduce);
    out[i] = scale * g[o * inner + in];
  }
}

// The max of row x[0, cols) and the sum of exp(x - max), computed by the
// whole block through `red` (kThreads floats of shared memory); every
// thread gets both.
__device__ float2 RowMaxAndExpSum(const float* x, int64_t cols, float* red) {
  float m = -FLT_MAX;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, x[c]);
  red[threadIdx.x] = m;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]);
    __syncthreads();
  }
  m = red[0];
  __syncthreads();
  float sum = 0.f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(x[c] - m);
  red[threadIdx.x] = sum;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  sum = red[0];
  __syncthreads();
  return make_float2(m, sum);
}

// One block per row; cols is small (classes) so threads stride over it.
template <typename Label>
__global__ void XentKernel(const float* logits, const Label* labels, float* loss, float* backprop,
                           int64_t rows, int64_t cols) {
  __shared__ float red[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = logits + r * cols;
    const float2 ms = RowMaxAndExpSum(x, cols, red);
    const float m = ms.x, sum = ms.y;
    const int64_t label = static_cast<int64_t>(labels[r]);
    const bool ok = label >= 0 && label < cols;
    const float lse = logf(sum) + m;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      const float p = expf(x[c] - m) / sum;
      backprop[r * cols + c] = ok ? p - (c == label ? 1.f : 0.f) : NAN;
    }
    if (threadIdx.x == 0) loss[r] = ok ? lse - x[label] : NAN;
    __syncthreads();
  }
}

__global__ void SoftmaxKernel(const float* xs, float* ys, int64_t rows, int64_t cols, bool log) {
  __shared__ float red[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = xs + r * cols;
    const float2 ms = RowMaxAndExpSum(x, cols, red);
    const float m = ms.x, sum = ms.y;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      ys[r * cols + c] = log ? x[c] - m - logf(sum) : expf(x[c] - m) / sum;
    }
    __syncthreads();
  }
}

__global__ void ArgMaxKernel(const float* x, int64_t* out, int64_t outer, int64_t reduce,
                             int64_t inner) {
  GRID_LOOP(k, outer * inner) {
    const int64_t o = k / inner, in = k % inner;
    int64_t best = 0;
    float bv = x[o * reduce * inner + in];
    for (int64_t r = 1; r < reduce; ++r) {
      const float v = x[(o * reduce + r) * inner + in];
      if (v > bv) {
        bv = v;
        best = r;
      }
    }
    out[k] = best;
  }
}

__global__ void MomentumKernel(const float* w, const float* a, const float* g, float* nw,
                               float* na, float lr_host, const float* lr_dev, float mom_host,
                               const float* mom_dev, bool nesterov, int64_t n) {
  const float lr = lr_dev != nullptr ? *lr_dev : lr_host;
  const float mom = mom_dev != nullptr ? *mom_dev : mom_host;
  GRID_LOOP(i, n) {
    const float acc = a[i] * mom + g[i];
    na[i] = acc;
    nw[i] = nesterov ? w[i] - (g[i] * lr + acc * mom * lr) : w[i] - lr * acc;
  }
}
__global__ void GradientDescentKernel(const float* w, const float* d, float* nw, float alpha_host,
                                      const float* alpha_dev, int64_t n) {
  const float alpha = alpha_dev != nullptr ? *alpha_dev : alpha_host;
  GRID_LOOP(i, n) nw[i] = w[i] - alpha * d[i];
}

__global__ void UnaryKernel(UnaryOp op, const float* x, float* y, int64_t n) {
  GRID_LOOP(i, n) {
    const float v = x[i];
    switch (op) {
      case UnaryOp::kSqrt: y[i] = sqrtf(v); break;
      case UnaryOp::kRsqrt: y[i] = rsqrtf(v); break;
      case UnaryOp::kSquare: y[i] = v * v; break;
      case UnaryOp::kNeg: y[i] = -v; break;
    }
  }
}

// Element i of an NHWC tensor of `h` x `w` x `c` images.
struct NhwcIndex {
  int64_t b, y, x, c;
};
__device__ inline NhwcIndex DecodeNhwc(int64_t i, int64_t h, int64_t w, int64_t c) {
  const int64_t pixel = i / c;
  return {pixel / (w * h), (pixel / w) % h, pixel % w, i % c};
}

// col[p, k] for p = (b, oy, ox) and k = (ky, kx, c): the input patch
// under each output position, zero outside the image, so that a
// convolution is one GEMM with the HWIO filter seen as a [kh*kw*c, oc]
// matrix.
__global__ void Im2ColKernel(const float* x, float* col, ConvGeometry g) {
  const int64_t k_size = g.kh * g.kw * g.c;
  GRID_LOOP(i, g.n * g.oh * g.ow * k_size) {
    const int64_t k = i % k_size;
    const int64_t p = i / k_size;
    const int64_t c = k % g.c;
    const int64_t kx = (k / g.c) % g.kw;
    const int64_t ky = k / (g.c * g.kw);
    const int64_t ox = p % g.ow;
    const int64_t oy = (p / g.ow) % g.oh;
    const int64_t b = p / (g.ow * g.oh);
    const int64_t iy = oy * g.sh + ky - g.pad_t, ix = ox * g.sw + kx - g.pad_l;
    col[i] = iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? 0.f : x[((b * g.h + iy) * g.w + ix) * g.c + c];
  }
}

// The adjoint of Im2Col: each input element sums the patch entries it
// was copied to.
__global__ void Col2ImKernel(const float* col, float* dx, ConvGeometry g) {
  const int64_t k_size = g.kh * g.kw * g.c;
  GRID_LOOP(i, g.n * g.h * g.w * g.c) {
    const auto [b, iy, ix, c] = DecodeNhwc(i, g.h, g.w, g.c);
    float acc = 0.f;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t ny = iy + g.pad_t - ky;
      if (ny < 0 || ny % g.sh != 0 || ny / g.sh >= g.oh) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t nx = ix + g.pad_l - kx;
        if (nx < 0 || nx % g.sw != 0 || nx / g.sw >= g.ow) continue;
        const int64_t p = (b * g.oh + ny / g.sh) * g.ow + nx / g.sw;
        acc += col[p * k_size + (ky * g.kw + kx) * g.c + c];
      }
    }
    dx[i] = acc;
  }
}

// Index of the max of window (b, oy, ox, ch), -1 when the window is empty.
__device__ inline int64_t WindowArgMax(const float* x, const ConvGeometry& g, int64_t b, int64_t oy,
                                       int64_t ox, int64_t ch) {
  int64_t best = -1;
  float bv = -FLT_MAX;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t iy = oy * g.sh + ky - g.pad_t;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = ox * g.sw + kx - g.pad_l;
      if (ix < 0 || ix >= g.w) continue;
      const int64_t at = ((b * g.h + iy) * g.w + ix) * g.c + ch;
      if (best < 0 || x[at] > bv) {
        best = at;
        bv = x[at];
      }
    }
  }
  return best;
}

__global__ void MaxPoolKernel(const float* x, float* y, ConvGeometry g) {
  GRID_LOOP(i, g.n * g.oh * g.ow * g.c) {
    const auto [b, oy, ox, ch] = DecodeNhwc(i, g.oh, g.ow, g.c);
    const int64_t at = WindowArgMax(x, g, b, oy, ox, ch);
    y[i] = at < 0 ? 0.f : x[at];
  }
}

__global__ void MaxPoolGradKernel(const float* x, const float* dy, float* dx, ConvGeometry g) {
  GRID_LOOP(i, g.n * g.h * g.w * g.c) {
    const auto [b, iy, ix, ch] = DecodeNhwc(i, g.h, g.w, g.c);
    float acc = 0.f;
    // Windows that contain (iy, ix): oy*sh - pad_t <= iy < oy*sh - pad_t + kh.
    const int64_t oy_lo = max(int64_t{0}, (iy + g.pad_t - g.kh + g.sh) / g.sh);
    const int64_t oy_hi = min(g.oh - 1, (iy + g.pad_t) / g.sh);
    const int64_t ox_lo = max(int64_t{0}, (ix + g.pad_l - g.kw + g.sw) / g.sw);
    const int64_t ox_hi = min(g.ow - 1, (ix + g.pad_l) / g.sw);
    for (int64_t oy = oy_lo; oy <= oy_hi; ++oy) {
      for (int64_t ox = ox_lo; ox <= ox_hi; ++ox) {
        if (WindowArgMax(x, g, b, oy, ox, ch) == i) acc += dy[((b * g.oh + oy) * g.ow + ox) * g.c + ch];
      }
    }
    dx[i] = acc;
  }
}

unsigned RowBlocks(int64_t rows) { return static_cast<unsigned>(rows < 65535 * 16 ? (rows < 1 ? 1 : rows) : 65535 * 16); }

}  // namespace

cudaError_t LaunchBinary(BinaryOp op, const float* a, const float* b, float* out, int64_t n,
                         const Broadcast4& bc, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  BinaryKernel<<<Blocks(n), kThreads, 0, s>>>(op, a, b, out, n, bc);
  return cudaGetLastError();
}

cudaError_t LaunchCast(ElemType from, const void* in, ElemType to, void* out, int64_t n,
                       cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  switch (from) {
    case ElemType::kFloat32: return CastTo(static_cast<const float*>(in), to, out, n, s);
    case ElemType::kFloat64: return CastTo(static_cast<const double*>(in), to, out, n, s);
    case ElemType::kInt32: return CastTo(static_cast<const int32_t*>(in), to, out, n, s);
    case ElemType::kInt64: return CastTo(static_cast<const int64_t*>(in), to, out, n, s);
    case ElemType::kUInt8: return CastTo(static_cast<const uint8_t*>(in), to, out, n, s);
    case ElemType::kBool: return CastTo(static_cast<const bool*>(in), to, out, n, s);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchFill(float* out, float value, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  FillKernel<<<Blocks(n), kThreads, 0, s>>>(out, value, n);
  return cudaGetLastError();
}
cudaError_t LaunchRelu(const float* x, float* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  ReluKernel<<<Blocks(n), kThreads, 0, s>>>(x, y, n);
  return cudaGetLastError();
}
cudaError_t LaunchReluGrad(const float* g, const float* f, float* out, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  ReluGradKernel<<<Blocks(n), kThreads, 0, s>>>(g, f, out, n);
  return cudaGetLastError();
}
cudaError_t LaunchBiasAdd(const float* x, const float* b, float* y, int64_t rows, int64_t cols,
                          cudaStream_t s) {
  if (rows * cols == 0) return cudaSuccess;
  BiasAddKernel<<<Blocks(rows * cols), kThreads, 0, s>>>(x, b, y, rows * cols, cols);
  return cudaGetLastError();
}
cudaError_t LaunchBiasAddGrad(const float* g, float* out, int64_t rows, int64_t cols,
                              cudaStream_t s) {
  return LaunchReduceSum(g, out, 1, rows, cols, 1.f, s);
}
cudaError_t LaunchReduceSum(const float* x, float* out, int64_t outer, int64_t reduce,
                            int64_t inner, float scale, cudaStream_t s) {
  if (outer * inner == 0) return cudaSuccess;
  ReduceKernel<<<RowBlocks(outer * inner), kThreads, 0, s>>>(x, out, outer, reduce, inner, scale);
  return cudaGetLastError();
}
cudaError_t LaunchBroadcastReduced(const float* g, float* out, int64_t outer, int64_t reduce,
                                   int64_t inner, float scale, cudaStream_t s) {
  const int64_t n = outer * reduce * inner;
  if (n == 0) return cudaSuccess;
  BroadcastReducedKernel<<<Blocks(n), kThreads, 0, s>>>(g, out, n, reduce, inner, scale);
  return cudaGetLastError();
}
cudaError_t LaunchSoftmax(const float* x, float* y, int64_t rows, int64_t cols, bool log,
                          cudaStream_t s) {
  if (rows * cols == 0) return cudaSuccess;
  SoftmaxKernel<<<RowBlocks(rows), kThreads, 0, s>>>(x, y, rows, cols, log);
  return cudaGetLastError();
}
cudaError_t LaunchSparseXent(const float* logits, const void* labels, bool labels_int64,
                             float* loss, float* backprop, int64_t rows, int64_t cols,
                             cudaStream_t s) {
  if (rows == 0) return cudaSuccess;
  if (labels_int64) {
    XentKernel<<<RowBlocks(rows), kThreads, 0, s>>>(logits, static_cast<const int64_t*>(labels),
                                                   loss, backprop, rows, cols);
  } else {
    XentKernel<<<RowBlocks(rows), kThreads, 0, s>>>(logits, static_cast<const int32_t*>(labels),
                                                   loss, backprop, rows, cols);
  }
  return cudaGetLastError();
}
cudaError_t LaunchArgMax(const float* x, int64_t* out, int64_t outer, int64_t reduce,
                         int64_t inner, cudaStream_t s) {
  if (outer * inner == 0) return cudaSuccess;
  ArgMaxKernel<<<Blocks(outer * inner), kThreads, 0, s>>>(x, out, outer, reduce, inner);
  return cudaGetLastError();
}
cudaError_t LaunchMomentum(const float* w, const float* a, const float* g, float* nw, float* na,
                           float lr, float momentum, bool nesterov, int64_t n, cudaStream_t s,
                           const float* lr_dev, const float* momentum_dev) {
  if (n == 0) return cudaSuccess;
  MomentumKernel<<<Blocks(n), kThreads, 0, s>>>(w, a, g, nw, na, lr, lr_dev, momentum,
                                                momentum_dev, nesterov, n);
  return cudaGetLastError();
}
cudaError_t LaunchGradientDescent(const float* w, const float* d, float* nw, float alpha,
                                  int64_t n, cudaStream_t s, const float* alpha_dev) {
  if (n == 0) return cudaSuccess;
  GradientDescentKernel<<<Blocks(n), kThreads, 0, s>>>(w, d, nw, alpha, alpha_dev, n);
  return cudaGetLastError();
}
cudaError_t LaunchUnary(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  UnaryKernel<<<Blocks(n), kThreads, 0, s>>>(op, x, y, n);
  return cudaGetLastError();
}
cudaError_t LaunchIm2Col(const float* x, float* col, const ConvGeometry& g, cudaStream_t s) {
  const int64_t n = g.n * g.oh * g.ow * g.kh * g.kw * g.c;
  if (n == 0) return cudaSuccess;
  Im2ColKernel<<<Blocks(n), kThreads, 0, s>>>(x, col, g);
  return cudaGetLastError();
}
cudaError_t LaunchCol2Im(const float* col, float* dx, const ConvGeometry& g, cudaStream_t s) {
  const int64_t n = g.n * g.h * g.w * g.c;
  if (n == 0) return cudaSuccess;
  Col2ImKernel<<<Blocks(n), kThreads, 0, s>>>(col, dx, g);
  return cudaGetLastError();
}
cudaError_t LaunchMaxPool(const float* x, float* y, const ConvGeometry& g, cudaStream_t s) {
  const int64_t n = g.n * g.oh * g.ow * g.c;
  if (n == 0) return cudaSuccess;
  MaxPoolKernel<<<Blocks(n), kThreads, 0, s>>>(x, y, g);
  return cudaGetLastError();
}
cudaError_t LaunchMaxPoolGrad(const float* x, const float* dy, float* dx, const ConvGeometry& g,
                              cudaStream_t s) {
  const int64_t n = g.n * g.h * g.w * g.c;
  if (n == 0) return cudaSuccess;
  MaxPoolGradKernel<<<Blocks(n), kThreads, 0, s>>>(x, dy, dx, g);
  return cudaGetLastError();
}

}  // namespace sluice::cuda
