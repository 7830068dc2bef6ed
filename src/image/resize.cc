#include "image/resize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "image/internal/image_dims.h"

namespace sluice::image {
namespace {

using internal::ImageDims;

// Input pixels as float, whatever the stored dtype.
struct Source {
  const Tensor& t;
  float operator[](int64_t i) const {
    return t.dtype() == DType::kFloat32
               ? t.data<float>()[i]
               : static_cast<float>(t.data<uint8_t>()[i]);
  }
};

absl::StatusOr<ImageDims> Check(const Tensor& images, int64_t h, int64_t w,
                                const char* op) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, internal::U8OrFloatDimsOf(images, op));
  if (h <= 0 || w <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": size must be positive, got ", h, "x", w));
  }
  if (d.h <= 0 || d.w <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": the input image is empty"));
  }
  return d;
}

absl::Status CheckFlags(bool align_corners, bool half_pixel_centers,
                        const char* op) {
  if (align_corners && half_pixel_centers) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": if half_pixel_centers is true, align_corners must be false"));
  }
  return absl::OkStatus();
}

// TensorFlow's CalculateResizeScale.
float Scale(int64_t in, int64_t out, bool align_corners) {
  return (align_corners && out > 1) ? (in - 1) / static_cast<float>(out - 1)
                                    : in / static_cast<float>(out);
}

// A separable resampling: out[i] = sum_k weights[i][k] * in[starts[i] + k].
struct Spans {
  std::vector<int64_t> start;
  std::vector<std::vector<float>> weights;
};

// Applies row spans then column spans (each image, each channel).
Tensor Separable(const Tensor& images, const ImageDims& d, int64_t oh,
                 int64_t ow, const Spans& ys, const Spans& xs) {
  Source src{images};
  std::vector<float> tmp(static_cast<size_t>(d.h * ow * d.c));
  Tensor out(DType::kFloat32, d.Shape(oh, ow, d.c));
  float* o = out.data<float>();
  for (int64_t b = 0; b < d.n; ++b) {
    const int64_t base = b * d.image_elements();
    for (int64_t y = 0; y < d.h; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        const std::vector<float>& wx = xs.weights[x];
        for (int64_t c = 0; c < d.c; ++c) {
          float sum = 0;
          for (size_t k = 0; k < wx.size(); ++k) {
            sum += wx[k] * src[base + (y * d.w + xs.start[x] + k) * d.c + c];
          }
          tmp[(y * ow + x) * d.c + c] = sum;
        }
      }
    }
    for (int64_t y = 0; y < oh; ++y) {
      const std::vector<float>& wy = ys.weights[y];
      for (int64_t x = 0; x < ow; ++x) {
        for (int64_t c = 0; c < d.c; ++c) {
          float sum = 0;
          for (size_t k = 0; k < wy.size(); ++k) {
            sum += wy[k] * tmp[((ys.start[y] + k) * ow + x) * d.c + c];
          }
          o[((b * oh + y) * ow + x) * d.c + c] = sum;
        }
      }
    }
  }
  return out;
}

// ScaleAndTranslate's spans (scale = out/in, no translation).
template <typename Kernel>
Spans AntialiasSpans(int64_t in, int64_t out, float radius, bool antialias,
                     Kernel kernel) {
  const float inv_scale = static_cast<float>(in) / static_cast<float>(out);
  const float kernel_scale = antialias ? std::max(inv_scale, 1.0f) : 1.0f;
  Spans s;
  for (int64_t x = 0; x < out; ++x) {
    const float sample = (x + 0.5f) * inv_scale;
    int64_t lo =
        static_cast<int64_t>(std::ceil(sample - radius * kernel_scale - 0.5f));
    int64_t hi =
        static_cast<int64_t>(std::floor(sample + radius * kernel_scale - 0.5f));
    lo = std::clamp<int64_t>(lo, 0, in - 1);
    hi = std::clamp<int64_t>(hi, 0, in - 1) + 1;
    std::vector<float> w;
    float total = 0;
    for (int64_t j = lo; j < hi; ++j) {
      const float v = kernel(std::abs((j + 0.5f - sample) / kernel_scale));
      w.push_back(v);
      total += v;
    }
    if (std::abs(total) >= 1000.0f * FLT_MIN) {
      for (float& v : w) v /= total;
    }
    s.start.push_back(lo);
    s.weights.push_back(std::move(w));
  }
  return s;
}

float Triangle(float x) { return x < 1.0f ? 1.0f - x : 0.0f; }
float KeysCubic(float x) {  // a = -0.5
  if (x >= 2.0f) return 0.0f;
  if (x >= 1.0f) return ((-0.5f * x + 2.5f) * x - 4.0f) * x + 2.0f;
  return ((1.5f * x - 2.5f) * x) * x + 1.0f;
}

// TensorFlow's bicubic coefficient table (1024 steps per unit).
constexpr int kTableSize = 1024;
const float* BicubicTable(float a) {
  auto make = [](float A) {
    float* t = new float[(kTableSize + 1) * 2];
    for (int i = 0; i <= kTableSize; ++i) {
      float x = i * 1.0f / kTableSize;
      t[i * 2] = ((A + 2) * x - (A + 3)) * x * x + 1;
      x += 1.0;
      t[i * 2 + 1] = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
    return t;
  };
  static const float* keys = make(-0.5f);
  static const float* legacy = make(-0.75f);
  return a == -0.5f ? keys : legacy;
}

Spans BicubicSpans(int64_t in, int64_t out, float scale, bool half_pixel) {
  const float* table = BicubicTable(half_pixel ? -0.5f : -0.75f);
  Spans s;
  auto bound = [in](int64_t v) {
    return std::min(in - 1, std::max<int64_t>(0, v));
  };
  for (int64_t x = 0; x < out; ++x) {
    const float loc = half_pixel ? (x + 0.5f) * scale - 0.5f : x * scale;
    const int64_t il = static_cast<int64_t>(std::floor(loc));
    const float delta = loc - il;
    const int64_t off = std::lrintf(delta * kTableSize);
    float w[4] = {table[off * 2 + 1], table[off * 2],
                  table[(kTableSize - off) * 2],
                  table[(kTableSize - off) * 2 + 1]};
    int64_t idx[4] = {bound(il - 1), bound(il), bound(il + 1), bound(il + 2)};
    if (half_pixel) {  // Keys: taps outside the image are dropped
      float sum = 0;
      for (int k = 0; k < 4; ++k) {
        if (idx[k] != il - 1 + k) w[k] = 0;
        sum += w[k];
      }
      if (std::abs(sum) >= 1000.0f * FLT_MIN) {
        for (float& v : w) v *= 1.0f / sum;
      }
    }
    // Spans want contiguous taps: express the 4 (possibly repeated) indices
    // as weights over [idx[0], idx[3]].
    const int64_t lo = idx[0];
    std::vector<float> ws(idx[3] - lo + 1, 0.0f);
    for (int k = 0; k < 4; ++k) ws[idx[k] - lo] += w[k];
    s.start.push_back(lo);
    s.weights.push_back(std::move(ws));
  }
  return s;
}

Spans BilinearSpans(int64_t in, int64_t out, float scale, bool half_pixel) {
  Spans s;
  for (int64_t i = 0; i < out; ++i) {
    const float loc = half_pixel ? (i + 0.5f) * scale - 0.5f : i * scale;
    const float fl = std::floor(loc);
    const int64_t lower = std::max<int64_t>(static_cast<int64_t>(fl), 0);
    const int64_t upper =
        std::min<int64_t>(static_cast<int64_t>(std::ceil(loc)), in - 1);
    const float lerp = loc - fl;
    s.start.push_back(lower);
    if (upper <= lower) {
      s.weights.push_back({1.0f});
    } else {
      s.weights.push_back(std::vector<float>(upper - lower + 1, 0.0f));
      s.weights.back().front() += 1.0f - lerp;
      s.weights.back().back() += lerp;
    }
  }
  return s;
}

}  // namespace

absl::StatusOr<ResizeMethod> ParseResizeMethod(std::string_view name) {
  if (name == "bilinear") return ResizeMethod::kBilinear;
  if (name == "nearest") return ResizeMethod::kNearest;
  if (name == "bicubic") return ResizeMethod::kBicubic;
  if (name == "area") return ResizeMethod::kArea;
  return absl::InvalidArgumentError(absl::StrCat(
      "resize method must be bilinear, nearest, bicubic or area, got '",
      Sv(name), "'"));
}

absl::StatusOr<Tensor> ResizeBilinear(const Tensor& images, int64_t oh,
                                      int64_t ow, bool align_corners,
                                      bool half_pixel) {
  SLUICE_RETURN_IF_ERROR(
      CheckFlags(align_corners, half_pixel, "ResizeBilinear"));
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, Check(images, oh, ow, "ResizeBilinear"));
  // TF computes top = tl + (tr - tl) * xl; out = top + (bottom - top) * yl.
  // The separable form (1 - l) * a + l * b gives the same value to within
  // float rounding (a few ulp).
  const Spans ys =
      BilinearSpans(d.h, oh, Scale(d.h, oh, align_corners), half_pixel);
  const Spans xs =
      BilinearSpans(d.w, ow, Scale(d.w, ow, align_corners), half_pixel);
  return Separable(images, d, oh, ow, ys, xs);
}

absl::StatusOr<Tensor> ResizeNearestNeighbor(const Tensor& images, int64_t oh,
                                             int64_t ow, bool align_corners,
                                             bool half_pixel) {
  SLUICE_RETURN_IF_ERROR(
      CheckFlags(align_corners, half_pixel, "ResizeNearestNeighbor"));
  SLUICE_ASSIGN_OR_RETURN(
      ImageDims d, internal::ImageDimsOf(images, "ResizeNearestNeighbor"));
  if (oh <= 0 || ow <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ResizeNearestNeighbor: size must be positive, got ", oh, "x", ow));
  }
  const float sy = Scale(d.h, oh, align_corners),
              sx = Scale(d.w, ow, align_corners);
  auto index = [&](int64_t o, float scale, int64_t in) {
    const float loc = half_pixel ? (o + 0.5f) * scale : o * scale;
    int64_t i = align_corners ? static_cast<int64_t>(std::round(loc))
                              : static_cast<int64_t>(std::floor(loc));
    i = std::min(i, in - 1);
    return half_pixel ? std::max<int64_t>(i, 0) : i;
  };
  Tensor out(images.dtype(), d.Shape(oh, ow, d.c));
  const size_t px = d.c * DTypeSize(images.dtype());
  const char* src = static_cast<const char*>(images.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  std::vector<int64_t> xi(ow);
  for (int64_t x = 0; x < ow; ++x) xi[x] = index(x, sx, d.w);
  for (int64_t b = 0; b < d.n; ++b) {
    for (int64_t y = 0; y < oh; ++y) {
      const int64_t iy = index(y, sy, d.h);
      for (int64_t x = 0; x < ow; ++x) {
        std::memcpy(dst + ((b * oh + y) * ow + x) * px,
                    src + ((b * d.h + iy) * d.w + xi[x]) * px, px);
      }
    }
  }
  return out;
}

absl::StatusOr<Tensor> ResizeBicubic(const Tensor& images, int64_t oh,
                                     int64_t ow, bool align_corners,
                                     bool half_pixel) {
  SLUICE_RETURN_IF_ERROR(
      CheckFlags(align_corners, half_pixel, "ResizeBicubic"));
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, Check(images, oh, ow, "ResizeBicubic"));
  const Spans ys =
      BicubicSpans(d.h, oh, Scale(d.h, oh, align_corners), half_pixel);
  const Spans xs =
      BicubicSpans(d.w, ow, Scale(d.w, ow, align_corners), half_pixel);
  return Separable(images, d, oh, ow, ys, xs);
}

absl::StatusOr<Tensor> ResizeArea(const Tensor& images, int64_t oh, int64_t ow,
                                  bool align_corners) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, Check(images, oh, ow, "ResizeArea"));
  auto spans = [](int64_t in, int64_t out, float scale) {
    Spans s;
    for (int64_t o = 0; o < out; ++o) {
      const float in0 = o * scale, in1 = (o + 1) * scale;
      const int64_t lo = static_cast<int64_t>(std::floor(in0));
      const int64_t hi = static_cast<int64_t>(std::ceil(in1));
      const int64_t first = std::min(lo, in - 1);
      const int64_t last = std::min(hi - 1, in - 1);
      std::vector<float> w(last - first + 1, 0.0f);
      for (int64_t i = lo; i < hi; ++i) {
        const float v = std::min(static_cast<float>(i + 1), in1) -
                        std::max(static_cast<float>(i), in0);
        w[std::min(i, in - 1) - first] += v / scale;
      }
      s.start.push_back(first);
      s.weights.push_back(std::move(w));
    }
    return s;
  };
  return Separable(images, d, oh, ow,
                   spans(d.h, oh, Scale(d.h, oh, align_corners)),
                   spans(d.w, ow, Scale(d.w, ow, align_corners)));
}

absl::StatusOr<Tensor> Resize(const Tensor& images, int64_t oh, int64_t ow,
                              const ResizeOptions& o) {
  switch (o.method) {
    case ResizeMethod::kNearest:
      return ResizeNearestNeighbor(images, oh, ow, false, true);
    case ResizeMethod::kArea:
      return ResizeArea(images, oh, ow, false);
    case ResizeMethod::kBilinear:
      if (!o.antialias) return ResizeBilinear(images, oh, ow, false, true);
      break;
    case ResizeMethod::kBicubic:
      if (!o.antialias) return ResizeBicubic(images, oh, ow, false, true);
      break;
  }
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, Check(images, oh, ow, "Resize"));
  const bool bilinear = o.method == ResizeMethod::kBilinear;
  const float radius = bilinear ? 1.0f : 2.0f;
  auto kernel = [bilinear](float x) {
    return bilinear ? Triangle(x) : KeysCubic(x);
  };
  return Separable(images, d, oh, ow,
                   AntialiasSpans(d.h, oh, radius, true, kernel),
                   AntialiasSpans(d.w, ow, radius, true, kernel));
}

}  // namespace sluice::image
