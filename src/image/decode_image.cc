#include "image/decode_image.h"

#include <cstring>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "image/color.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace sluice::image {

ImageFormat SniffImageFormat(std::string_view s) {
  if (s.size() >= 3 && std::memcmp(s.data(), "\xff\xd8\xff", 3) == 0)
    return ImageFormat::kJpeg;
  if (s.size() >= 8 && std::memcmp(s.data(), "\x89PNG\r\n\x1a\n", 8) == 0)
    return ImageFormat::kPng;
  if (s.size() >= 3 && std::memcmp(s.data(), "GIF", 3) == 0)
    return ImageFormat::kGif;
  if (s.size() >= 2 && std::memcmp(s.data(), "BM", 2) == 0)
    return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

absl::StatusOr<Tensor> DecodeImage(std::string_view contents,
                                   const DecodeImageOptions& o) {
  if (o.dtype != DType::kUInt8 && o.dtype != DType::kUInt16 &&
      o.dtype != DType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeImage: dtype must be uint8, uint16 or float, got ",
                     Sv(DTypeName(o.dtype))));
  }
  Tensor decoded;
  switch (SniffImageFormat(contents)) {
    case ImageFormat::kJpeg: {
      if (o.channels == 4) {
        return absl::InvalidArgumentError(
            "DecodeImage: a JPEG has no alpha (channels 4)");
      }
      DecodeJpegOptions jo;
      jo.channels = o.channels;
      SLUICE_ASSIGN_OR_RETURN(decoded, DecodeJpeg(contents, jo));
      break;
    }
    case ImageFormat::kPng: {
      DecodePngOptions po;
      po.channels = o.channels;
      po.dtype = o.dtype == DType::kUInt16 ? DType::kUInt16 : DType::kUInt8;
      SLUICE_ASSIGN_OR_RETURN(decoded, DecodePng(contents, po));
      break;
    }
    case ImageFormat::kGif:
      return absl::UnimplementedError(
          "DecodeImage: GIF decoding is not supported");
    case ImageFormat::kBmp:
      return absl::UnimplementedError(
          "DecodeImage: BMP decoding is not supported");
    case ImageFormat::kUnknown:
      return absl::InvalidArgumentError(
          "Unknown image file format. One of JPEG, PNG, GIF, BMP required.");
  }
  if (decoded.dtype() == o.dtype) return decoded;
  return ConvertImageDtype(decoded, o.dtype);
}

}  // namespace sluice::image
