#pragma once
// CMYK -> RGB as Pillow mixes it, shared by the JPEG decoders of src/image
// (jpeg.cc's TurboJPEG path and jpeg_crop.cc's libjpeg window path, which
// must give the same bytes). Private to src/image.

#include <cstdint>

namespace sluice::internal {

// Pillow's MULDIV255: a * b / 255, rounded.
inline uint8_t MulDiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// `n` CMYK pixels (4 bytes each) -> `n` RGB pixels (3 bytes each):
// R = (255-K) - (C*(255-K)+127)/255 with Pillow's rounding. `inverted`:
// the samples are stored inverted (the file carries an Adobe APP14 marker)
// and are un-inverted first.
inline void CmykToRgb(const uint8_t* cmyk, int64_t n, bool inverted,
                      uint8_t* rgb) {
  for (int64_t x = 0; x < n; ++x, cmyk += 4, rgb += 3) {
    int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    if (inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
    const int nk = 255 - k;
    rgb[0] = static_cast<uint8_t>(nk - MulDiv255(c, nk));
    rgb[1] = static_cast<uint8_t>(nk - MulDiv255(m, nk));
    rgb[2] = static_cast<uint8_t>(nk - MulDiv255(y, nk));
  }
}

}  // namespace sluice::internal
