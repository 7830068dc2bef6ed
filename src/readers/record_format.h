#pragma once
// The TFRecord framing, byte for byte (TensorFlow's record_writer.cc):
//
//   uint64  length                          little-endian
//   uint32  masked_crc32c(the 8 length bytes)
//   byte    data[length]
//   uint32  masked_crc32c(data)
//
// Masking is crc32c::Mask. A zero-length record is legal. Compression
// (ZLIB, GZIP) wraps the whole stream of records, never single records, and
// every offset the readers report is an offset in the decompressed stream.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice::record_format {

inline constexpr size_t kLengthSize = 8;
inline constexpr size_t kLengthCrcSize = 4;
inline constexpr size_t kHeaderSize = kLengthSize + kLengthCrcSize;  // 12
inline constexpr size_t kFooterSize = 4;
// Framing bytes around every payload.
inline constexpr size_t kOverhead = kHeaderSize + kFooterSize;  // 16

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts only (x86-64, aarch64)
  return v;
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void EncodeFixed64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void EncodeFixed32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "record_format assumes a little-endian host");

}  // namespace sluice::record_format
