#pragma once
// A small PNG encoder for image summaries: 8-bit grayscale, RGB or RGBA,
// one IDAT chunk compressed with zlib, every scanline with filter type 0
// (None). Output is a complete PNG stream (signature, IHDR, IDAT, IEND)
// that any decoder (TensorBoard, libpng) reads.
//
// Errors: InvalidArgument for a zero or too-large dimension, a channel count
// other than 1, 3 or 4, or a pixel buffer of the wrong size; Internal when
// zlib fails.
//
// Thread-safe: a pure function.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace sluice {

// Encodes `pixels` (height × width × channels bytes, row-major, channels
// interleaved) as a PNG. `compression_level` is zlib's: -1 (default) .. 9.
absl::StatusOr<std::string> EncodePng(absl::Span<const uint8_t> pixels, int height,
                                      int width, int channels,
                                      int compression_level = -1);

}  // namespace sluice
