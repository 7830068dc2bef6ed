// GPU kernels of the engine: registration in the KernelRegistry for
// DeviceType::kGPU, argument checks on the host, and launches of the CUDA
// kernels of kernels/cuda/gpu_kernels.cu (cuBLAS for MatMul). See gpu_device.h for the
// list and the host-memory rules.

#include <algorithm>
#include <array>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/cuda/gpu_device.h"
#include "graph/kernel_registry.h"
#include "graph/resource_mgr.h"
#include "device/cuda/cuda_status.h"
#include "device/cuda/gpu_device_context.h"
#include "kernels/cuda/launchers.h"

namespace sluice {
namespace {

using cuda::GpuDeviceContext;

const std::vector<DType> kF32 = {DType::kFloat32};
const std::vector<DType> kNumeric = {DType::kFloat32, DType::kFloat64, DType::kInt32,
                                     DType::kInt64,   DType::kUInt8,   DType::kBool};

const GpuDeviceContext* Gpu(const OpKernelContext* ctx) {
  return static_cast<const GpuDeviceContext*>(ctx->device());
}
cudaStream_t Stream(const OpKernelContext* ctx) { return Gpu(ctx)->cuda_stream(); }

std::string OpName(const OpKernelContext* ctx) {
  return absl::StrCat("op '", ctx->node().name(), "' (", ctx->node().type(), ")");
}

// The op's name is formatted only on failure: every launch passes through
// here, and a StrCat per node is host time the GPU waits for.
absl::Status Launched(const OpKernelContext* ctx, cudaError_t e) {
  if (e == cudaSuccess) return absl::OkStatus();
  return cuda::CudaStatus(e, OpName(ctx));
}

bool OnDevice(const Tensor& t) { return t.buffer()->allocator()->kind() == MemoryKind::kDevice; }

absl::StatusOr<Tensor> ToDevice(const OpKernelContext* ctx, const Tensor& t) {
  if (OnDevice(t)) return t;
  return ctx->device()->CopyToDevice(t);
}
absl::StatusOr<Tensor> In(const OpKernelContext* ctx, int i) { return ToDevice(ctx, ctx->input(i)); }
absl::StatusOr<Tensor> HostIn(const OpKernelContext* ctx, int i) {
  return ctx->device()->CopyToHost(ctx->input(i));
}

absl::StatusOr<Tensor> NewOutput(const OpKernelContext* ctx, DType dt, const TensorShape& shape) {
  Tensor t(dt, shape, ctx->device()->allocator());
  if (!t.IsInitialized()) {
    return absl::ResourceExhaustedError(absl::StrCat("GPU out of memory allocating ",
                                                     shape.DebugString(), " for ", OpName(ctx)));
  }
  return t;
}

absl::StatusOr<std::vector<int64_t>> HostInts(const OpKernelContext* ctx, int i) {
  SLUICE_ASSIGN_OR_RETURN(Tensor t, HostIn(ctx, i));
  std::vector<int64_t> v(t.NumElements());
  if (t.dtype() == DType::kInt32) {
    for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<int32_t>()[k];
  } else if (t.dtype() == DType::kInt64) {
    for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<int64_t>()[k];
  } else {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": input ", i, " must be integer"));
  }
  return v;
}

// A float scalar input as a kernel argument: its value when it is in host
// memory (a Const), else a pointer to it on the device, so that a learning
// rate computed on the GPU (Adam's, a decay) costs no synchronising
// device-to-host copy. Shape and dtype are host metadata either way.
struct ScalarArg {
  float value = 0.f;
  const float* device = nullptr;
};
absl::StatusOr<ScalarArg> ScalarIn(const OpKernelContext* ctx, int i) {
  const Tensor& t = ctx->input(i);
  if (t.NumElements() != 1 || t.dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": input ", i, " must be a float scalar"));
  }
  if (OnDevice(t)) return ScalarArg{0.f, t.data<float>()};
  return ScalarArg{t.data<float>()[0], nullptr};
}

absl::StatusOr<cuda::ElemType> Elem(DType d) {
  switch (d) {
    case DType::kFloat32: return cuda::ElemType::kFloat32;
    case DType::kFloat64: return cuda::ElemType::kFloat64;
    case DType::kInt32: return cuda::ElemType::kInt32;
    case DType::kInt64: return cuda::ElemType::kInt64;
    case DType::kUInt8: return cuda::ElemType::kUInt8;
    case DType::kBool: return cuda::ElemType::kBool;
    default: return absl::InvalidArgumentError("dtype not supported on the GPU");
  }
}

void Reg(const char* op, std::vector<DType> dtypes, KernelFn fn, bool inexpensive = false) {
  KernelDef k;
  k.op = op;
  k.device = DeviceType::kGPU;
  k.dtypes = std::move(dtypes);
  k.fn = std::move(fn);
  k.inexpensive = inexpensive;
  KernelRegistry::Global()->Register(std::move(k));
}

// ---- element-wise ----------------------------------------------------

absl::Status BinaryKernel(OpKernelContext* ctx, cuda::BinaryOp op) {
  SLUICE_ASSIGN_OR_RETURN(Tensor a, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor b, In(ctx, 1));
  const int rank = std::max(a.rank(), b.rank());
  if (rank > 4) {
    return absl::UnimplementedError(absl::StrCat(OpName(ctx), ": broadcasting over more than 4 dims"));
  }
  cuda::Broadcast4 bc;
  int64_t as = 1, bs = 1;
  std::array<int64_t, 4> out_dims{};  // first `rank` used; no heap per launch
  for (int d = 3; d >= 0; --d) {
    const int k = d - (4 - rank);  // index into the right-aligned output
    const int ka = k - (rank - a.rank()), kb = k - (rank - b.rank());
    const int64_t da = (k >= 0 && ka >= 0) ? a.dim(ka) : 1;
    const int64_t db = (k >= 0 && kb >= 0) ? b.dim(kb) : 1;
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": Incompatible shapes: ",
                                                     a.shape().DebugString(), " vs. ",
                                                     b.shape().DebugString()));
    }
    const int64_t dout = std::max(da, db);
    bc.out_dims[d] = dout;
    bc.a_strides[d] = da == 1 ? 0 : as;
    bc.b_strides[d] = db == 1 ? 0 : bs;
    as *= da;
    bs *= db;
    if (k >= 0) out_dims[k] = dout;
  }
  TensorShape shape;
  for (int d = 0; d < rank; ++d) shape.AddDim(out_dims[d]);
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, shape));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBinary(op, a.data<float>(), b.data<float>(),
                                                           out.data<float>(), out.NumElements(),
                                                           bc, Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status CastKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  const DType to = ctx->node().output_dtype(0);
  SLUICE_ASSIGN_OR_RETURN(cuda::ElemType ef, Elem(x.dtype()));
  SLUICE_ASSIGN_OR_RETURN(cuda::ElemType et, Elem(to));
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, to, x.shape()));
  SLUICE_RETURN_IF_ERROR(Launched(
      ctx, cuda::LaunchCast(ef, x.raw_data(), et, out.raw_data(), x.NumElements(), Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status FillLike(OpKernelContext* ctx, float v) {
  const Tensor& x = ctx->input(0);
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, x.shape()));
  SLUICE_RETURN_IF_ERROR(
      Launched(ctx, cuda::LaunchFill(out.data<float>(), v, out.NumElements(), Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// ---- reductions --------------------------------------------------------

struct Split {
  int64_t outer = 1, reduce = 1, inner = 1;
  TensorShape reduced_shape;  // without the reduced dims (or 1s with keep_dims)
};

// The reduction of `shape` over `axes` as [outer, reduce, inner]; the axes
// must be contiguous (every reduction the training graphs make is).
absl::StatusOr<Split> SplitAxes(const OpKernelContext* ctx, const TensorShape& shape,
                                std::vector<int64_t> axes, bool all, bool keep_dims) {
  const int rank = shape.rank();
  if (all) {
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) {
      return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": axis ", a, " out of range"));
    }
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Split s;
  if (axes.empty()) {
    s.outer = shape.num_elements();
    s.reduced_shape = shape;
    return s;
  }
  if (axes.back() - axes.front() + 1 != static_cast<int64_t>(axes.size())) {
    return absl::UnimplementedError(absl::StrCat(OpName(ctx), ": non-contiguous reduction axes on the GPU"));
  }
  for (int d = 0; d < rank; ++d) {
    const bool red = d >= axes.front() && d <= axes.back();
    if (d < axes.front()) s.outer *= shape.dim(d);
    if (red) s.reduce *= shape.dim(d);
    if (d > axes.back()) s.inner *= shape.dim(d);
    if (!red) {
      s.reduced_shape.AddDim(shape.dim(d));
    } else if (keep_dims) {
      s.reduced_shape.AddDim(1);
    }
  }
  return s;
}

absl::Status ReduceKernel(OpKernelContext* ctx, bool mean) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axes, HostInts(ctx, 1));
  const bool* all = ctx->node().attr<bool>("reduce_all");
  const bool* keep = ctx->node().attr<bool>("keep_dims");
  SLUICE_ASSIGN_OR_RETURN(Split s, SplitAxes(ctx, x.shape(), axes, all != nullptr && *all,
                                             keep != nullptr && *keep));
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, s.reduced_shape));
  const float scale = mean && s.reduce > 0 ? 1.f / static_cast<float>(s.reduce) : 1.f;
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchReduceSum(x.data<float>(), out.data<float>(),
                                                              s.outer, s.reduce, s.inner, scale,
                                                              Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status BroadcastReducedKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor g, In(ctx, 0));
  const TensorShape& xs = ctx->input(1).shape();
  const bool* all = ctx->node().attr<bool>("reduce_all");
  const bool* mean = ctx->node().attr<bool>("mean");
  std::vector<int64_t> axes;
  if (!(all != nullptr && *all)) {
    SLUICE_ASSIGN_OR_RETURN(axes, HostInts(ctx, 2));
  }
  SLUICE_ASSIGN_OR_RETURN(Split s, SplitAxes(ctx, xs, axes, all != nullptr && *all, false));
  if (g.NumElements() != s.outer * s.inner) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": gradient of shape ",
                                                   g.shape().DebugString(),
                                                   " does not fit the reduction of ", xs.DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, xs));
  const float scale = mean != nullptr && *mean && s.reduce > 0 ? 1.f / s.reduce : 1.f;
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBroadcastReduced(g.data<float>(), out.data<float>(),
                                                                     s.outer, s.reduce, s.inner,
                                                                     scale, Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// ---- nn ------------------------------------------------------------------

absl::Status SoftmaxKernel(OpKernelContext* ctx, bool log) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  if (x.rank() < 1) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": logits must have rank >= 1"));
  const int64_t cols = x.dim(x.rank() - 1);
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, x.shape()));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchSoftmax(x.data<float>(), out.data<float>(),
                                                            cols ? x.NumElements() / cols : 0, cols,
                                                            log, Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status SparseXentKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor logits, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor labels, In(ctx, 1));
  if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": logits [batch, classes] and labels [batch] expected, got ",
                                                   logits.shape().DebugString(), " and ",
                                                   labels.shape().DebugString()));
  }
  if (labels.dtype() != DType::kInt64 && labels.dtype() != DType::kInt32) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": labels must be int32 or int64"));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor loss, NewOutput(ctx, DType::kFloat32, TensorShape{logits.dim(0)}));
  SLUICE_ASSIGN_OR_RETURN(Tensor back, NewOutput(ctx, DType::kFloat32, logits.shape()));
  SLUICE_RETURN_IF_ERROR(Launched(
      ctx, cuda::LaunchSparseXent(logits.data<float>(), labels.raw_data(),
                                  labels.dtype() == DType::kInt64, loss.data<float>(),
                                  back.data<float>(), logits.dim(0), logits.dim(1), Stream(ctx))));
  ctx->set_output(0, loss);
  ctx->set_output(1, back);
  return absl::OkStatus();
}

absl::Status ArgMaxKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  if (x.dtype() != DType::kFloat32) return absl::UnimplementedError("ArgMax on the GPU takes float");
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> axis, HostInts(ctx, 1));
  if (axis.size() != 1) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": one axis expected"));
  SLUICE_ASSIGN_OR_RETURN(Split s, SplitAxes(ctx, x.shape(), axis, false, false));
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kInt64, s.reduced_shape));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchArgMax(x.data<float>(), out.data<int64_t>(),
                                                           s.outer, s.reduce, s.inner, Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status BiasAddKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor b, In(ctx, 1));
  if (x.rank() < 1 || b.rank() != 1 || x.dim(x.rank() - 1) != b.dim(0)) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": bias ", b.shape().DebugString(),
                                                   " does not match ", x.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, x.shape()));
  const int64_t cols = b.dim(0);
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBiasAdd(x.data<float>(), b.data<float>(),
                                                            out.data<float>(),
                                                            cols ? x.NumElements() / cols : 0, cols,
                                                            Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status BiasAddGradKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor g, In(ctx, 0));
  if (g.rank() < 1) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": rank >= 1 expected"));
  const int64_t cols = g.dim(g.rank() - 1);
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, TensorShape{cols}));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBiasAddGrad(g.data<float>(), out.data<float>(),
                                                                cols ? g.NumElements() / cols : 0,
                                                                cols, Stream(ctx))));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// Row-major c[m, n] = op(a)[m, k] op(b)[k, n] (+ c when accumulate), as
// the column-major product c^T = op(b)^T op(a)^T that cuBLAS computes.
absl::Status Gemm(const OpKernelContext* ctx, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const float* a, const float* b, float* c, bool accumulate = false) {
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  cublasStatus_t st = Gpu(ctx)->WithCublas([&](cublasHandle_t h) {
    return cublasSgemm(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                       static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &one, b,
                       static_cast<int>(tb ? k : n), a, static_cast<int>(ta ? m : k), &beta, c,
                       static_cast<int>(n));
  });
  if (st != CUBLAS_STATUS_SUCCESS) return cuda::CublasStatus(st, OpName(ctx));
  return absl::OkStatus();
}

absl::Status MatMulKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor a, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor b, In(ctx, 1));
  const bool* tap = ctx->node().attr<bool>("transpose_a");
  const bool* tbp = ctx->node().attr<bool>("transpose_b");
  const bool ta = tap != nullptr && *tap, tb = tbp != nullptr && *tbp;
  if (a.rank() != 2 || b.rank() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": MatMul takes matrices"));
  }
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (k != kb) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": Matrix size-incompatible: In[0]: ",
                                                   a.shape().DebugString(), ", In[1]: ",
                                                   b.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, TensorShape{m, n}));
  if (m == 0 || n == 0) {
    ctx->set_output(0, out);
    return absl::OkStatus();
  }
  if (k == 0) {
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchFill(out.data<float>(), 0.f, m * n, Stream(ctx))));
    ctx->set_output(0, out);
    return absl::OkStatus();
  }
  SLUICE_RETURN_IF_ERROR(Gemm(ctx, ta, tb, m, n, k, a.data<float>(), b.data<float>(), out.data<float>()));
  ctx->set_output(0, out);
  return absl::OkStatus();
}

// ---- convolution and pooling ---------------------------------------------

// TensorFlow's output size and leading padding.
absl::Status OutSize(const OpKernelContext* ctx, int64_t in, int64_t k, int64_t stride,
                     const std::string& padding, int64_t* out, int64_t* pad) {
  if (stride < 1) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": stride must be >= 1"));
  if (padding == "SAME") {
    *out = (in + stride - 1) / stride;
    *pad = std::max<int64_t>((*out - 1) * stride + k - in, 0) / 2;
  } else if (padding == "VALID") {
    *out = in >= k ? (in - k) / stride + 1 : 0;
    *pad = 0;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": padding must be SAME or VALID"));
  }
  return absl::OkStatus();
}

absl::StatusOr<cuda::ConvGeometry> ConvGeom(const OpKernelContext* ctx, const TensorShape& in,
                                            int64_t kh, int64_t kw, int64_t oc,
                                            const char* stride_attr) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ctx->GetAttr<std::vector<int64_t>>(stride_attr));
  SLUICE_ASSIGN_OR_RETURN(std::string padding, ctx->GetAttr<std::string>("padding"));
  if (in.rank() != 4 || strides.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": NHWC input and 4 strides expected"));
  }
  cuda::ConvGeometry g{};
  g.n = in.dim(0);
  g.h = in.dim(1);
  g.w = in.dim(2);
  g.c = in.dim(3);
  g.kh = kh;
  g.kw = kw;
  g.oc = oc;
  g.sh = strides[1];
  g.sw = strides[2];
  SLUICE_RETURN_IF_ERROR(OutSize(ctx, g.h, kh, g.sh, padding, &g.oh, &g.pad_t));
  SLUICE_RETURN_IF_ERROR(OutSize(ctx, g.w, kw, g.sw, padding, &g.ow, &g.pad_l));
  return g;
}

TensorShape ShapeOf(const std::vector<int64_t>& v) {
  TensorShape s;
  for (int64_t d : v) s.AddDim(d);
  return s;
}

// Convolutions as GEMMs over the patch matrix (cuda::LaunchIm2Col): the
// batch is cut into chunks whose patch matrix fits kConvScratchBytes, so a
// large evaluation batch does not need gigabytes of scratch.
constexpr int64_t kConvScratchBytes = int64_t{256} << 20;

struct ConvChunks {
  int64_t per_chunk;  // images per chunk
  int64_t positions;  // output positions per image (oh * ow)
  int64_t k;          // patch length (kh * kw * c)
};
ConvChunks ChunksOf(const cuda::ConvGeometry& g) {
  ConvChunks c{1, g.oh * g.ow, g.kh * g.kw * g.c};
  const int64_t per_image = std::max<int64_t>(1, c.positions * c.k * int64_t{sizeof(float)});
  c.per_chunk = std::clamp<int64_t>(kConvScratchBytes / per_image, 1, std::max<int64_t>(1, g.n));
  return c;
}

// Per chunk of images [b0, b0 + gc.n): the chunk's patch matrix `col`,
// then gemm(col, gc, b0).
template <typename GemmFn>
absl::Status ForEachPatchChunk(const OpKernelContext* ctx, const Tensor& x, const cuda::ConvGeometry& g,
                               const ConvChunks& ch, GemmFn gemm) {
  SLUICE_ASSIGN_OR_RETURN(Tensor col, NewOutput(ctx, DType::kFloat32, TensorShape{ch.per_chunk * ch.positions, ch.k}));
  for (int64_t b0 = 0; b0 < g.n; b0 += ch.per_chunk) {
    cuda::ConvGeometry gc = g;
    gc.n = std::min(ch.per_chunk, g.n - b0);
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchIm2Col(x.data<float>() + b0 * g.h * g.w * g.c,
                                                             col.data<float>(), gc, Stream(ctx))));
    SLUICE_RETURN_IF_ERROR(gemm(col.data<float>(), gc, b0));
  }
  return absl::OkStatus();
}

absl::Status Conv2DKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor f, In(ctx, 1));
  if (f.rank() != 4 || x.rank() != 4 || f.dim(2) != x.dim(3)) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": input ", x.shape().DebugString(),
                                                   " and filter ", f.shape().DebugString(), " do not match"));
  }
  SLUICE_ASSIGN_OR_RETURN(cuda::ConvGeometry g, ConvGeom(ctx, x.shape(), f.dim(0), f.dim(1), f.dim(3), "strides"));
  SLUICE_ASSIGN_OR_RETURN(Tensor out, NewOutput(ctx, DType::kFloat32, TensorShape{g.n, g.oh, g.ow, g.oc}));
  const ConvChunks ch = ChunksOf(g);
  if (out.NumElements() > 0 && ch.k > 0) {
    SLUICE_RETURN_IF_ERROR(ForEachPatchChunk(ctx, x, g, ch, [&](const float* col, const cuda::ConvGeometry& gc, int64_t b0) {
      return Gemm(ctx, false, false, gc.n * ch.positions, g.oc, ch.k, col, f.data<float>(),
                  out.data<float>() + b0 * ch.positions * g.oc);
    }));
  } else if (out.NumElements() > 0) {
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchFill(out.data<float>(), 0.f, out.NumElements(), Stream(ctx))));
  }
  ctx->set_output(0, out);
  return absl::OkStatus();
}

absl::Status Conv2DBackpropInputKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, HostInts(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor f, In(ctx, 1));
  SLUICE_ASSIGN_OR_RETURN(Tensor dy, In(ctx, 2));
  const TensorShape xs = ShapeOf(sizes);
  if (f.rank() != 4 || xs.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": 4-D sizes and filter expected"));
  }
  SLUICE_ASSIGN_OR_RETURN(cuda::ConvGeometry g, ConvGeom(ctx, xs, f.dim(0), f.dim(1), f.dim(3), "strides"));
  if (dy.shape() != TensorShape{g.n, g.oh, g.ow, g.oc}) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": out_backprop has shape ", dy.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor dx, NewOutput(ctx, DType::kFloat32, xs));
  const ConvChunks ch = ChunksOf(g);
  if (dx.NumElements() > 0 && ch.positions > 0 && g.oc > 0) {
    SLUICE_ASSIGN_OR_RETURN(Tensor dcol, NewOutput(ctx, DType::kFloat32, TensorShape{ch.per_chunk * ch.positions, ch.k}));
    for (int64_t b0 = 0; b0 < g.n; b0 += ch.per_chunk) {
      cuda::ConvGeometry gc = g;
      gc.n = std::min(ch.per_chunk, g.n - b0);
      // dcol = dy f^T, then each input element gathers its patch entries.
      SLUICE_RETURN_IF_ERROR(Gemm(ctx, false, true, gc.n * ch.positions, ch.k, g.oc,
                                  dy.data<float>() + b0 * ch.positions * g.oc, f.data<float>(),
                                  dcol.data<float>()));
      SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchCol2Im(dcol.data<float>(),
                                                               dx.data<float>() + b0 * g.h * g.w * g.c, gc,
                                                               Stream(ctx))));
    }
  } else if (dx.NumElements() > 0) {
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchFill(dx.data<float>(), 0.f, dx.NumElements(), Stream(ctx))));
  }
  ctx->set_output(0, dx);
  return absl::OkStatus();
}

absl::Status Conv2DBackpropFilterKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, HostInts(ctx, 1));
  SLUICE_ASSIGN_OR_RETURN(Tensor dy, In(ctx, 2));
  const TensorShape fs = ShapeOf(sizes);
  if (fs.rank() != 4) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": 4-D filter_sizes expected"));
  SLUICE_ASSIGN_OR_RETURN(cuda::ConvGeometry g, ConvGeom(ctx, x.shape(), fs.dim(0), fs.dim(1), fs.dim(3), "strides"));
  if (dy.shape() != TensorShape{g.n, g.oh, g.ow, g.oc} || fs.dim(2) != g.c) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": out_backprop has shape ", dy.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor df, NewOutput(ctx, DType::kFloat32, fs));
  const ConvChunks ch = ChunksOf(g);
  if (df.NumElements() > 0 && g.n * ch.positions > 0) {
    // df (+)= col^T dy over each chunk's positions.
    SLUICE_RETURN_IF_ERROR(ForEachPatchChunk(ctx, x, g, ch, [&](const float* col, const cuda::ConvGeometry& gc, int64_t b0) {
      return Gemm(ctx, true, false, ch.k, g.oc, gc.n * ch.positions, col,
                  dy.data<float>() + b0 * ch.positions * g.oc, df.data<float>(), /*accumulate=*/b0 > 0);
    }));
  } else if (df.NumElements() > 0) {
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchFill(df.data<float>(), 0.f, df.NumElements(), Stream(ctx))));
  }
  ctx->set_output(0, df);
  return absl::OkStatus();
}

absl::StatusOr<cuda::ConvGeometry> PoolGeom(const OpKernelContext* ctx, const TensorShape& in) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ksize, ctx->GetAttr<std::vector<int64_t>>("ksize"));
  if (ksize.size() != 4) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": 4 ksize values expected"));
  if (in.rank() != 4) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": NHWC input expected"));
  return ConvGeom(ctx, in, ksize[1], ksize[2], in.dim(3), "strides");
}

absl::Status MaxPoolKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(cuda::ConvGeometry g, PoolGeom(ctx, x.shape()));
  SLUICE_ASSIGN_OR_RETURN(Tensor y, NewOutput(ctx, DType::kFloat32, TensorShape{g.n, g.oh, g.ow, g.c}));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchMaxPool(x.data<float>(), y.data<float>(), g, Stream(ctx))));
  ctx->set_output(0, y);
  return absl::OkStatus();
}

absl::Status MaxPoolGradKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor dy, In(ctx, 2));
  SLUICE_ASSIGN_OR_RETURN(cuda::ConvGeometry g, PoolGeom(ctx, x.shape()));
  if (dy.shape() != TensorShape{g.n, g.oh, g.ow, g.c}) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": grad has shape ", dy.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor dx, NewOutput(ctx, DType::kFloat32, x.shape()));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchMaxPoolGrad(x.data<float>(), dy.data<float>(),
                                                                dx.data<float>(), g, Stream(ctx))));
  ctx->set_output(0, dx);
  return absl::OkStatus();
}

// ---- state -------------------------------------------------------------

absl::StatusOr<Tensor> ReadVar(const OpKernelContext* ctx, VariableState* s, int input)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
  if (!s->initialized) {
    return absl::FailedPreconditionError(absl::StrCat("Attempting to use uninitialized value ",
                                                      ctx->node().input(input).node()->name()));
  }
  return ToDevice(ctx, s->value);
}

// A variable update's output: a new tensor, so tensors handed out earlier
// never change under their readers; in a session with step capture the
// variable's own device tensor (updated in place), so that every launch of
// a recorded step, and every other run signature, reads and writes the
// same memory. Element-wise updates read each element before writing it,
// so in place is safe.
bool InPlace(const OpKernelContext* ctx) {
  return ctx->update_variables_in_place() || ctx->device()->capturing();
}
absl::StatusOr<Tensor> UpdatedValue(const OpKernelContext* ctx, const Tensor& old) {
  if (InPlace(ctx) && OnDevice(old)) return old;
  return NewOutput(ctx, old.dtype(), old.shape());
}

absl::Status MomentumKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> accum, ctx->variable(1));
  SLUICE_ASSIGN_OR_RETURN(ScalarArg lr, ScalarIn(ctx, 2));
  SLUICE_ASSIGN_OR_RETURN(Tensor grad, In(ctx, 3));
  SLUICE_ASSIGN_OR_RETURN(ScalarArg momentum, ScalarIn(ctx, 4));
  const bool* nesterov = ctx->node().attr<bool>("use_nesterov");
  absl::MutexLock l1(&var->mu);
  absl::MutexLock l2(&accum->mu);
  SLUICE_ASSIGN_OR_RETURN(Tensor w, ReadVar(ctx, var.get(), 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor a, ReadVar(ctx, accum.get(), 1));
  if (w.shape() != grad.shape() || a.shape() != grad.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": var, accum and grad must have the same shape: ",
                                                   w.shape().DebugString(), " ", a.shape().DebugString(),
                                                   " ", grad.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor nw, UpdatedValue(ctx, w));
  SLUICE_ASSIGN_OR_RETURN(Tensor na, UpdatedValue(ctx, a));
  SLUICE_RETURN_IF_ERROR(Launched(
      ctx, cuda::LaunchMomentum(w.data<float>(), a.data<float>(), grad.data<float>(), nw.data<float>(),
                                na.data<float>(), lr.value, momentum.value,
                                nesterov != nullptr && *nesterov, w.NumElements(), Stream(ctx),
                                lr.device, momentum.device)));
  var->value = nw;
  accum->value = na;
  ctx->set_output(0, nw);
  return absl::OkStatus();
}

absl::Status GradientDescentKernel(OpKernelContext* ctx) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(ScalarArg alpha, ScalarIn(ctx, 1));
  SLUICE_ASSIGN_OR_RETURN(Tensor delta, In(ctx, 2));
  absl::MutexLock l(&var->mu);
  SLUICE_ASSIGN_OR_RETURN(Tensor w, ReadVar(ctx, var.get(), 0));
  if (w.shape() != delta.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": var and delta do not have the same shape"));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor nw, UpdatedValue(ctx, w));
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchGradientDescent(w.data<float>(), delta.data<float>(),
                                                                    nw.data<float>(), alpha.value,
                                                                    w.NumElements(), Stream(ctx),
                                                                    alpha.device)));
  var->value = nw;
  ctx->set_output(0, nw);
  return absl::OkStatus();
}

// AssignAdd / AssignSub (Adam's update, global steps kept on the GPU): a
// new tensor each time, like ApplyGradientDescent, so tensors handed out
// earlier never change under their readers.
absl::Status AssignUpdateKernel(OpKernelContext* ctx, cuda::BinaryOp op) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
  SLUICE_ASSIGN_OR_RETURN(Tensor delta, In(ctx, 1));
  absl::MutexLock l(&var->mu);
  SLUICE_ASSIGN_OR_RETURN(Tensor w, ReadVar(ctx, var.get(), 0));
  if (w.shape() != delta.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Must have the same shape: variable ", w.shape().DebugString(), " vs update ",
        delta.shape().DebugString(), " in ", OpName(ctx)));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor nw, UpdatedValue(ctx, w));
  const cuda::Broadcast4 same{{1, 1, 1, w.NumElements()}, {0, 0, 0, 1}, {0, 0, 0, 1}};
  SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBinary(op, w.data<float>(), delta.data<float>(),
                                                           nw.data<float>(), w.NumElements(), same,
                                                           Stream(ctx))));
  var->value = nw;
  ctx->set_output(0, nw);
  return absl::OkStatus();
}

absl::Status UnaryKernel(OpKernelContext* ctx, cuda::UnaryOp op) {
  SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
  SLUICE_ASSIGN_OR_RETURN(Tensor y, NewOutput(ctx, DType::kFloat32, x.shape()));
  SLUICE_RETURN_IF_ERROR(
      Launched(ctx, cuda::LaunchUnary(op, x.data<float>(), y.data<float>(), x.NumElements(), Stream(ctx))));
  ctx->set_output(0, y);
  return absl::OkStatus();
}

void RegisterAll() {
  using cuda::BinaryOp;
  // Host-memory and metadata kernels: no device work.
  Reg("Const", kNumeric, [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(Tensor v, ctx->GetAttr<Tensor>("value"));
    // Stays in host memory (shape and axis inputs are read on the host);
    // a kernel that needs it on the device gets one cached copy.
    Gpu(ctx)->RegisterConstant(v);
    ctx->set_output(0, v);
    return absl::OkStatus();
  }, true);
  Reg("Identity", kNumeric, [](OpKernelContext* ctx) {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }, true);
  Reg("NoOp", {}, [](OpKernelContext*) { return absl::OkStatus(); }, true);
  Reg("Shape", {}, [](OpKernelContext* ctx) {
    const TensorShape& s = ctx->input(0).shape();
    const DType dt = ctx->node().output_dtype(0);
    Tensor out(dt, TensorShape{s.rank()});
    for (int i = 0; i < s.rank(); ++i) {
      if (dt == DType::kInt64) {
        out.data<int64_t>()[i] = s.dim(i);
      } else {
        out.data<int32_t>()[i] = static_cast<int32_t>(s.dim(i));
      }
    }
    ctx->set_output(0, out);
    return absl::OkStatus();
  }, true);
  Reg("Reshape", kNumeric, [](OpKernelContext* ctx) {
    const Tensor& x = ctx->input(0);
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, HostInts(ctx, 1));
    int64_t known = 1, unknown = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == -1) {
        if (unknown >= 0) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": more than one -1"));
        unknown = i;
      } else {
        known *= dims[i];
      }
    }
    if (unknown >= 0 && known > 0) dims[unknown] = x.NumElements() / known;
    TensorShape s = ShapeOf(dims);
    if (s.num_elements() != x.NumElements()) {
      return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": cannot reshape ", x.shape().DebugString(),
                                                     " to ", s.DebugString()));
    }
    ctx->set_output(0, x.Reshaped(s));
    return absl::OkStatus();
  }, true);
  Reg("VariableV2", kF32, [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> v, GetVariableState(ctx->resources(), &ctx->node()));
    absl::MutexLock l(&v->mu);
    ctx->set_output(0, v->initialized ? v->value : Tensor::Zeros(DType::kFloat32, TensorShape{}));
    return absl::OkStatus();
  }, true);
  Reg("Assign", kF32, [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> v, ctx->variable(0));
    SLUICE_ASSIGN_OR_RETURN(Tensor value, In(ctx, 1));
    const Node* var_node = ctx->node().input(0).node();
    const bool* validate = ctx->node().attr<bool>("validate_shape");
    if ((validate == nullptr || *validate) && var_node->output_rank_known(0) &&
        !value.shape().IsCompatibleWith(var_node->output_shape(0))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Assign requires shapes of both tensors to match. lhs shape= ",
          var_node->output_shape(0).DebugString(), " rhs shape= ", value.shape().DebugString()));
    }
    absl::MutexLock l(&v->mu);
    if (InPlace(ctx) && v->initialized && OnDevice(v->value) &&
        v->value.dtype() == value.dtype() && v->value.shape() == value.shape()) {
      // In place (see UpdatedValue): the copy is part of the recorded work.
      SLUICE_RETURN_IF_ERROR(
          ctx->device()->compute_stream()->Memcpy(v->value.raw_data(), value.raw_data(), value.ByteSize()));
      ctx->set_output(0, v->value);
      return absl::OkStatus();
    }
    v->value = value;
    v->initialized = true;
    ctx->set_output(0, value);
    return absl::OkStatus();
  }, true);

  Reg("Cast", {}, CastKernel);
  const std::pair<const char*, BinaryOp> binaries[] = {
      {"Add", BinaryOp::kAdd},         {"AddV2", BinaryOp::kAdd},   {"Sub", BinaryOp::kSub},
      {"Mul", BinaryOp::kMul},         {"RealDiv", BinaryOp::kDiv}, {"Maximum", BinaryOp::kMax},
      {"Minimum", BinaryOp::kMin},     {"SquaredDifference", BinaryOp::kSquaredDifference}};
  for (const auto& [name, op] : binaries) {
    const BinaryOp o = op;
    Reg(name, kF32, [o](OpKernelContext* ctx) { return BinaryKernel(ctx, o); });
  }
  // AddN: gradients summed where a tensor feeds several ops.
  Reg("AddN", kF32, [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(Tensor acc, In(ctx, 0));
    cuda::Broadcast4 same{{1, 1, 1, acc.NumElements()}, {0, 0, 0, 1}, {0, 0, 0, 1}};
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, i));
      if (x.shape() != acc.shape()) {
        return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": inputs must have the same shape"));
      }
      SLUICE_ASSIGN_OR_RETURN(Tensor sum, NewOutput(ctx, DType::kFloat32, acc.shape()));
      SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchBinary(BinaryOp::kAdd, acc.data<float>(), x.data<float>(),
                                                               sum.data<float>(), sum.NumElements(), same,
                                                               Stream(ctx))));
      acc = sum;
    }
    ctx->set_output(0, acc);
    return absl::OkStatus();
  });
  Reg("AssignAdd", kF32, [](OpKernelContext* ctx) { return AssignUpdateKernel(ctx, BinaryOp::kAdd); });
  Reg("AssignSub", kF32, [](OpKernelContext* ctx) { return AssignUpdateKernel(ctx, BinaryOp::kSub); });
  const std::pair<const char*, cuda::UnaryOp> unaries[] = {{"Sqrt", cuda::UnaryOp::kSqrt},
                                                           {"Rsqrt", cuda::UnaryOp::kRsqrt},
                                                           {"Square", cuda::UnaryOp::kSquare},
                                                           {"Neg", cuda::UnaryOp::kNeg}};
  for (const auto& [name, op] : unaries) {
    const cuda::UnaryOp u = op;
    Reg(name, kF32, [u](OpKernelContext* ctx) { return UnaryKernel(ctx, u); });
  }
  Reg("OnesLike", kF32, [](OpKernelContext* ctx) { return FillLike(ctx, 1.f); });
  Reg("ZerosLike", kF32, [](OpKernelContext* ctx) { return FillLike(ctx, 0.f); });
  Reg("Relu", kF32, [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(Tensor x, In(ctx, 0));
    SLUICE_ASSIGN_OR_RETURN(Tensor y, NewOutput(ctx, DType::kFloat32, x.shape()));
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchRelu(x.data<float>(), y.data<float>(), x.NumElements(), Stream(ctx))));
    ctx->set_output(0, y);
    return absl::OkStatus();
  });
  Reg("ReluGrad", kF32, [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(Tensor g, In(ctx, 0));
    SLUICE_ASSIGN_OR_RETURN(Tensor f, In(ctx, 1));
    if (g.shape() != f.shape()) return absl::InvalidArgumentError(absl::StrCat(OpName(ctx), ": shapes differ"));
    SLUICE_ASSIGN_OR_RETURN(Tensor y, NewOutput(ctx, DType::kFloat32, g.shape()));
    SLUICE_RETURN_IF_ERROR(Launched(ctx, cuda::LaunchReluGrad(g.data<float>(), f.data<float>(), y.data<float>(),
                                                               g.NumElements(), Stream(ctx))));
    ctx->set_output(0, y);
    return absl::OkStatus();
  });
  Reg("BiasAdd", kF32, BiasAddKernel);
  Reg("BiasAddGrad", kF32, BiasAddGradKernel);
  Reg("Sum", kF32, [](OpKernelContext* ctx) { return ReduceKernel(ctx, false); });
  Reg("Mean", kF32, [](OpKernelContext* ctx) { return ReduceKernel(ctx, true); });
  Reg("SluiceBroadcastReduced", kF32, BroadcastReducedKernel);
  Reg("Softmax", kF32, [](OpKernelContext* ctx) { return SoftmaxKernel(ctx, false); });
  Reg("LogSoftmax", kF32, [](OpKernelContext* ctx) { return SoftmaxKernel(ctx, true); });
  Reg("SparseSoftmaxCrossEntropyWithLogits", kF32, SparseXentKernel);
  Reg("ArgMax", {DType::kInt64}, ArgMaxKernel);
  Reg("MatMul", kF32, MatMulKernel);
  Reg("ApplyMomentum", kF32, MomentumKernel);
  Reg("ApplyGradientDescent", kF32, GradientDescentKernel);
  Reg("Conv2D", kF32, Conv2DKernel);
  Reg("Conv2DBackpropInput", kF32, Conv2DBackpropInputKernel);
  Reg("Conv2DBackpropFilter", kF32, Conv2DBackpropFilterKernel);
  Reg("MaxPool", kF32, MaxPoolKernel);
  Reg("MaxPoolGrad", kF32, MaxPoolGradKernel);
}

}  // namespace

absl::Status RegisterGpuKernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)KernelRegistry::Global();  // the CPU kernels come first
    RegisterAll();
  });
  return absl::OkStatus();
}

}  // namespace sluice
