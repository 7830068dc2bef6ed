#pragma once
// Test-only PNG reader for what png_encoder writes (8-bit, filter 0 or the
// standard filters, no interlace): checks the signature, every chunk's
// CRC-32 and the chunk order, and inflates IDAT back to pixels.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing {

struct DecodedPng {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

inline uint32_t BE32(const char* p) {
  auto u = [&](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

// Empty string on success, else what was wrong.
inline std::string DecodePng(std::string_view png, DecodedPng* out) {
  if (png.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) return "bad signature";
  size_t pos = 8;
  std::string idat;
  std::vector<std::string> order;
  int bit_depth = 0, color = -1;
  while (pos < png.size()) {
    if (png.size() - pos < 12) return "truncated chunk";
    uint32_t len = BE32(png.data() + pos);
    if (png.size() - pos - 12 < len) return "chunk past end";
    std::string type(png.substr(pos + 4, 4));
    std::string_view data = png.substr(pos + 8, len);
    uint32_t crc = BE32(png.data() + pos + 8 + len);
    uLong c = crc32(0, reinterpret_cast<const Bytef*>(png.data() + pos + 4), 4 + len);
    if (c != crc) return "bad CRC in " + type;
    order.push_back(type);
    if (type == "IHDR") {
      if (len != 13) return "bad IHDR";
      out->width = static_cast<int>(BE32(data.data()));
      out->height = static_cast<int>(BE32(data.data() + 4));
      bit_depth = static_cast<uint8_t>(data[8]);
      color = static_cast<uint8_t>(data[9]);
      if (data[10] != 0 || data[11] != 0 || data[12] != 0) return "unexpected IHDR methods";
    } else if (type == "IDAT") {
      idat.append(data);
    }
    pos += 12 + len;
  }
  if (order.empty() || order.front() != "IHDR" || order.back() != "IEND") return "bad chunk order";
  if (bit_depth != 8) return "bit depth";
  out->channels = color == 0 ? 1 : color == 2 ? 3 : color == 6 ? 4 : 0;
  if (out->channels == 0) return "color type";
  const size_t stride = static_cast<size_t>(out->width) * out->channels;
  std::string raw((stride + 1) * out->height, '\0');
  uLongf raw_len = raw.size();
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_len != raw.size()) {
    return "bad IDAT";
  }
  out->pixels.clear();
  for (int y = 0; y < out->height; ++y) {
    const char* row = raw.data() + y * (stride + 1);
    if (row[0] != 0) return "filter type other than None";
    out->pixels.insert(out->pixels.end(), row + 1, row + 1 + stride);
  }
  return "";
}

}  // namespace sluice::testing
