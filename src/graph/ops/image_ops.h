#pragma once
// tf.image as graph nodes, with TensorFlow's op names and attributes, over
// the kernels of src/image (same semantics and status codes):
//
//   DecodeJpeg(contents; channels, ratio, dct_method)   uint8 [H, W, C]
//   DecodeAndCropJpeg(contents, crop_window int32 [4])  uint8 [h, w, C]
//   DecodePng(contents; channels, dtype uint8|uint16)
//   DecodeImage(contents; channels, dtype uint8|uint16|float)
//   ExtractJpegShape(contents)                          int32 [3]
//   EncodeJpeg(image; quality, progressive, chroma_downsampling)  string []
//   EncodePng(image; compression)                       string []
//   ResizeBilinear / ResizeNearestNeighbor / ResizeBicubic
//     (images, size int32 [2]; align_corners, half_pixel_centers)
//   ResizeArea(images, size; align_corners)
//   ScaleAndTranslate(images, size, scale, translation; kernel_type
//     "triangle" | "keyscubic", antialias): the antialiased resize;
//     scale must be size / input size and translation 0 (what
//     tf.image.resize builds), else InvalidArgument.
//   AdjustContrastv2(images, contrast_factor), AdjustHue(images, delta),
//   AdjustSaturation(images, scale), RGBToHSV, HSVToRGB
//   RandomCrop(image, size int64 [2]; seed, seed2)  (stateful)
//
// The builders below add those nodes; Resize() is tf.image.resize (TF2:
// half-pixel centres, float32 output except nearest), choosing the op as
// TensorFlow does. Decoding takes a string scalar; the resizes and
// adjustments take [H, W, C] or [N, H, W, C] uint8 or float32 images.

#include <string>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "image/resize.h"

namespace sluice::ops {

struct DecodeJpegAttrs {
  int64_t channels = 0;
  int64_t ratio = 1;
  std::string dct_method;  // "", "INTEGER_FAST", "INTEGER_ACCURATE"
};
Output DecodeJpeg(const Scope& scope, const Input& contents,
                  const DecodeJpegAttrs& attrs = {});
// crop_window: int32 [4] = [y, x, height, width].
Output DecodeAndCropJpeg(const Scope& scope, const Input& contents,
                         const Input& crop_window,
                         const DecodeJpegAttrs& attrs = {});
Output DecodePng(const Scope& scope, const Input& contents,
                 int64_t channels = 0, DType dtype = DType::kUInt8);
Output DecodeImage(const Scope& scope, const Input& contents,
                   int64_t channels = 0, DType dtype = DType::kUInt8);
Output ExtractJpegShape(const Scope& scope, const Input& contents);
Output EncodeJpeg(const Scope& scope, const Input& image, int64_t quality = 95,
                  bool progressive = false, bool chroma_downsampling = true);
Output EncodePng(const Scope& scope, const Input& image,
                 int64_t compression = -1);

// size: int32 [2] = [height, width].
Output ResizeBilinear(const Scope& scope, const Input& images,
                      const Input& size, bool align_corners = false,
                      bool half_pixel_centers = false);
Output ResizeNearestNeighbor(const Scope& scope, const Input& images,
                             const Input& size, bool align_corners = false,
                             bool half_pixel_centers = false);
Output ResizeBicubic(const Scope& scope, const Input& images, const Input& size,
                     bool align_corners = false,
                     bool half_pixel_centers = false);
Output ResizeArea(const Scope& scope, const Input& images, const Input& size,
                  bool align_corners = false);
// tf.image.resize(images, [height, width], method, antialias).
Output Resize(const Scope& scope, const Input& images, int64_t height,
              int64_t width,
              image::ResizeMethod method = image::ResizeMethod::kBilinear,
              bool antialias = false);

Output AdjustContrast(const Scope& scope, const Input& images,
                      const Input& contrast_factor);
Output AdjustHue(const Scope& scope, const Input& images, const Input& delta);
Output AdjustSaturation(const Scope& scope, const Input& images,
                        const Input& scale);
Output RgbToHsv(const Scope& scope, const Input& images);
Output HsvToRgb(const Scope& scope, const Input& images);
// size: int64 [2] = [height, width]; seed as for the random ops.
Output RandomCrop(const Scope& scope, const Input& image, const Input& size,
                  int64_t seed = 0);

}  // namespace sluice::ops
