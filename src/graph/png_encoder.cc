#include "graph/png_encoder.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

void AppendU32BE(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
               static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

// A chunk is length, type, data, and a CRC-32 (zlib's) over type and data.
void AppendChunk(std::string* out, const char type[4], std::string_view data) {
  AppendU32BE(out, static_cast<uint32_t>(data.size()));
  const size_t type_pos = out->size();
  out->append(type, 4);
  out->append(data.data(), data.size());
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(out->data() + type_pos), 4 + data.size());
  AppendU32BE(out, static_cast<uint32_t>(crc));
}

}  // namespace

absl::StatusOr<std::string> EncodePng(absl::Span<const uint8_t> pixels, int height,
                                      int width, int channels, int compression_level) {
  if (height <= 0 || width <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodePng: dimensions must be positive, got ", height, "x", width));
  }
  // PNG limits dimensions to 2^31-1; keep the filtered stream within uLong.
  if (static_cast<uint64_t>(height) * (static_cast<uint64_t>(width) * 4 + 1) >
      std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("EncodePng: image too large");
  }
  uint8_t color_type;
  switch (channels) {
    case 1: color_type = 0; break;  // grayscale
    case 3: color_type = 2; break;  // truecolour
    case 4: color_type = 6; break;  // truecolour with alpha
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("EncodePng: channels must be 1, 3 or 4, got ", channels));
  }
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  if (pixels.size() != row_bytes * height) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodePng: expected ", row_bytes * height, " pixel bytes, got ", pixels.size()));
  }
  if (compression_level < -1 || compression_level > 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodePng: bad compression level ", compression_level));
  }

  // Each scanline is preceded by its filter type byte (0: None).
  std::string raw;
  raw.reserve((row_bytes + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(pixels.data()) + y * row_bytes, row_bytes);
  }
  uLongf zsize = compressBound(raw.size());
  std::string idat(zsize, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(idat.data()), &zsize,
                     reinterpret_cast<const Bytef*>(raw.data()), raw.size(), compression_level);
  if (rc != Z_OK) return absl::InternalError(absl::StrCat("EncodePng: zlib error ", rc));
  idat.resize(zsize);

  std::string ihdr;
  AppendU32BE(&ihdr, static_cast<uint32_t>(width));
  AppendU32BE(&ihdr, static_cast<uint32_t>(height));
  ihdr.push_back(8);  // bit depth
  ihdr.push_back(static_cast<char>(color_type));
  ihdr.push_back(0);  // compression: deflate
  ihdr.push_back(0);  // filter method 0
  ihdr.push_back(0);  // no interlace

  std::string out("\x89PNG\r\n\x1a\n", 8);
  AppendChunk(&out, "IHDR", ihdr);
  AppendChunk(&out, "IDAT", idat);
  AppendChunk(&out, "IEND", {});
  return out;
}

}  // namespace sluice
