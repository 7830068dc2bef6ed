#include "kernels/nn_ops.h"

#include <cmath>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

absl::Status NeedRank(const Tensor& t, int r, const char* what) {
  if (t.rank() != r) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be rank ", r, ", got shape ",
                                                   t.shape().DebugString()));
  }
  return absl::OkStatus();
}

// rows x cols view of a tensor whose last dim is cols.
template <typename T>
Eigen::Map<const RowMat<T>> LastDimMatrix(const Tensor& t) {
  const int64_t cols = t.rank() == 0 ? 1 : t.dim(t.rank() - 1);
  const int64_t rows = cols == 0 ? 0 : t.NumElements() / cols;
  return Eigen::Map<const RowMat<T>>(t.data<T>(), rows, cols);
}

template <typename T>
void SoftmaxRows(const Eigen::Map<const RowMat<T>>& x, T* out, bool log) {
  Eigen::Map<RowMat<T>> y(out, x.rows(), x.cols());
  for (int64_t i = 0; i < x.rows(); ++i) {
    const T m = x.row(i).maxCoeff();
    auto shifted = (x.row(i).array() - m);
    const T sum = shifted.exp().sum();
    if (log) {
      y.row(i) = shifted - std::log(sum);
    } else {
      y.row(i) = shifted.exp() / sum;
    }
  }
}

struct ConvGeom {
  int64_t n, h, w, c, kh, kw, o, oh, ow, pad_h, pad_w, sh, sw;
};

absl::StatusOr<ConvGeom> Geometry(const TensorShape& in, int64_t kh, int64_t kw, int64_t o,
                                  int64_t sh, int64_t sw, Padding p) {
  if (in.rank() != 4) return absl::InvalidArgumentError("input must be 4-dimensional (NHWC)");
  if (sh <= 0 || sw <= 0) return absl::InvalidArgumentError("strides must be positive");
  ConvGeom g{in.dim(0), in.dim(1), in.dim(2), in.dim(3), kh, kw, o, 0, 0, 0, 0, sh, sw};
  ConvOutputSize(g.h, kh, sh, p, &g.oh, &g.pad_h);
  ConvOutputSize(g.w, kw, sw, p, &g.ow, &g.pad_w);
  if (g.oh < 0 || g.ow < 0) return absl::InvalidArgumentError("window larger than the input");
  return g;
}

// Patches of image b as rows [oh*ow, kh*kw*c] (zeros in the padding).
template <typename T>
void Im2Col(const T* img, const ConvGeom& g, T* col) {
  const int64_t k = g.kh * g.kw * g.c;
  for (int64_t y = 0; y < g.oh; ++y) {
    for (int64_t x = 0; x < g.ow; ++x) {
      T* row = col + (y * g.ow + x) * k;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t iy = y * g.sh + i - g.pad_h;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ix = x * g.sw + j - g.pad_w;
          T* dst = row + (i * g.kw + j) * g.c;
          if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
            for (int64_t ch = 0; ch < g.c; ++ch) dst[ch] = T(0);
          } else {
            const T* src = img + (iy * g.w + ix) * g.c;
            for (int64_t ch = 0; ch < g.c; ++ch) dst[ch] = src[ch];
          }
        }
      }
    }
  }
}

template <typename T>
void Col2ImAdd(const T* col, const ConvGeom& g, T* img) {
  const int64_t k = g.kh * g.kw * g.c;
  for (int64_t y = 0; y < g.oh; ++y) {
    for (int64_t x = 0; x < g.ow; ++x) {
      const T* row = col + (y * g.ow + x) * k;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t iy = y * g.sh + i - g.pad_h;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ix = x * g.sw + j - g.pad_w;
          if (ix < 0 || ix >= g.w) continue;
          const T* src = row + (i * g.kw + j) * g.c;
          T* dst = img + (iy * g.w + ix) * g.c;
          for (int64_t ch = 0; ch < g.c; ++ch) dst[ch] += src[ch];
        }
      }
    }
  }
}

}  // namespace

absl::Status Softmax(const Tensor& logits, Tensor* out) {
  if (logits.rank() < 1) return absl::InvalidArgumentError("logits must have rank >= 1");
  return internal::DispatchFloat("Softmax", logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(logits.dtype(), logits.shape());
    SoftmaxRows<T>(LastDimMatrix<T>(logits), out->data<T>(), false);
    return absl::OkStatus();
  });
}

absl::Status LogSoftmax(const Tensor& logits, Tensor* out) {
  if (logits.rank() < 1) return absl::InvalidArgumentError("logits must have rank >= 1");
  return internal::DispatchFloat("LogSoftmax", logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(logits.dtype(), logits.shape());
    SoftmaxRows<T>(LastDimMatrix<T>(logits), out->data<T>(), true);
    return absl::OkStatus();
  });
}

absl::Status SoftmaxCrossEntropyWithLogits(const Tensor& logits, const Tensor& labels,
                                           Tensor* loss, Tensor* backprop) {
  SLUICE_RETURN_IF_ERROR(NeedRank(logits, 2, "logits"));
  if (labels.shape() != logits.shape() || labels.dtype() != logits.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "logits and labels must be same size: logits_size=", logits.shape().DebugString(),
        " labels_size=", labels.shape().DebugString()));
  }
  return internal::DispatchFloat("SoftmaxCrossEntropyWithLogits", logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t b = logits.dim(0), c = logits.dim(1);
    Tensor logp(logits.dtype(), logits.shape());
    SoftmaxRows<T>(LastDimMatrix<T>(logits), logp.data<T>(), true);
    *loss = Tensor(logits.dtype(), TensorShape{b});
    *backprop = Tensor(logits.dtype(), logits.shape());
    const T* lp = logp.data<T>();
    const T* y = labels.data<T>();
    T* bp = backprop->data<T>();
    for (int64_t i = 0; i < b; ++i) {
      T acc = 0;
      for (int64_t j = 0; j < c; ++j) {
        const int64_t k = i * c + j;
        acc -= y[k] * lp[k];
        bp[k] = std::exp(lp[k]) - y[k];
      }
      loss->template data<T>()[i] = acc;
    }
    return absl::OkStatus();
  });
}

absl::Status SparseSoftmaxCrossEntropyWithLogits(const Tensor& logits, const Tensor& labels,
                                                 Tensor* loss, Tensor* backprop) {
  SLUICE_RETURN_IF_ERROR(NeedRank(logits, 2, "logits"));
  if (labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels must be 1-D with the batch size of logits: logits ", logits.shape().DebugString(),
        ", labels ", labels.shape().DebugString()));
  }
  if (labels.dtype() != DType::kInt32 && labels.dtype() != DType::kInt64) {
    return internal::UnsupportedDType("SparseSoftmaxCrossEntropyWithLogits labels", labels.dtype());
  }
  return internal::DispatchFloat("SparseSoftmaxCrossEntropyWithLogits", logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t b = logits.dim(0), c = logits.dim(1);
    Tensor logp(logits.dtype(), logits.shape());
    SoftmaxRows<T>(LastDimMatrix<T>(logits), logp.data<T>(), true);
    *loss = Tensor(logits.dtype(), TensorShape{b});
    *backprop = Tensor(logits.dtype(), logits.shape());
    const T* lp = logp.data<T>();
    T* bp = backprop->data<T>();
    for (int64_t i = 0; i < b; ++i) {
      const int64_t label = labels.dtype() == DType::kInt64 ? labels.data<int64_t>()[i]
                                                            : labels.data<int32_t>()[i];
      if (label < 0 || label >= c) {
        return absl::InvalidArgumentError(absl::StrCat("Received a label value of ", label,
                                                       " which is outside the valid range of [0, ",
                                                       c, ")."));
      }
      for (int64_t j = 0; j < c; ++j) bp[i * c + j] = std::exp(lp[i * c + j]);
      bp[i * c + label] -= T(1);
      loss->template data<T>()[i] = -lp[i * c + label];
    }
    return absl::OkStatus();
  });
}

absl::Status BiasAdd(const Tensor& value, const Tensor& bias, Tensor* out) {
  if (value.rank() < 1 || bias.rank() != 1 || bias.dim(0) != value.dim(value.rank() - 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Must provide as many biases as the last dimension of the input tensor: ",
        bias.shape().DebugString(), " vs. ", value.shape().DebugString()));
  }
  if (value.dtype() != bias.dtype()) return absl::InvalidArgumentError("BiasAdd: dtypes differ");
  return internal::DispatchNumeric("BiasAdd", value.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(value.dtype(), value.shape());
    const int64_t c = bias.dim(0);
    const int64_t rows = c == 0 ? 0 : value.NumElements() / c;
    const T* v = value.data<T>();
    const T* bb = bias.data<T>();
    T* o = out->data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < c; ++j) o[i * c + j] = v[i * c + j] + bb[j];
    }
    return absl::OkStatus();
  });
}

absl::Status BiasAddGrad(const Tensor& grad, Tensor* out) {
  if (grad.rank() < 1) return absl::InvalidArgumentError("BiasAddGrad: rank must be >= 1");
  return internal::DispatchNumeric("BiasAddGrad", grad.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t c = grad.dim(grad.rank() - 1);
    *out = Tensor(grad.dtype(), TensorShape{c});
    const int64_t rows = c == 0 ? 0 : grad.NumElements() / c;
    T* o = out->data<T>();
    for (int64_t j = 0; j < c; ++j) o[j] = 0;
    const T* g = grad.data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < c; ++j) o[j] += g[i * c + j];
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<Padding> ParsePadding(std::string_view s) {
  if (s == "VALID") return Padding::kValid;
  if (s == "SAME") return Padding::kSame;
  return absl::InvalidArgumentError(absl::StrCat("padding must be SAME or VALID, got ", Sv(s)));
}

void ConvOutputSize(int64_t in, int64_t k, int64_t stride, Padding p, int64_t* out,
                    int64_t* pad_before) {
  if (p == Padding::kValid) {
    *out = (in - k + stride) / stride;
    *pad_before = 0;
  } else {
    *out = (in + stride - 1) / stride;
    const int64_t pad = std::max<int64_t>(0, (*out - 1) * stride + k - in);
    *pad_before = pad / 2;
  }
}

absl::Status Conv2D(const Tensor& input, const Tensor& filter, int64_t stride_h,
                    int64_t stride_w, Padding padding, Tensor* out) {
  SLUICE_RETURN_IF_ERROR(NeedRank(filter, 4, "filter"));
  SLUICE_ASSIGN_OR_RETURN(ConvGeom g, Geometry(input.shape(), filter.dim(0), filter.dim(1),
                                               filter.dim(3), stride_h, stride_w, padding));
  if (filter.dim(2) != g.c) {
    return absl::InvalidArgumentError(absl::StrCat("input depth must equal filter in_depth: ", g.c,
                                                   " vs ", filter.dim(2)));
  }
  return internal::DispatchFloat("Conv2D", input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(input.dtype(), TensorShape{g.n, g.oh, g.ow, g.o});
    const int64_t k = g.kh * g.kw * g.c, p = g.oh * g.ow;
    std::vector<T> col(p * k);
    Eigen::Map<const RowMat<T>> f(filter.data<T>(), k, g.o);
    for (int64_t b = 0; b < g.n; ++b) {
      Im2Col(input.data<T>() + b * g.h * g.w * g.c, g, col.data());
      Eigen::Map<const RowMat<T>> cm(col.data(), p, k);
      Eigen::Map<RowMat<T>> om(out->data<T>() + b * p * g.o, p, g.o);
      om.noalias() = cm * f;
    }
    return absl::OkStatus();
  });
}

absl::Status Conv2DBackpropInput(const TensorShape& input_shape, const Tensor& filter,
                                 const Tensor& out_backprop, int64_t stride_h, int64_t stride_w,
                                 Padding padding, Tensor* out) {
  SLUICE_RETURN_IF_ERROR(NeedRank(filter, 4, "filter"));
  SLUICE_ASSIGN_OR_RETURN(ConvGeom g, Geometry(input_shape, filter.dim(0), filter.dim(1),
                                               filter.dim(3), stride_h, stride_w, padding));
  if (out_backprop.shape() != TensorShape{g.n, g.oh, g.ow, g.o}) {
    return absl::InvalidArgumentError("Conv2DBackpropInput: out_backprop has the wrong shape");
  }
  return internal::DispatchFloat("Conv2DBackpropInput", filter.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(filter.dtype(), input_shape);
    std::fill_n(out->data<T>(), out->NumElements(), T(0));
    const int64_t k = g.kh * g.kw * g.c, p = g.oh * g.ow;
    std::vector<T> col(p * k);
    Eigen::Map<const RowMat<T>> f(filter.data<T>(), k, g.o);
    for (int64_t b = 0; b < g.n; ++b) {
      Eigen::Map<const RowMat<T>> dy(out_backprop.data<T>() + b * p * g.o, p, g.o);
      Eigen::Map<RowMat<T>> cm(col.data(), p, k);
      cm.noalias() = dy * f.transpose();
      Col2ImAdd(col.data(), g, out->data<T>() + b * g.h * g.w * g.c);
    }
    return absl::OkStatus();
  });
}

absl::Status Conv2DBackpropFilter(const Tensor& input, const TensorShape& filter_shape,
                                  const Tensor& out_backprop, int64_t stride_h, int64_t stride_w,
                                  Padding padding, Tensor* out) {
  if (filter_shape.rank() != 4) return absl::InvalidArgumentError("filter must be rank 4");
  SLUICE_ASSIGN_OR_RETURN(ConvGeom g, Geometry(input.shape(), filter_shape.dim(0),
                                               filter_shape.dim(1), filter_shape.dim(3), stride_h,
                                               stride_w, padding));
  if (out_backprop.shape() != TensorShape{g.n, g.oh, g.ow, g.o}) {
    return absl::InvalidArgumentError("Conv2DBackpropFilter: out_backprop has the wrong shape");
  }
  return internal::DispatchFloat("Conv2DBackpropFilter", input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t k = g.kh * g.kw * g.c, p = g.oh * g.ow;
    *out = Tensor(input.dtype(), filter_shape);
    Eigen::Map<RowMat<T>> df(out->data<T>(), k, g.o);
    df.setZero();
    std::vector<T> col(p * k);
    for (int64_t b = 0; b < g.n; ++b) {
      Im2Col(input.data<T>() + b * g.h * g.w * g.c, g, col.data());
      Eigen::Map<const RowMat<T>> cm(col.data(), p, k);
      Eigen::Map<const RowMat<T>> dy(out_backprop.data<T>() + b * p * g.o, p, g.o);
      df.noalias() += cm.transpose() * dy;
    }
    return absl::OkStatus();
  });
}

namespace {
// Calls visit(out_index, argmax_input_index) for every pooling window.
template <typename T, typename Visit>
void PoolWindows(const T* in, const ConvGeom& g, Visit visit) {
  for (int64_t b = 0; b < g.n; ++b) {
    for (int64_t y = 0; y < g.oh; ++y) {
      for (int64_t x = 0; x < g.ow; ++x) {
        for (int64_t ch = 0; ch < g.c; ++ch) {
          int64_t best = -1;
          T best_v = std::numeric_limits<T>::lowest();
          for (int64_t i = 0; i < g.kh; ++i) {
            const int64_t iy = y * g.sh + i - g.pad_h;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t ix = x * g.sw + j - g.pad_w;
              if (ix < 0 || ix >= g.w) continue;
              const int64_t at = ((b * g.h + iy) * g.w + ix) * g.c + ch;
              if (best < 0 || in[at] > best_v) {
                best = at;
                best_v = in[at];
              }
            }
          }
          visit(((b * g.oh + y) * g.ow + x) * g.c + ch, best);
        }
      }
    }
  }
}
}  // namespace

absl::Status MaxPool(const Tensor& input, int64_t kh, int64_t kw, int64_t stride_h,
                     int64_t stride_w, Padding padding, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(ConvGeom g, Geometry(input.shape(), kh, kw, 0, stride_h, stride_w, padding));
  return internal::DispatchFloat("MaxPool", input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(input.dtype(), TensorShape{g.n, g.oh, g.ow, g.c});
    const T* in = input.data<T>();
    T* o = out->data<T>();
    PoolWindows<T>(in, g, [&](int64_t oi, int64_t ii) { o[oi] = ii < 0 ? T(0) : in[ii]; });
    return absl::OkStatus();
  });
}

absl::Status MaxPoolGrad(const Tensor& input, const Tensor& out_backprop, int64_t kh, int64_t kw,
                         int64_t stride_h, int64_t stride_w, Padding padding, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(ConvGeom g, Geometry(input.shape(), kh, kw, 0, stride_h, stride_w, padding));
  if (out_backprop.shape() != TensorShape{g.n, g.oh, g.ow, g.c}) {
    return absl::InvalidArgumentError("MaxPoolGrad: out_backprop has the wrong shape");
  }
  return internal::DispatchFloat("MaxPoolGrad", input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(input.dtype(), input.shape());
    T* o = out->data<T>();
    std::fill_n(o, out->NumElements(), T(0));
    const T* dy = out_backprop.data<T>();
    PoolWindows<T>(input.data<T>(), g, [&](int64_t oi, int64_t ii) {
      if (ii >= 0) o[ii] += dy[oi];
    });
    return absl::OkStatus();
  });
}

}  // namespace sluice
