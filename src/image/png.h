#pragma once
// PNG decoding and encoding with tf.io.decode_png / encode_png semantics,
// through libpng.
//
// DecodePng: uint8 or uint16 [H, W, C]. channels 0 keeps the file's
// (palette: 3, or 4 with a tRNS chunk; otherwise the file's channel count),
// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Palettes are expanded, 1/2/4-bit gray
// is scaled to 8 bits, tRNS becomes alpha when alpha is asked for, an
// absent alpha is filled opaque, colour becomes gray by libpng's
// rgb_to_gray (0.299, 0.587 weights), gray becomes RGB by replication.
// dtype uint8 keeps the high byte of 16-bit samples; uint16 scales 8-bit
// samples by 257. No gamma correction is applied (as TensorFlow and
// Pillow).
//
// Errors (never a crash on hostile bytes): InvalidArgument for data that is
// not PNG, bad options, an image over `max_pixels`, and a corrupt or
// truncated stream (libpng's message is included).
//
// Thread-safety: every function may be called from many threads.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

struct DecodePngOptions {
  int channels = 0;             // 0..4
  DType dtype = DType::kUInt8;  // kUInt8 or kUInt16
  int64_t max_pixels = int64_t{1} << 28;
};
absl::StatusOr<Tensor> DecodePng(std::string_view contents,
                                 const DecodePngOptions& options = {});

struct PngHeader {
  int64_t height = 0;
  int64_t width = 0;
  int channels = 0;   // what DecodePng with channels 0 gives
  int bit_depth = 0;  // 1, 2, 4, 8 or 16
  bool palette = false;
};
absl::StatusOr<PngHeader> ReadPngHeader(std::string_view contents);

struct EncodePngOptions {
  int compression = -1;  // -1 (zlib's default) .. 9
};
// image: uint8 or uint16 [H, W, C], C in 1..4 (gray, gray+alpha, RGB, RGBA).
absl::StatusOr<std::string> EncodePng(const Tensor& image,
                                      const EncodePngOptions& options = {});

}  // namespace sluice::image
