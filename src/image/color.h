#pragma once
// tf.image's colour functions on uint8 / float32 images, [H, W, C] or
// [N, H, W, C], with TensorFlow's numerics:
//
//  * ConvertImageDtype: integer -> float multiplies by 1/MAX (uint8: 1/255);
//    float -> integer is trunc(x * (MAX + 0.5)) clamped to the type's range;
//    uint8 <-> uint16 scales by 257 / keeps the high byte.
//  * AdjustBrightness (x + delta), AdjustContrast ((x - mean) * f + mean,
//    mean per image and channel), AdjustGamma (gain * x^gamma),
//    AdjustSaturation, AdjustHue (in HSV, as TF's fused kernels): a uint8
//    image is converted to float in [0, 1], adjusted and converted back
//    (saturating); a float image is adjusted in place of its values.
//  * RgbToGrayscale: 0.2989 R + 0.5870 G + 0.1140 B ([..., 1], same dtype).
//    GrayscaleToRgb replicates the channel.
//  * RgbToHsv / HsvToRgb: float only, h, s, v in [0, 1].
//  * PerImageStandardization: float32 (x - mean) / max(stddev, 1/sqrt(N))
//    per image (N = H*W*C; uint8 values are cast, not scaled).
//
// Random forms draw their factor from `rng` once per call (one factor for a
// whole batch, as TensorFlow's ops do), so a seeded Random gives the same
// results each run. Errors: InvalidArgument naming the function for a
// wrong rank, dtype, channel count (3 for the RGB functions) or factor
// range. Thread-safety: pure functions; a Random is not thread-safe.

#include "core/dtype.h"
#include "core/random.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

// Any rank; uint8, uint16 and float32.
absl::StatusOr<Tensor> ConvertImageDtype(const Tensor& image, DType dtype,
                                         bool saturate = false);

absl::StatusOr<Tensor> AdjustBrightness(const Tensor& image, float delta);
absl::StatusOr<Tensor> AdjustContrast(const Tensor& image,
                                      float contrast_factor);
absl::StatusOr<Tensor> AdjustGamma(const Tensor& image, float gamma = 1,
                                   float gain = 1);
absl::StatusOr<Tensor> AdjustSaturation(const Tensor& image,
                                        float saturation_factor);
absl::StatusOr<Tensor> AdjustHue(const Tensor& image,
                                 float delta);  // delta in [-1, 1]

// delta uniform in [-max_delta, max_delta]; max_delta >= 0.
absl::StatusOr<Tensor> RandomBrightness(const Tensor& image, float max_delta,
                                        Random* rng);
// factor uniform in [lower, upper]; 0 <= lower < upper.
absl::StatusOr<Tensor> RandomContrast(const Tensor& image, float lower,
                                      float upper, Random* rng);
absl::StatusOr<Tensor> RandomSaturation(const Tensor& image, float lower,
                                        float upper, Random* rng);
// delta uniform in [-max_delta, max_delta]; 0 <= max_delta <= 0.5.
absl::StatusOr<Tensor> RandomHue(const Tensor& image, float max_delta,
                                 Random* rng);

absl::StatusOr<Tensor> RgbToGrayscale(const Tensor& image);
absl::StatusOr<Tensor> GrayscaleToRgb(const Tensor& image);
absl::StatusOr<Tensor> RgbToHsv(const Tensor& image);
absl::StatusOr<Tensor> HsvToRgb(const Tensor& image);
absl::StatusOr<Tensor> PerImageStandardization(const Tensor& image);

}  // namespace sluice::image
