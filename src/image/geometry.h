#pragma once
// tf.image's crops, pads, flips and rotations on [H, W, C] or [N, H, W, C]
// images of any numeric dtype (pixels are moved, never converted):
//
//  * CropToBoundingBox(offset_h, offset_w, target_h, target_w): the window;
//    InvalidArgument when it leaves the image.
//  * PadToBoundingBox(offset_h, offset_w, target_h, target_w): zero padding
//    around the image placed at the offsets.
//  * CentralCrop(fraction in (0, 1]): TensorFlow's rounding,
//    start = int((H - H * fraction) / 2), size = H - 2 * start.
//  * ResizeWithCropOrPad(target_h, target_w): centred crop and/or pad.
//  * RandomCrop(h, w): one window per call (the whole batch shares it, as
//    tf.image.random_crop takes one window of its input), offsets uniform.
//  * FlipLeftRight / FlipUpDown; RandomFlipLeftRight / RandomFlipUpDown flip
//    each image of a batch with probability 1/2 (TF2's per-image draw).
//  * Transpose swaps H and W; Rot90(k) rotates counter-clockwise k times.
//
// Random forms draw from `rng` (a seeded Random gives the same windows and
// flips each run). Errors: InvalidArgument naming the function for a wrong
// rank or dtype, or sizes that do not fit. Thread-safety: pure functions;
// a Random is not thread-safe.

#include <cstdint>

#include "core/random.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

absl::StatusOr<Tensor> CropToBoundingBox(const Tensor& image,
                                         int64_t offset_height,
                                         int64_t offset_width,
                                         int64_t target_height,
                                         int64_t target_width);
absl::StatusOr<Tensor> PadToBoundingBox(const Tensor& image,
                                        int64_t offset_height,
                                        int64_t offset_width,
                                        int64_t target_height,
                                        int64_t target_width);
absl::StatusOr<Tensor> CentralCrop(const Tensor& image,
                                   double central_fraction);
absl::StatusOr<Tensor> ResizeWithCropOrPad(const Tensor& image,
                                           int64_t target_height,
                                           int64_t target_width);
absl::StatusOr<Tensor> RandomCrop(const Tensor& image, int64_t height,
                                  int64_t width, Random* rng);

absl::StatusOr<Tensor> FlipLeftRight(const Tensor& image);
absl::StatusOr<Tensor> FlipUpDown(const Tensor& image);
absl::StatusOr<Tensor> RandomFlipLeftRight(const Tensor& image, Random* rng);
absl::StatusOr<Tensor> RandomFlipUpDown(const Tensor& image, Random* rng);
absl::StatusOr<Tensor> Transpose(const Tensor& image);
absl::StatusOr<Tensor> Rot90(const Tensor& image, int k = 1);

}  // namespace sluice::image
