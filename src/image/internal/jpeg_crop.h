#pragma once
// A window of a JPEG decoded through libjpeg-turbo's libjpeg API, whose
// scanline calls TurboJPEG 2.1 lacks: jpeg_crop_scanline limits the IDCT,
// upsampling and colour conversion to the iMCU columns covering the window,
// jpeg_skip_scanlines passes the rows above it without IDCT or colour
// conversion, and decoding stops after the window's last row (the rest of
// the entropy-coded data is never read). Private to src/image; jpeg.cc's
// DecodeAndCropJpeg(Into) validates the request and calls it.
//
// Pixels: byte for byte those of TurboJPEG's full decode with the same
// scaling factor, pixel format and DCT method, then cropped. The decoded
// columns reach 4 pixels past the window on each side where the image
// allows (dropped after), so smooth chroma upsampling at the window's
// edges sees the same neighbours as in a full decode: libjpeg upsamples a
// cropped region as if its edges were the image's (without the margin a
// window starting on an iMCU boundary or ending inside one differs there).
//
// Errors: InvalidArgument with libjpeg's message for a corrupt stream,
// including any warning met while decoding the rows up to the window's
// last (libjpeg's warnings are errors here, as TurboJPEG 2.1 reports them
// for a full decode), and for a progressive stream of more than 500 scans
// (TurboJPEG's TJFLAG_LIMITSCANS). Damage below the window that libjpeg
// would only warn about is not seen (jpeg.cc refuses streams without an
// end-of-image marker before calling this).
//
// Thread-safety: reentrant; each call has its own libjpeg objects. Errors
// unwind libjpeg with longjmp inside one C-style function that holds no
// object with a destructor.

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace sluice::internal {

enum class JpegOutColor { kGray, kRgb, kCmykToRgb };

struct JpegWindowRequest {
  // The scaled image's expected size (TurboJPEG's header and scaling) and
  // the window inside it: 0 <= y, y + height <= image_height, etc.
  int64_t image_height = 0, image_width = 0;
  int64_t y = 0, x = 0, height = 0, width = 0;
  int scale_num = 1, scale_denom = 1;
  bool fast_dct = false;  // JDCT_IFAST (TJFLAG_FASTDCT), else JDCT_ISLOW
  JpegOutColor color = JpegOutColor::kRgb;
  bool cmyk_inverted = false;  // kCmykToRgb: samples stored inverted (Adobe)
};

// Writes the window's `height` rows of width * C bytes (C = 1 for kGray,
// else 3) to `out`, rows `stride` bytes apart (stride >= width * C). On
// error `out` may hold some rows.
absl::Status DecodeJpegWindow(std::string_view contents,
                              const JpegWindowRequest& request, uint8_t* out,
                              int64_t stride);

}  // namespace sluice::internal
