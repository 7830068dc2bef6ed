#pragma once
// JPEG decoding and encoding with tf.image's semantics, through
// libjpeg-turbo (the library Pillow and TensorFlow use, so the decoded
// pixels equal theirs): its TurboJPEG API for whole images, its libjpeg
// API (scanline crop and skip) for DecodeAndCropJpeg's window.
//
//   DecodeJpeg(contents, {.channels = 3})       -> uint8 [H, W, 3]
//   DecodeAndCropJpeg(contents, {y, x, h, w})   -> uint8 [h, w, C]
//   EncodeJpeg(uint8 [H, W, 1 or 3], {.quality = 95}) -> JPEG bytes
//
// channels: 0 keeps the file's (1 for grayscale, else 3), 1 grayscale
// (the decoder's luma), 3 RGB. CMYK / YCCK files decode to RGB (channels 0
// or 3; 1 is InvalidArgument): the CMYK samples (un-inverted when the file
// carries an Adobe APP14 marker) are mixed as Pillow's CMYK->RGB does,
// R = (255-K) - (C*(255-K)+127)/255 with Pillow's rounding.
// ratio 1, 2, 4 or 8 decodes at 1/ratio scale (the IDCT does the
// downscaling; dims round up). dct_method: TensorFlow's "" (the library
// default, accurate integer), "INTEGER_ACCURATE", "INTEGER_FAST"; anything
// else is InvalidArgument. Chroma is upsampled smoothly (TF's
// fancy_upscaling = true, Pillow's default).
//
// Errors (never a crash on hostile bytes): InvalidArgument for an empty
// buffer, data that is not JPEG, a corrupt or truncated stream (the
// library's message is included; a stream that decodes with warnings,
// such as missing end-of-image data, is refused as TensorFlow refuses it),
// an image over `max_pixels`, a bad option, or a crop window outside the
// image.
//
// Thread-safety: every function may be called from many threads (each
// thread keeps its own TurboJPEG handles).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

enum class DctMethod { kDefault, kIntegerAccurate, kIntegerFast };
// "", "INTEGER_ACCURATE", "INTEGER_FAST"; InvalidArgument otherwise.
absl::StatusOr<DctMethod> ParseDctMethod(std::string_view name);

struct DecodeJpegOptions {
  int channels = 0;  // 0, 1 or 3
  int ratio = 1;     // 1, 2, 4 or 8
  DctMethod dct_method = DctMethod::kDefault;
  // Refuse images with more pixels than this (before scaling): a few
  // header bytes must not make the decoder allocate gigabytes.
  int64_t max_pixels = int64_t{1} << 28;
};

// A JPEG's dimensions and components from its header (tf.io.extract_jpeg_shape,
// plus the colour space). channels is what DecodeJpeg with channels 0 gives.
struct JpegHeader {
  int64_t height = 0;
  int64_t width = 0;
  int channels = 0;
  bool cmyk = false;
  bool progressive = false;
};
absl::StatusOr<JpegHeader> ReadJpegHeader(std::string_view contents);

// uint8 [H/ratio, W/ratio, C].
absl::StatusOr<Tensor> DecodeJpeg(std::string_view contents,
                                  const DecodeJpegOptions& options = {});

// Decodes into caller memory: `out` must hold height*width*channels bytes of
// the scaled image (ReadJpegHeader and ScaledJpegDims give them), rows
// `stride` bytes apart (0: packed). *channels_out receives C.
absl::Status DecodeJpegInto(std::string_view contents,
                            const DecodeJpegOptions& options, uint8_t* out,
                            int64_t stride, int64_t* height_out,
                            int64_t* width_out, int* channels_out);

// The scaled dimensions DecodeJpeg gives for `ratio` (TurboJPEG's
// rounding: ceil(dim / ratio)).
int64_t ScaledJpegDim(int64_t dim, int ratio);

// tf.image.decode_and_crop_jpeg: the window [y, y+height) x [x, x+width) of
// the decoded image (ratio applies first; the window is in scaled pixels).
// Fused: only the iMCU columns covering the window (and its upsampling
// context) go through the IDCT, the rows above it are only entropy-decoded
// and decoding stops after its last row; the bytes equal DecodeJpeg's, then
// cropped. Errors as DecodeJpeg's, and
// InvalidArgument naming the window and the image size for a window that
// is empty or not inside the image. Damage below the window that libjpeg
// only warns about (not a missing end-of-image marker, which is refused)
// goes unseen, as in TensorFlow.
struct CropWindow {
  int64_t y = 0;
  int64_t x = 0;
  int64_t height = 0;
  int64_t width = 0;
};
absl::StatusOr<Tensor> DecodeAndCropJpeg(std::string_view contents,
                                         const CropWindow& crop,
                                         const DecodeJpegOptions& options = {});
// The same into caller memory: crop.height rows of crop.width * C bytes,
// `stride` bytes apart (0: packed), C as DecodeJpeg's (ReadJpegHeader
// gives it); *channels_out receives C. On error `out` may hold some rows.
absl::Status DecodeAndCropJpegInto(std::string_view contents,
                                   const CropWindow& crop,
                                   const DecodeJpegOptions& options,
                                   uint8_t* out, int64_t stride,
                                   int* channels_out);

struct EncodeJpegOptions {
  int quality = 95;  // 0..100 (TensorFlow's default 95)
  bool progressive = false;
  bool chroma_downsampling = true;  // 4:2:0; false: 4:4:4
};
// image: uint8 [H, W, 1] (grayscale JPEG) or [H, W, 3]. InvalidArgument
// for another dtype, shape, quality, or an empty image.
absl::StatusOr<std::string> EncodeJpeg(const Tensor& image,
                                       const EncodeJpegOptions& options = {});

}  // namespace sluice::image
