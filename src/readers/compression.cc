#include "readers/compression.h"

#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/crc32c.h"
#include "readers/record_format.h"

namespace sluice {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

absl::StatusOr<Compression> ParseCompression(std::string_view name) {
  const std::string up = Upper(name);
  if (up.empty() || up == "NONE") return Compression::kNone;
  if (up == "ZLIB") return Compression::kZlib;
  if (up == "GZIP") return Compression::kGzip;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown compression type '", Sv(name), "' (want NONE, ZLIB, GZIP or empty)"));
}

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "NONE";
    case Compression::kZlib: return "ZLIB";
    case Compression::kGzip: return "GZIP";
  }
  return "?";
}

absl::StatusOr<Inflater> ParseInflater(std::string_view name) {
  const std::string up = Upper(name);
  if (up == "ISAL") return Inflater::kIsal;
  if (up == "ZLIB") return Inflater::kZlib;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown inflater '", Sv(name), "' (want isal or zlib)"));
}

const char* InflaterName(Inflater i) { return i == Inflater::kIsal ? "isal" : "zlib"; }

Compression DetectCompression(std::string_view head) {
  namespace rf = record_format;
  if (head.size() >= rf::kHeaderSize) {
    const uint32_t stored = rf::DecodeFixed32(head.data() + rf::kLengthSize);
    if (crc32c::Unmask(stored) == crc32c::Value(head.data(), rf::kLengthSize)) {
      return Compression::kNone;
    }
  }
  if (head.size() >= 2) {
    const auto b0 = static_cast<unsigned char>(head[0]);
    const auto b1 = static_cast<unsigned char>(head[1]);
    if (b0 == 0x1f && b1 == 0x8b) return Compression::kGzip;
    // CMF: method 8 (deflate), window <= 32 KiB; FLG makes CMF*256+FLG a
    // multiple of 31 and must not ask for a preset dictionary.
    if ((b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0 &&
        (b1 & 0x20) == 0) {
      return Compression::kZlib;
    }
  }
  return Compression::kNone;
}

}  // namespace sluice
