#include "image/geometry.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

#include "image/internal/image_dims.h"

namespace sluice::image {
namespace {

using internal::ImageDims;

// Copies pixel (sy, sx) of image b of `in` to (dy, dx) of image b of `out`
// for every pixel `map` names; pixel = C elements.
template <typename Map>
Tensor Remap(const Tensor& in, const ImageDims& d, int64_t oh, int64_t ow,
             Map map) {
  Tensor out(in.dtype(), d.Shape(oh, ow, d.c));
  const size_t px = d.c * DTypeSize(in.dtype());
  const char* src = static_cast<const char*>(in.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < d.n; ++b) {
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        int64_t sy, sx;
        map(b, y, x, &sy, &sx);
        std::memcpy(dst + ((b * oh + y) * ow + x) * px,
                    src + ((b * d.h + sy) * d.w + sx) * px, px);
      }
    }
  }
  return out;
}

// Rows of image b flipped horizontally when `flip[b]`, else copied.
Tensor FlipRows(const Tensor& in, const ImageDims& d,
                const std::vector<bool>& flip) {
  Tensor out(in.dtype(), in.shape());
  const size_t px = d.c * DTypeSize(in.dtype());
  const char* src = static_cast<const char*>(in.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < d.n; ++b) {
    const size_t image_bytes = d.pixels() * px;
    if (!flip[b]) {
      std::memcpy(dst + b * image_bytes, src + b * image_bytes, image_bytes);
      continue;
    }
    for (int64_t y = 0; y < d.h; ++y) {
      const char* s = src + b * image_bytes + y * d.w * px;
      char* o = dst + b * image_bytes + y * d.w * px;
      for (int64_t x = 0; x < d.w; ++x)
        std::memcpy(o + x * px, s + (d.w - 1 - x) * px, px);
    }
  }
  return out;
}

Tensor FlipCols(const Tensor& in, const ImageDims& d,
                const std::vector<bool>& flip) {
  Tensor out(in.dtype(), in.shape());
  const size_t row = d.w * d.c * DTypeSize(in.dtype());
  const char* src = static_cast<const char*>(in.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < d.n; ++b) {
    for (int64_t y = 0; y < d.h; ++y) {
      const int64_t sy = flip[b] ? d.h - 1 - y : y;
      std::memcpy(dst + (b * d.h + y) * row, src + (b * d.h + sy) * row, row);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Tensor> CropToBoundingBox(const Tensor& image, int64_t oy,
                                         int64_t ox, int64_t th, int64_t tw) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "CropToBoundingBox"));
  if (oy < 0 || ox < 0 || th <= 0 || tw <= 0 || oy + th > d.h ||
      ox + tw > d.w) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CropToBoundingBox: box [", oy, ", ", ox, ", ", th, ", ", tw,
        "] (offset_height, offset_width, target_height, target_width) does not "
        "fit the ",
        d.h, "x", d.w, " image"));
  }
  Tensor out(image.dtype(), d.Shape(th, tw, d.c));
  const size_t px = d.c * DTypeSize(image.dtype());
  const char* src = static_cast<const char*>(image.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < d.n; ++b) {
    for (int64_t y = 0; y < th; ++y) {
      std::memcpy(dst + (b * th + y) * tw * px,
                  src + ((b * d.h + oy + y) * d.w + ox) * px, tw * px);
    }
  }
  return out;
}

absl::StatusOr<Tensor> PadToBoundingBox(const Tensor& image, int64_t oy,
                                        int64_t ox, int64_t th, int64_t tw) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "PadToBoundingBox"));
  if (oy < 0 || ox < 0 || oy + d.h > th || ox + d.w > tw) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PadToBoundingBox: a ", d.h, "x", d.w, " image at offset (", oy, ", ",
        ox, ") does not fit a ", th, "x", tw, " box"));
  }
  Tensor out = Tensor::Zeros(image.dtype(), d.Shape(th, tw, d.c));
  const size_t px = d.c * DTypeSize(image.dtype());
  const char* src = static_cast<const char*>(image.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < d.n; ++b) {
    for (int64_t y = 0; y < d.h; ++y) {
      std::memcpy(dst + ((b * th + oy + y) * tw + ox) * px,
                  src + (b * d.h + y) * d.w * px, d.w * px);
    }
  }
  return out;
}

absl::StatusOr<Tensor> CentralCrop(const Tensor& image, double fraction) {
  if (!(fraction > 0 && fraction <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CentralCrop: central_fraction must be in (0, 1], got ", fraction));
  }
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "CentralCrop"));
  if (fraction == 1) return image;
  const int64_t sy = static_cast<int64_t>((d.h - d.h * fraction) / 2);
  const int64_t sx = static_cast<int64_t>((d.w - d.w * fraction) / 2);
  return CropToBoundingBox(image, sy, sx, d.h - 2 * sy, d.w - 2 * sx);
}

absl::StatusOr<Tensor> ResizeWithCropOrPad(const Tensor& image, int64_t th,
                                           int64_t tw) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "ResizeWithCropOrPad"));
  if (th <= 0 || tw <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResizeWithCropOrPad: target size must be positive, got ",
                     th, "x", tw));
  }
  const int64_t crop_y = std::max<int64_t>((d.h - th) / 2, 0);
  const int64_t crop_x = std::max<int64_t>((d.w - tw) / 2, 0);
  const int64_t pad_y = std::max<int64_t>((th - d.h) / 2, 0);
  const int64_t pad_x = std::max<int64_t>((tw - d.w) / 2, 0);
  SLUICE_ASSIGN_OR_RETURN(
      Tensor cropped, CropToBoundingBox(image, crop_y, crop_x,
                                        std::min(th, d.h), std::min(tw, d.w)));
  return PadToBoundingBox(cropped, pad_y, pad_x, th, tw);
}

absl::StatusOr<Tensor> RandomCrop(const Tensor& image, int64_t h, int64_t w,
                                  Random* rng) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "RandomCrop"));
  if (h <= 0 || w <= 0 || h > d.h || w > d.w) {
    return absl::InvalidArgumentError(absl::StrCat("RandomCrop: a ", h, "x", w,
                                                   " crop does not fit the ",
                                                   d.h, "x", d.w, " image"));
  }
  const int64_t oy = static_cast<int64_t>(rng->Uniform(d.h - h + 1));
  const int64_t ox = static_cast<int64_t>(rng->Uniform(d.w - w + 1));
  return CropToBoundingBox(image, oy, ox, h, w);
}

absl::StatusOr<Tensor> FlipLeftRight(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "FlipLeftRight"));
  return FlipRows(image, d, std::vector<bool>(d.n, true));
}

absl::StatusOr<Tensor> FlipUpDown(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "FlipUpDown"));
  return FlipCols(image, d, std::vector<bool>(d.n, true));
}

absl::StatusOr<Tensor> RandomFlipLeftRight(const Tensor& image, Random* rng) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "RandomFlipLeftRight"));
  std::vector<bool> flip(d.n);
  for (int64_t b = 0; b < d.n; ++b) flip[b] = rng->Uniform(2) == 1;
  return FlipRows(image, d, flip);
}

absl::StatusOr<Tensor> RandomFlipUpDown(const Tensor& image, Random* rng) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "RandomFlipUpDown"));
  std::vector<bool> flip(d.n);
  for (int64_t b = 0; b < d.n; ++b) flip[b] = rng->Uniform(2) == 1;
  return FlipCols(image, d, flip);
}

absl::StatusOr<Tensor> Transpose(const Tensor& image) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d,
                          internal::ImageDimsOf(image, "Transpose"));
  return Remap(image, d, d.w, d.h,
               [](int64_t, int64_t y, int64_t x, int64_t* sy, int64_t* sx) {
                 *sy = x;
                 *sx = y;
               });
}

absl::StatusOr<Tensor> Rot90(const Tensor& image, int k) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, internal::ImageDimsOf(image, "Rot90"));
  k = ((k % 4) + 4) % 4;
  const int64_t H = d.h, W = d.w;
  switch (k) {
    case 0:
      return image;
    case 1:  // out[y][x] = in[x][W-1-y]
      return Remap(
          image, d, W, H,
          [W](int64_t, int64_t y, int64_t x, int64_t* sy, int64_t* sx) {
            *sy = x;
            *sx = W - 1 - y;
          });
    case 2:
      return Remap(
          image, d, H, W,
          [H, W](int64_t, int64_t y, int64_t x, int64_t* sy, int64_t* sx) {
            *sy = H - 1 - y;
            *sx = W - 1 - x;
          });
    default:  // 3: out[y][x] = in[H-1-x][y]
      return Remap(
          image, d, W, H,
          [H](int64_t, int64_t y, int64_t x, int64_t* sy, int64_t* sx) {
            *sy = H - 1 - x;
            *sx = y;
          });
  }
}

}  // namespace sluice::image
