#pragma once
// Minimal protocol-buffer wire-format primitives for the Example parser and
// builder, shared by every area that reads or writes protobuf messages
// (checkpoints, event files, Example parsing; example.h's inline parsing
// templates use them, so the header is installed). Readers are
// bounds-checked and never read past `end`; they return nullptr on
// malformed input (truncated varint, length past the end, bad wire type) so
// callers can turn that into a Status with context.
//
// Wire format: a message is a sequence of (tag, value) where
// tag = varint(field_number << 3 | wire_type) and the wire types are
//   0 varint   1 fixed64   2 length-delimited   3/4 start/end group
//   5 fixed32  (6 and 7 are invalid).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::internal {

enum WireType : uint32_t {
  kWireVarint = 0,
  kWireFixed64 = 1,
  kWireLengthDelimited = 2,
  kWireStartGroup = 3,
  kWireEndGroup = 4,
  kWireFixed32 = 5,
};

// Groups nest; protobuf limits recursion to 100 and so do we.
inline constexpr int kMaxGroupDepth = 100;

// Reads a varint of at most 10 bytes. Bits beyond 64 are dropped (as
// protobuf does); an 11th byte is malformed.
inline const char* ReadVarint64(const char* p, const char* end, uint64_t* out) {
  uint64_t result = 0;
  *out = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p >= end) return nullptr;
    uint8_t b = static_cast<uint8_t>(*p++);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = result;
      return p;
    }
  }
  return nullptr;
}

// Tag: field number and wire type. As libprotobuf reads tags: a varint of at
// most 5 bytes whose bits above 32 are dropped (a 5th byte with the
// continuation bit is malformed); field number 0 and wire types 6/7 are
// malformed.
inline const char* ReadTag(const char* p, const char* end, uint32_t* field,
                           uint32_t* wire_type) {
  uint32_t tag = 0;
  *field = 0;
  *wire_type = 0;
  if (p < end && static_cast<uint8_t>(*p) < 0x80) {  // one-byte tags dominate
    tag = static_cast<uint8_t>(*p++);
  } else {
    for (int i = 0;; ++i) {
      if (i == 5 || p >= end) return nullptr;
      const uint8_t b = static_cast<uint8_t>(*p++);
      tag |= static_cast<uint32_t>(b & 0x7f) << (7 * i);  // bits past 32 fall off
      if (!(b & 0x80)) break;
    }
  }
  *field = static_cast<uint32_t>(tag >> 3);
  *wire_type = static_cast<uint32_t>(tag & 7);
  if (*field == 0 || *wire_type > kWireFixed32) return nullptr;
  return p;
}

// Reads the length prefix of a length-delimited value and returns its
// bytes; nullptr when the declared length runs past `end`.
inline const char* ReadLengthDelimited(const char* p, const char* end,
                                       std::string_view* out) {
  uint64_t len;
  p = ReadVarint64(p, end, &len);
  if (p == nullptr || len > static_cast<uint64_t>(end - p)) return nullptr;
  *out = std::string_view(p, static_cast<size_t>(len));
  return p + len;
}

// Skips the value of a field whose tag has been read. A start-group is
// skipped through its matching end-group (same field number).
inline const char* SkipField(const char* p, const char* end, uint32_t field,
                             uint32_t wire_type, int depth = 0) {
  switch (wire_type) {
    case kWireVarint: {
      uint64_t v;
      return ReadVarint64(p, end, &v);
    }
    case kWireFixed64:
      return end - p < 8 ? nullptr : p + 8;
    case kWireFixed32:
      return end - p < 4 ? nullptr : p + 4;
    case kWireLengthDelimited: {
      std::string_view v;
      return ReadLengthDelimited(p, end, &v);
    }
    case kWireStartGroup: {
      if (depth >= kMaxGroupDepth) return nullptr;
      while (true) {
        uint32_t f, wt;
        p = ReadTag(p, end, &f, &wt);
        if (p == nullptr) return nullptr;
        if (wt == kWireEndGroup) return f == field ? p : nullptr;
        p = SkipField(p, end, f, wt, depth + 1);
        if (p == nullptr) return nullptr;
      }
    }
    default:  // an end-group with no start
      return nullptr;
  }
}

inline float LoadFloatLE(const char* p) {
  float f;
  std::memcpy(&f, p, 4);  // the host is little-endian (x86-64, aarch64)
  return f;
}

// Writers (append to a std::string).
inline void AppendVarint64(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline void AppendTag(std::string* out, uint32_t field, uint32_t wire_type) {
  AppendVarint64(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}
inline void AppendLengthDelimited(std::string* out, uint32_t field,
                                  std::string_view bytes) {
  AppendTag(out, field, kWireLengthDelimited);
  AppendVarint64(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

}  // namespace sluice::internal
