#pragma once
// A tiny, test-only decoder of TensorBoard Event protos (the fields that
// summary_writer.cc writes), independent of the encoder: it walks the
// wire format with readers/protobuf_wire.h and fails loudly on
// anything it does not expect.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/protobuf_wire.h"

namespace sluice::testing {

struct DecodedHisto {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
};
struct DecodedImage {
  int64_t height = 0, width = 0, colorspace = 0;
  std::string encoded;
};
struct DecodedTensor {
  int64_t dtype = 0;
  std::vector<int64_t> dims;
  std::vector<std::string> string_val;
};
struct DecodedValue {
  std::string tag;
  std::optional<float> simple_value;
  std::optional<DecodedHisto> histo;
  std::optional<DecodedImage> image;
  std::optional<DecodedTensor> tensor;
  std::string plugin_name;
};
struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  bool has_summary = false;
  std::vector<DecodedValue> values;
};

namespace decoder_internal {

using namespace ::sluice::internal;

// Calls fn(field, wire_type, p, end) for each field; fn returns the new p.
template <typename Fn>
bool Walk(std::string_view msg, Fn fn) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  while (p < end) {
    uint32_t f, wt;
    p = ReadTag(p, end, &f, &wt);
    if (p == nullptr) return false;
    p = fn(f, wt, p, end);
    if (p == nullptr) return false;
  }
  return true;
}

inline const char* Double(const char* p, const char* end, double* out) {
  if (end - p < 8) return nullptr;
  std::memcpy(out, p, 8);
  return p + 8;
}

inline const char* PackedDoubles(const char* p, const char* end, std::vector<double>* out) {
  std::string_view s;
  p = ReadLengthDelimited(p, end, &s);
  if (p == nullptr || s.size() % 8 != 0) return nullptr;
  for (size_t i = 0; i < s.size(); i += 8) {
    double d;
    std::memcpy(&d, s.data() + i, 8);
    out->push_back(d);
  }
  return p;
}

inline const char* Varint(const char* p, const char* end, int64_t* out) {
  uint64_t v;
  p = ReadVarint64(p, end, &v);
  *out = static_cast<int64_t>(v);
  return p;
}

inline bool DecodeValue(std::string_view msg, DecodedValue* v) {
  return Walk(msg, [&](uint32_t f, uint32_t wt, const char* p, const char* end) -> const char* {
    std::string_view s;
    switch (f) {
      case 1:
        p = ReadLengthDelimited(p, end, &s);
        if (p) v->tag = std::string(s);
        return p;
      case 2: {
        if (wt != kWireFixed32 || end - p < 4) return nullptr;
        float x;
        std::memcpy(&x, p, 4);
        v->simple_value = x;
        return p + 4;
      }
      case 4: {
        p = ReadLengthDelimited(p, end, &s);
        if (!p) return nullptr;
        DecodedImage img;
        bool ok = Walk(s, [&](uint32_t g, uint32_t, const char* q, const char* qe) -> const char* {
          std::string_view b;
          switch (g) {
            case 1: return Varint(q, qe, &img.height);
            case 2: return Varint(q, qe, &img.width);
            case 3: return Varint(q, qe, &img.colorspace);
            case 4:
              q = ReadLengthDelimited(q, qe, &b);
              if (q) img.encoded = std::string(b);
              return q;
            default: return nullptr;
          }
        });
        if (!ok) return nullptr;
        v->image = img;
        return p;
      }
      case 5: {
        p = ReadLengthDelimited(p, end, &s);
        if (!p) return nullptr;
        DecodedHisto h;
        bool ok = Walk(s, [&](uint32_t g, uint32_t, const char* q, const char* qe) -> const char* {
          switch (g) {
            case 1: return Double(q, qe, &h.min);
            case 2: return Double(q, qe, &h.max);
            case 3: return Double(q, qe, &h.num);
            case 4: return Double(q, qe, &h.sum);
            case 5: return Double(q, qe, &h.sum_squares);
            case 6: return PackedDoubles(q, qe, &h.bucket_limit);
            case 7: return PackedDoubles(q, qe, &h.bucket);
            default: return nullptr;
          }
        });
        if (!ok) return nullptr;
        v->histo = h;
        return p;
      }
      case 8: {
        p = ReadLengthDelimited(p, end, &s);
        if (!p) return nullptr;
        DecodedTensor t;
        bool ok = Walk(s, [&](uint32_t g, uint32_t, const char* q, const char* qe) -> const char* {
          std::string_view b;
          switch (g) {
            case 1: return Varint(q, qe, &t.dtype);
            case 2:
              q = ReadLengthDelimited(q, qe, &b);
              if (!q) return nullptr;
              if (!Walk(b, [&](uint32_t h, uint32_t, const char* r, const char* re) -> const char* {
                    std::string_view dim;
                    if (h != 2) return nullptr;
                    r = ReadLengthDelimited(r, re, &dim);
                    if (!r) return nullptr;
                    int64_t size = 0;
                    if (!Walk(dim, [&](uint32_t k, uint32_t, const char* x, const char* xe) -> const char* {
                          return k == 1 ? Varint(x, xe, &size) : nullptr;
                        })) {
                      return nullptr;
                    }
                    t.dims.push_back(size);
                    return r;
                  })) {
                return nullptr;
              }
              return q;
            case 8:
              q = ReadLengthDelimited(q, qe, &b);
              if (q) t.string_val.emplace_back(b);
              return q;
            default: return nullptr;
          }
        });
        if (!ok) return nullptr;
        v->tensor = t;
        return p;
      }
      case 9: {
        p = ReadLengthDelimited(p, end, &s);
        if (!p) return nullptr;
        bool ok = Walk(s, [&](uint32_t g, uint32_t, const char* q, const char* qe) -> const char* {
          std::string_view pd;
          if (g != 1) return nullptr;
          q = ReadLengthDelimited(q, qe, &pd);
          if (!q) return nullptr;
          if (!Walk(pd, [&](uint32_t h, uint32_t, const char* r, const char* re) -> const char* {
                std::string_view name;
                if (h != 1) return nullptr;
                r = ReadLengthDelimited(r, re, &name);
                if (r) v->plugin_name = std::string(name);
                return r;
              })) {
            return nullptr;
          }
          return q;
        });
        return ok ? p : nullptr;
      }
      default:
        return nullptr;
    }
  });
}

}  // namespace decoder_internal

// Decodes a serialized Summary's values; false on malformed bytes.
inline bool DecodeSummary(std::string_view msg, std::vector<DecodedValue>* values) {
  using namespace decoder_internal;
  return Walk(msg, [&](uint32_t f, uint32_t, const char* p, const char* end) -> const char* {
    if (f != 1) return nullptr;
    std::string_view s;
    p = ReadLengthDelimited(p, end, &s);
    if (!p) return nullptr;
    DecodedValue v;
    if (!DecodeValue(s, &v)) return nullptr;
    values->push_back(std::move(v));
    return p;
  });
}

// Decodes an Event; false on malformed bytes or unexpected fields.
inline bool DecodeEvent(std::string_view msg, DecodedEvent* e) {
  using namespace decoder_internal;
  return Walk(msg, [&](uint32_t f, uint32_t wt, const char* p, const char* end) -> const char* {
    std::string_view s;
    switch (f) {
      case 1: return wt == kWireFixed64 ? Double(p, end, &e->wall_time) : nullptr;
      case 2: return Varint(p, end, &e->step);
      case 3:
        p = ReadLengthDelimited(p, end, &s);
        if (p) e->file_version = std::string(s);
        return p;
      case 5:
        p = ReadLengthDelimited(p, end, &s);
        if (!p) return nullptr;
        e->has_summary = true;
        return DecodeSummary(s, &e->values) ? p : nullptr;
      default: return nullptr;
    }
  });
}

}  // namespace sluice::testing
