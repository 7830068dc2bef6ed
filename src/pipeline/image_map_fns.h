#pragma once
// Ready-made Dataset Map functions for encoded images (JPEG, PNG), over the
// kernels of src/image.
//
//   DecodeImageMapFn(0)                    component 0: string -> uint8 [H, W,
//   C] ImageTransformMapFn(0, fn)             component 0: image -> fn(image)
//   ImageAugmenter (and AugmentImagesMapFn): a batch of encoded images ->
//       decode -> zero-pad -> random (or centred) crop -> random flip ->
//       uint8 or float32 [k, height, width, C] in one pass per image,
//       writing straight into the batch: the usual training input. With
//       no padding a JPEG's window is drawn from its header's size and
//       only the window is decoded (image::DecodeAndCropJpegInto; uint8
//       unflipped windows straight into the batch): the same bytes as
//       decoding the whole image, except that damage below the window that
//       libjpeg only warns about is not seen.
//
// A component that is a string vector [k] is decoded image by image; all
// images must then decode to one size (else InvalidArgument naming the
// element), as Batch requires.
//
// Randomness: ImageAugmenter draws each image's window and flip from one
// seeded generator in call order, so with a non-zero seed and a
// sequential Map (or calls made in a fixed order) the crops and flips
// repeat run after run; seed 0 draws a random seed. Errors: those of the
// decoders (InvalidArgument naming the element), InvalidArgument for a
// component that is not a string, or a crop larger than the padded image.
// Thread-safety: the returned functions may be called from several threads
// (the augmenter's generator is locked per batch).

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"
#include "image/decode_image.h"
#include "pipeline/dataset/dataset.h"

namespace sluice {

MapFn DecodeImageMapFn(int component, image::DecodeImageOptions options = {});
MapFn ImageTransformMapFn(
    int component,
    std::function<absl::StatusOr<Tensor>(const Tensor&)> transform);

struct ImageAugmentOptions {
  int channels = 3;    // 1 or 3
  int64_t height = 0;  // output size (> 0)
  int64_t width = 0;
  int64_t pad = 0;           // zero border added on every side before the crop
  bool random_crop = true;   // false: the centred window
  bool random_flip = false;  // left-right, probability 1/2 per image
  DType dtype =
      DType::kFloat32;  // kFloat32 (x / 255, convert_image_dtype) or kUInt8
  uint64_t seed = 0;
  // pad == 0: decode only a JPEG's window (fused). false: decode whole
  // images then crop (the same bytes; for comparison).
  bool fused_jpeg_crop = true;
};

class ImageAugmenter {
 public:
  // InvalidArgument for a bad size, channel count, pad or dtype.
  static absl::StatusOr<ImageAugmenter> Create(
      const ImageAugmentOptions& options);
  // dtype [k, height, width, channels].
  absl::StatusOr<Tensor> Run(absl::Span<const std::string_view> images) const;
  // Writes image i's result into `out` (height * width * channels elements
  // of the dtype), for callers that own the batch buffer.
  absl::Status RunInto(absl::Span<const std::string_view> images,
                       void* out) const;
  const ImageAugmentOptions& options() const { return o_; }

 private:
  struct State;
  struct Placement {
    int64_t y = 0, x = 0;  // the window's offset in the padded image
    bool flip = false;
  };
  // The window and flip of an image whose padded size is PH x PW, from its
  // three draws.
  Placement Place(const uint64_t* draws, int64_t PH, int64_t PW) const;
  // The fused path (pad 0, a JPEG): one image's output at `out`.
  absl::Status DecodeJpegWindow(std::string_view jpeg, const uint64_t* draws,
                                void* out, std::vector<uint8_t>* scratch) const;
  explicit ImageAugmenter(const ImageAugmentOptions& o,
                          std::shared_ptr<State> s)
      : o_(o), state_(std::move(s)) {}
  ImageAugmentOptions o_;
  std::shared_ptr<State> state_;
};

// A Map function: component `component` (string [k] or a scalar) becomes
// the augmented images ([k, h, w, C], or [h, w, C] for a scalar).
MapFn AugmentImagesMapFn(int component, ImageAugmenter augmenter);

}  // namespace sluice
