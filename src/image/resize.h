#pragma once
// Image resizing with TensorFlow's kernels' arithmetic, on uint8 / float32
// [H, W, C] or [N, H, W, C] images.
//
// tf.image.resize (TF2) is Resize(): half-pixel centres; the output is
// float32 except for kNearest, which keeps the input's dtype.
//   kBilinear  ResizeBilinear(half_pixel_centers), or with antialias the
//              ScaleAndTranslate triangle kernel widened by the downscale
//              factor (PIL's / torch's antialiased bilinear).
//   kBicubic   ResizeBicubic(half_pixel_centers: Keys a = -0.5, taps outside
//              the image dropped and the rest renormalised), or with
//              antialias the widened Keys kernel.
//   kNearest   ResizeNearestNeighbor(half_pixel_centers); antialias ignored.
//   kArea      ResizeArea: each output pixel averages the input area it
//              covers; antialias ignored.
// The TF1 ops are here too with their align_corners / half_pixel_centers
// attributes (ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic,
// ResizeArea), for the graph ops of those names.
//
// Errors: InvalidArgument naming the function for a wrong rank or dtype,
// a non-positive size, or align_corners together with half_pixel_centers.
// Thread-safety: pure functions.

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

enum class ResizeMethod { kBilinear, kNearest, kBicubic, kArea };
// "bilinear", "nearest", "bicubic", "area"; InvalidArgument otherwise.
absl::StatusOr<ResizeMethod> ParseResizeMethod(std::string_view name);

struct ResizeOptions {
  ResizeMethod method = ResizeMethod::kBilinear;
  bool antialias = false;
};
absl::StatusOr<Tensor> Resize(const Tensor& images, int64_t height,
                              int64_t width, const ResizeOptions& options = {});

// The TF1 kernels. Outputs: float32, except nearest (input dtype).
absl::StatusOr<Tensor> ResizeBilinear(const Tensor& images, int64_t height,
                                      int64_t width, bool align_corners,
                                      bool half_pixel_centers);
absl::StatusOr<Tensor> ResizeNearestNeighbor(const Tensor& images,
                                             int64_t height, int64_t width,
                                             bool align_corners,
                                             bool half_pixel_centers);
absl::StatusOr<Tensor> ResizeBicubic(const Tensor& images, int64_t height,
                                     int64_t width, bool align_corners,
                                     bool half_pixel_centers);
absl::StatusOr<Tensor> ResizeArea(const Tensor& images, int64_t height,
                                  int64_t width, bool align_corners);

}  // namespace sluice::image
