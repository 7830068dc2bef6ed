#include "image/color.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "image/internal/image_dims.h"

namespace sluice::image {
namespace {

using internal::ImageDims;

// TensorFlow's RGB <-> HSV (the RGBToHSV / HSVToRGB kernels and the fused
// saturation and hue adjustments share these).
inline void RgbToHsvPixel(float r, float g, float b, float* h, float* s,
                          float* v) {
  const float vv = std::max(r, std::max(g, b));
  const float range = vv - std::min(r, std::min(g, b));
  *s = vv > 0 ? range / vv : 0;
  const float norm = 1.0f / (6.0f * range);
  float hh;
  if (r == vv) {
    hh = norm * (g - b);
  } else if (g == vv) {
    hh = norm * (b - r) + 2.0f / 6.0f;
  } else {
    hh = norm * (r - g) + 4.0f / 6.0f;
  }
  if (range <= 0.0f) hh = 0;
  if (hh < 0.0f) hh += 1;
  *h = hh;
  *v = vv;
}

inline void HsvToRgbPixel(float h, float s, float v, float* r, float* g,
                          float* b) {
  const float c = s * v;
  const float m = v - c;
  const float dh = h * 6;
  const int category = static_cast<int>(dh);
  float fmodu = dh;
  while (fmodu <= 0) fmodu += 2.0f;
  while (fmodu >= 2.0f) fmodu -= 2.0f;
  const float x = c * (1 - std::abs(fmodu - 1));
  float rr = 0, gg = 0, bb = 0;
  switch (category) {
    case 0:
      rr = c, gg = x, bb = 0;
      break;
    case 1:
      rr = x, gg = c, bb = 0;
      break;
    case 2:
      rr = 0, gg = c, bb = x;
      break;
    case 3:
      rr = 0, gg = x, bb = c;
      break;
    case 4:
      rr = x, gg = 0, bb = c;
      break;
    case 5:
      rr = c, gg = 0, bb = x;
      break;
    default:
      break;
  }
  *r = rr + m;
  *g = gg + m;
  *b = bb + m;
}

// The float32 version of `image` (uint8 scaled to [0, 1]); a float32
// input is copied so the caller may write it.
absl::StatusOr<Tensor> ToFloat(const Tensor& image) {
  if (image.dtype() == DType::kFloat32) return image.DeepCopy();
  return ConvertImageDtype(image, DType::kFloat32);
}

// Runs `adjust` on a float copy of the image and converts back to the
// input's dtype, saturating (TensorFlow's pattern for every adjustment).
absl::StatusOr<Tensor> AdjustAsFloat(
    const Tensor& image, const char* op, bool rgb,
    const std::function<void(const ImageDims&, float*)>& adjust) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, internal::U8OrFloatDimsOf(image, op));
  if (rgb && d.c != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": the last dimension must be 3 (RGB), got ", d.c));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor f, ToFloat(image));
  adjust(d, f.data<float>());
  if (image.dtype() == DType::kFloat32) return f;
  return ConvertImageDtype(f, image.dtype(), /*saturate=*/true);
}

absl::Status CheckRange(const char* op, float lower, float upper) {
  if (!(upper > lower) || lower < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": need 0 <= lower < upper, got [", lower, ", ", upper, "]"));
  }
  return absl::OkStatus();
}

float UniformIn(Random* rng, float lo, float hi) {
  return lo + static_cast<float>(rng->UniformDouble()) * (hi - lo);
}

}  // namespace

absl::StatusOr<Tensor> ConvertImageDtype(const Tensor& image, DType dtype,
                                         bool saturate) {
  auto supported = [](DType t) {
    return t == DType::kUInt8 || t == DType::kUInt16 || t == DType::kFloat32;
  };
  if (!image.IsInitialized() || !supported(image.dtype()) ||
      !supported(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConvertImageDtype: uint8, uint16 and float are supported, got ",
        image.IsInitialized() ? Sv(DTypeName(image.dtype()))
                              : absl::string_view("nothing"),
        " -> ", Sv(DTypeName(dtype))));
  }
  (void)saturate;  // float -> integer always saturates here (TF leaves overflow
                   // undefined)
  if (image.dtype() == dtype) return image;
  Tensor out(dtype, image.shape());
  const int64_t n = image.NumElements();
  auto max_of = [](DType t) { return t == DType::kUInt8 ? 255.0f : 65535.0f; };
  if (image.dtype() == DType::kFloat32) {
    const float* in = image.data<float>();
    const float scale = max_of(dtype) + 0.5f;
    const float hi = max_of(dtype);
    for (int64_t i = 0; i < n; ++i) {
      const float v = std::clamp(in[i] * scale, 0.0f, hi);  // NaN -> 0 below
      const float t = std::isnan(v) ? 0.0f : v;
      if (dtype == DType::kUInt8) {
        out.data<uint8_t>()[i] = static_cast<uint8_t>(t);
      } else {
        out.data<uint16_t>()[i] = static_cast<uint16_t>(t);
      }
    }
  } else if (dtype == DType::kFloat32) {
    const float scale = 1.0f / max_of(image.dtype());
    float* o = out.data<float>();
    if (image.dtype() == DType::kUInt8) {
      for (int64_t i = 0; i < n; ++i)
        o[i] = static_cast<float>(image.data<uint8_t>()[i]) * scale;
    } else {
      for (int64_t i = 0; i < n; ++i)
        o[i] = static_cast<float>(image.data<uint16_t>()[i]) * scale;
    }
  } else if (dtype == DType::kUInt16) {  // uint8 -> uint16
    for (int64_t i = 0; i < n; ++i)
      out.data<uint16_t>()[i] = image.data<uint8_t>()[i] * 257;
  } else {  // uint16 -> uint8
    for (int64_t i = 0; i < n; ++i)
      out.data<uint8_t>()[i] = image.data<uint16_t>()[i] >> 8;
  }
  return out;
}

absl::StatusOr<Tensor> AdjustBrightness(const Tensor& image, float delta) {
  return AdjustAsFloat(image, "AdjustBrightness", false,
                       [delta](const ImageDims& d, float* x) {
                         const int64_t n = d.n * d.image_elements();
                         for (int64_t i = 0; i < n; ++i) x[i] += delta;
                       });
}

absl::StatusOr<Tensor> AdjustContrast(const Tensor& image, float factor) {
  return AdjustAsFloat(
      image, "AdjustContrast", false, [factor](const ImageDims& d, float* x) {
        std::vector<double> mean(d.c);
        for (int64_t b = 0; b < d.n; ++b) {
          float* img = x + b * d.image_elements();
          std::fill(mean.begin(), mean.end(), 0.0);
          for (int64_t p = 0; p < d.pixels(); ++p) {
            for (int64_t c = 0; c < d.c; ++c) mean[c] += img[p * d.c + c];
          }
          for (int64_t c = 0; c < d.c; ++c)
            mean[c] /= static_cast<double>(d.pixels());
          for (int64_t p = 0; p < d.pixels(); ++p) {
            for (int64_t c = 0; c < d.c; ++c) {
              const float m = static_cast<float>(mean[c]);
              img[p * d.c + c] = (img[p * d.c + c] - m) * factor + m;
            }
          }
        }
      });
}

absl::StatusOr<Tensor> AdjustGamma(const Tensor& image, float gamma,
                                   float gain) {
  if (gamma < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AdjustGamma: gamma must be >= 0, got ", gamma));
  }
  return AdjustAsFloat(image, "AdjustGamma", false,
                       [gamma, gain](const ImageDims& d, float* x) {
                         const int64_t n = d.n * d.image_elements();
                         for (int64_t i = 0; i < n; ++i)
                           x[i] = gain * std::pow(x[i], gamma);
                       });
}

absl::StatusOr<Tensor> AdjustSaturation(const Tensor& image, float factor) {
  return AdjustAsFloat(
      image, "AdjustSaturation", true, [factor](const ImageDims& d, float* x) {
        for (int64_t i = 0; i < d.n * d.pixels(); ++i, x += 3) {
          float h, s, v;
          RgbToHsvPixel(x[0], x[1], x[2], &h, &s, &v);
          s = std::min(1.0f, std::max(0.0f, s * factor));
          HsvToRgbPixel(h, s, v, &x[0], &x[1], &x[2]);
        }
      });
}

absl::StatusOr<Tensor> AdjustHue(const Tensor& image, float delta) {
  if (delta < -1 || delta > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("AdjustHue: delta must be in [-1, 1], got ", delta));
  }
  return AdjustAsFloat(
      image, "AdjustHue", true, [delta](const ImageDims& d, float* x) {
        for (int64_t i = 0; i < d.n * d.pixels(); ++i, x += 3) {
          float h, s, v;
          RgbToHsvPixel(x[0], x[1], x[2], &h, &s, &v);
          h = std::fmod(h + delta, 1.0f);
          if (h < 0.0f) h = std::fmod(h + 1.0f, 1.0f);
          HsvToRgbPixel(h, s, v, &x[0], &x[1], &x[2]);
        }
      });
}

absl::StatusOr<Tensor> RandomBrightness(const Tensor& image, float max_delta,
                                        Random* rng) {
  if (max_delta < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandomBrightness: max_delta must be >= 0, got ", max_delta));
  }
  return AdjustBrightness(image, UniformIn(rng, -max_delta, max_delta));
}

absl::StatusOr<Tensor> RandomContrast(const Tensor& image, float lower,
                                      float upper, Random* rng) {
  SLUICE_RETURN_IF_ERROR(CheckRange("RandomContrast", lower, upper));
  return AdjustContrast(image, UniformIn(rng, lower, upper));
}

absl::StatusOr<Tensor> RandomSaturation(const Tensor& image, float lower,
                                        float upper, Random* rng) {
  SLUICE_RETURN_IF_ERROR(CheckRange("RandomSaturation", lower, upper));
  return AdjustSaturation(image, UniformIn(rng, lower, upper));
}

absl::StatusOr<Tensor> RandomHue(const Tensor& image, float max_delta,
                                 Random* rng) {
  if (max_delta < 0 || max_delta > 0.5f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandomHue: max_delta must be in [0, 0.5], got ", max_delta));
  }
  return AdjustHue(image, UniformIn(rng, -max_delta, max_delta));
}

absl::StatusOr<Tensor> RgbToGrayscale(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::U8OrFloatDimsOf(image, "RgbToGrayscale"));
  if (d.c != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RgbToGrayscale: the last dimension must be 3, got ", d.c));
  }
  SLUICE_ASSIGN_OR_RETURN(Tensor f, ToFloat(image));
  Tensor gray(DType::kFloat32, d.Shape(d.h, d.w, 1));
  const float* x = f.data<float>();
  float* g = gray.data<float>();
  for (int64_t i = 0; i < d.n * d.pixels(); ++i, x += 3) {
    g[i] = 0.2989f * x[0] + 0.5870f * x[1] + 0.1140f * x[2];
  }
  if (image.dtype() == DType::kFloat32) return gray;
  return ConvertImageDtype(gray, image.dtype());
}

absl::StatusOr<Tensor> GrayscaleToRgb(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::U8OrFloatDimsOf(image, "GrayscaleToRgb"));
  if (d.c != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GrayscaleToRgb: the last dimension must be 1, got ", d.c));
  }
  Tensor out(image.dtype(), d.Shape(d.h, d.w, 3));
  const size_t e = DTypeSize(image.dtype());
  const char* in = static_cast<const char*>(image.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < d.n * d.pixels(); ++i) {
    for (int c = 0; c < 3; ++c) std::memcpy(o + (i * 3 + c) * e, in + i * e, e);
  }
  return out;
}

absl::StatusOr<Tensor> RgbToHsv(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "RgbToHsv"));
  if (image.dtype() != DType::kFloat32 || d.c != 3) {
    return absl::InvalidArgumentError(
        "RgbToHsv: images must be float [..., 3]");
  }
  Tensor out(DType::kFloat32, image.shape());
  const float* x = image.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < d.n * d.pixels(); ++i, x += 3, o += 3) {
    RgbToHsvPixel(x[0], x[1], x[2], &o[0], &o[1], &o[2]);
  }
  return out;
}

absl::StatusOr<Tensor> HsvToRgb(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "HsvToRgb"));
  if (image.dtype() != DType::kFloat32 || d.c != 3) {
    return absl::InvalidArgumentError(
        "HsvToRgb: images must be float [..., 3]");
  }
  Tensor out(DType::kFloat32, image.shape());
  const float* x = image.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < d.n * d.pixels(); ++i, x += 3, o += 3) {
    HsvToRgbPixel(x[0], x[1], x[2], &o[0], &o[1], &o[2]);
  }
  return out;
}

absl::StatusOr<Tensor> PerImageStandardization(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(
      ImageDims d, internal::U8OrFloatDimsOf(image, "PerImageStandardization"));
  Tensor out(DType::kFloat32, image.shape());
  const int64_t m = d.image_elements();
  for (int64_t b = 0; b < d.n; ++b) {
    float* o = out.data<float>() + b * m;
    for (int64_t i = 0; i < m; ++i) {
      o[i] = image.dtype() == DType::kFloat32
                 ? image.data<float>()[b * m + i]
                 : static_cast<float>(image.data<uint8_t>()[b * m + i]);
    }
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < m; ++i) sum += o[i];
    const double mean = m > 0 ? sum / m : 0;
    for (int64_t i = 0; i < m; ++i) sq += (o[i] - mean) * (o[i] - mean);
    const double stddev = m > 0 ? std::sqrt(sq / m) : 0;
    const double adjusted =
        std::max(stddev, m > 0 ? 1.0 / std::sqrt(static_cast<double>(m)) : 1.0);
    for (int64_t i = 0; i < m; ++i)
      o[i] = static_cast<float>((o[i] - mean) / adjusted);
  }
  return out;
}

}  // namespace sluice::image
