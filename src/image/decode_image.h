#pragma once
// tf.io.decode_image: sniffs the format (JPEG, PNG) from the first bytes
// and decodes to [H, W, C]. GIF and BMP are recognised but not supported
// (Unimplemented); anything else is InvalidArgument "Unknown image file
// format". dtype uint8 (default), uint16 (PNG's 16-bit samples; JPEG
// samples scaled by 257) or float32 (convert_image_dtype: [0, 1]).
//
// Thread-safety: may be called from many threads.

#include <string_view>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice::image {

enum class ImageFormat { kUnknown, kJpeg, kPng, kGif, kBmp };
ImageFormat SniffImageFormat(std::string_view contents);

struct DecodeImageOptions {
  int channels = 0;  // 0, 1, 3 or 4 (4 only for PNG)
  DType dtype = DType::kUInt8;
};
absl::StatusOr<Tensor> DecodeImage(std::string_view contents,
                                   const DecodeImageOptions& options = {});

}  // namespace sluice::image
