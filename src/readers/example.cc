#include "readers/example.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"

namespace sluice {

std::string_view FeatureKindName(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::kBytesList: return "bytes_list";
    case FeatureKind::kFloatList: return "float_list";
    case FeatureKind::kInt64List: return "int64_list";
    case FeatureKind::kNone: break;
  }
  return "none";
}

namespace internal {

// Error positions are reported relative to the start of the record, so the
// walkers carry that base pointer.
struct WireContext {
  const char* base;
  std::string_view message;  // "Example" or "SequenceExample"

  absl::Status Malformed(const char* at, std::string_view what,
                         std::string_view key = {}) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed ", Sv(message), ": ", Sv(what),
        key.data() != nullptr ? absl::StrCat(" of feature '", Sv(key), "'") : "",
        " at byte ", at - base));
  }
};

// Validates one list message of `kind` and counts its values.
absl::Status CountListValues(const WireContext& ctx, FeatureKind kind,
                             std::string_view list, std::string_view key,
                             int64_t* count) {
  const char* p = list.data();
  const char* end = p + list.size();
  int64_t n = 0;
  if (kind == FeatureKind::kBytesList) {
    // Fast path: a run of `value` fields, as every writer emits them.
    while (p < end && *p == '\x0a') {
      const char* at = p;
      std::string_view v;
      p = ReadLengthDelimited(p + 1, end, &v);
      if (p == nullptr) return ctx.Malformed(at, "truncated value", key);
      ++n;
    }
  }
  while (p < end) {
    const char* at = p;
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (p == nullptr) return ctx.Malformed(at, "bad tag in value list", key);
    if (field == 1 && kind == FeatureKind::kFloatList && wt == kWireLengthDelimited) {
      std::string_view packed;
      p = ReadLengthDelimited(p, end, &packed);
      if (p == nullptr) return ctx.Malformed(at, "packed floats past the end", key);
      if (packed.size() % 4 != 0) {
        return ctx.Malformed(at, "packed float length not a multiple of 4", key);
      }
      n += packed.size() / 4;
      continue;
    }
    if (field == 1 && kind == FeatureKind::kInt64List && wt == kWireLengthDelimited) {
      std::string_view packed;
      p = ReadLengthDelimited(p, end, &packed);
      if (p == nullptr) return ctx.Malformed(at, "packed int64s past the end", key);
      const char* q = packed.data();
      const char* qend = q + packed.size();
      while (q < qend) {
        uint64_t v;
        const char* vat = q;
        q = ReadVarint64(q, qend, &v);
        if (q == nullptr) return ctx.Malformed(vat, "truncated varint in packed int64s", key);
        ++n;
      }
      continue;
    }
    if (field == 1 &&
        ((kind == FeatureKind::kFloatList && wt == kWireFixed32) ||
         (kind == FeatureKind::kInt64List && wt == kWireVarint) ||
         (kind == FeatureKind::kBytesList && wt == kWireLengthDelimited))) {
      ++n;
    }
    p = SkipField(p, end, field, wt);
    if (p == nullptr) return ctx.Malformed(at, "truncated value", key);
  }
  *count = n;
  return absl::OkStatus();
}

// Accumulates the Feature segments of one map entry (protobuf merges
// several `value` fields) or the single Feature of a step.
class FeatureParser {
 public:
  FeatureParser(const WireContext& ctx, std::string_view key) : ctx_(ctx), key_(key) {}

  // `feature` is one Feature message; `tag` is the position of the entry's
  // value-field tag that holds it (nullptr for a step).
  absl::Status AddSegment(std::string_view feature, const char* tag) {
    ++segments_;
    const char* p = feature.data();
    const char* end = p + feature.size();
    while (p < end) {
      const char* at = p;
      uint32_t field, wt;
      p = ReadTag(p, end, &field, &wt);
      if (p == nullptr) return ctx_.Malformed(at, "bad tag in Feature", key_);
      if (field >= 1 && field <= 3 && wt == kWireLengthDelimited) {
        std::string_view list;
        p = ReadLengthDelimited(p, end, &list);
        if (p == nullptr) return ctx_.Malformed(at, "value list past the end", key_);
        FeatureKind kind = static_cast<FeatureKind>(field);
        if (kind != kind_) {  // the oneof switches: earlier values are dropped
          kind_ = kind;
          size_ = 0;
          run_feature_ = feature;
          run_tag_ = tag;
          run_offset_ = static_cast<uint32_t>(at - feature.data());
          // The whole Feature is this one list (what every writer emits).
          sole_list_ = segments_ == 1 && at == feature.data() && p == end ? list : std::string_view();
        } else {
          sole_list_ = std::string_view();
        }
        int64_t n;
        SLUICE_RETURN_IF_ERROR(CountListValues(ctx_, kind, list, key_, &n));
        size_ += n;
        continue;
      }
      p = SkipField(p, end, field, wt);
      if (p == nullptr) return ctx_.Malformed(at, "truncated field in Feature", key_);
    }
    return absl::OkStatus();
  }

  // The view of a Feature that is exactly one list of `kind` (already
  // counted): what AddSegment + Finish make of it, without their state.
  static FeatureView SoleList(FeatureKind kind, std::string_view list, int64_t count) {
    FeatureView v;
    v.kind_ = kind;
    v.size_ = count;
    v.list_mode_ = true;
    v.data_ = list;
    return v;
  }

  // `entry_end` is the end of the map entry (ignored for a step).
  FeatureView Finish(const char* entry_end) const {
    FeatureView v;
    v.kind_ = kind_;
    v.size_ = size_;
    if (kind_ == FeatureKind::kNone) return v;
    if (segments_ == 1 && sole_list_.data() != nullptr) {
      v.list_mode_ = true;
      v.data_ = sole_list_;
    } else if (segments_ == 1 || run_tag_ == nullptr) {
      v.data_ = run_feature_.substr(run_offset_);
    } else {
      v.entry_mode_ = true;
      v.data_ = std::string_view(run_tag_, entry_end - run_tag_);
      v.inner_skip_ = run_offset_;
    }
    return v;
  }

 private:
  const WireContext& ctx_;
  std::string_view key_;
  int segments_ = 0;
  FeatureKind kind_ = FeatureKind::kNone;
  int64_t size_ = 0;
  std::string_view run_feature_;
  const char* run_tag_ = nullptr;
  uint32_t run_offset_ = 0;
  std::string_view sole_list_;  // set while the Feature is exactly one list
};

namespace {

// Walks a map<string, V> message: calls entry_fn(entry_bytes, entry_start)
// for each entry (field 1).
template <typename Fn>
absl::Status WalkMap(const WireContext& ctx, std::string_view map, std::string_view what,
                     Fn&& entry_fn) {
  const char* p = map.data();
  const char* end = p + map.size();
  while (p < end) {
    const char* at = p;
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (p == nullptr) return ctx.Malformed(at, absl::StrCat("bad tag in ", Sv(what)));
    if (field == 1 && wt == kWireLengthDelimited) {
      std::string_view entry;
      p = ReadLengthDelimited(p, end, &entry);
      if (p == nullptr) {
        return ctx.Malformed(at, absl::StrCat(Sv(what), " map entry longer than its message"));
      }
      SLUICE_RETURN_IF_ERROR(entry_fn(entry));
      continue;
    }
    p = SkipField(p, end, field, wt);
    if (p == nullptr) return ctx.Malformed(at, absl::StrCat("truncated field in ", Sv(what)));
  }
  return absl::OkStatus();
}

// Walks a map entry: key (field 1, last wins) and every value (field 2),
// calling value_fn(value_bytes, value_tag) after the key is known. Protobuf
// allows the key after the value, so values are collected first.
template <typename Fn>
absl::Status WalkEntry(const WireContext& ctx, std::string_view entry,
                       std::string_view* key, Fn&& value_fn) {
  const char* p = entry.data();
  const char* end = p + entry.size();
  *key = std::string_view("", 0);
  // Fast path: the canonical entry every writer emits, key then one value.
  if (p < end && *p == '\x0a') {
    std::string_view k, v;
    const char* q = ReadLengthDelimited(p + 1, end, &k);
    if (q != nullptr && q < end && *q == '\x12') {
      const char* r = ReadLengthDelimited(q + 1, end, &v);
      if (r == end) {
        *key = k;
        return value_fn(v, q);
      }
    }
  }
  // Pass 1: validate framing and find the key.
  while (p < end) {
    const char* at = p;
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (p == nullptr) return ctx.Malformed(at, "bad tag in map entry");
    if (wt == kWireLengthDelimited && (field == 1 || field == 2)) {
      std::string_view v;
      p = ReadLengthDelimited(p, end, &v);
      if (p == nullptr) return ctx.Malformed(at, "map entry field past the end of its entry");
      if (field == 1) *key = v;
      continue;
    }
    p = SkipField(p, end, field, wt);
    if (p == nullptr) return ctx.Malformed(at, "truncated field in map entry");
  }
  // Pass 2: the values, now that the key is known for error messages.
  p = entry.data();
  while (p < end) {
    const char* at = p;
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (field == 2 && wt == kWireLengthDelimited) {
      std::string_view v;
      p = ReadLengthDelimited(p, end, &v);
      SLUICE_RETURN_IF_ERROR(value_fn(v, at));
    } else {
      p = SkipField(p, end, field, wt);
    }
  }
  return absl::OkStatus();
}

absl::Status WalkFeatures(const WireContext& ctx, std::string_view features,
                          absl::FunctionRef<void(std::string_view, const FeatureView&)> fn) {
  return WalkMap(ctx, features, "Features", [&](std::string_view entry) -> absl::Status {
    // Fast path: the entry every writer emits, key then one value whose
    // Feature is one list and nothing else. It yields exactly what the
    // general path below yields for it, without a FeatureParser (whose
    // state costs more to set up than such an entry costs to read).
    // Anything else, malformed input included, takes the general path.
    {
      const char* p = entry.data();
      const char* end = p + entry.size();
      std::string_view k, v, list;
      const char* q;
      if (p < end && *p == '\x0a' && (q = ReadLengthDelimited(p + 1, end, &k)) != nullptr &&
          q < end && *q == '\x12' && ReadLengthDelimited(q + 1, end, &v) == end &&
          !v.empty()) {
        const uint8_t tag = static_cast<uint8_t>(v[0]);
        const char* vend = v.data() + v.size();
        if ((tag == 0x0a || tag == 0x12 || tag == 0x1a) &&
            ReadLengthDelimited(v.data() + 1, vend, &list) == vend) {
          const FeatureKind kind = static_cast<FeatureKind>(tag >> 3);
          int64_t n;
          SLUICE_RETURN_IF_ERROR(CountListValues(ctx, kind, list, k, &n));
          fn(k, FeatureParser::SoleList(kind, list, n));
          return absl::OkStatus();
        }
      }
    }
    std::string_view key;
    // The parser needs the key for messages; WalkEntry finds it first.
    FeatureParser* fp = nullptr;
    std::optional<FeatureParser> holder;
    SLUICE_RETURN_IF_ERROR(WalkEntry(ctx, entry, &key,
                                     [&](std::string_view value, const char* tag) {
                                       if (fp == nullptr) fp = &holder.emplace(ctx, key);
                                       return fp->AddSegment(value, tag);
                                     }));
    fn(key, fp == nullptr ? FeatureView() : fp->Finish(entry.data() + entry.size()));
    return absl::OkStatus();
  });
}

// Walks a message and calls fn(field_number, bytes) for each
// length-delimited field among `wanted`, skipping the rest.
template <typename Fn>
absl::Status WalkTopLevel(const WireContext& ctx, std::string_view msg, Fn&& fn) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  while (p < end) {
    const char* at = p;
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (p == nullptr) return ctx.Malformed(at, "bad tag");
    if (wt == kWireLengthDelimited) {
      std::string_view v;
      p = ReadLengthDelimited(p, end, &v);
      if (p == nullptr) return ctx.Malformed(at, "length-delimited field past the end");
      SLUICE_RETURN_IF_ERROR(fn(field, v));
      continue;
    }
    p = SkipField(p, end, field, wt);
    if (p == nullptr) return ctx.Malformed(at, "truncated field");
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace internal

void FeatureView::CopyFloats(float* out) const {
  using namespace internal;  // NOLINT
  ForEachList([&](std::string_view list) {
    const char* p = list.data();
    const char* end = p + list.size();
    while (p < end) {
      uint32_t field, wt;
      p = ReadTag(p, end, &field, &wt);
      if (field == 1 && wt == kWireLengthDelimited) {
        std::string_view packed;
        p = ReadLengthDelimited(p, end, &packed);
        std::memcpy(out, packed.data(), packed.size());
        out += packed.size() / 4;
      } else if (field == 1 && wt == kWireFixed32) {
        *out++ = LoadFloatLE(p);
        p += 4;
      } else {
        p = SkipField(p, end, field, wt);
      }
    }
  });
}

void FeatureView::CopyInt64s(int64_t* out) const {
  using namespace internal;  // NOLINT
  ForEachList([&](std::string_view list) {
    const char* p = list.data();
    const char* end = p + list.size();
    while (p < end) {
      uint32_t field, wt;
      p = ReadTag(p, end, &field, &wt);
      if (field == 1 && wt == kWireLengthDelimited) {
        std::string_view packed;
        p = ReadLengthDelimited(p, end, &packed);
        const char* q = packed.data();
        const char* qend = q + packed.size();
        while (q < qend) {
          uint64_t v;
          if (static_cast<uint8_t>(*q) < 0x80) {
            v = static_cast<uint8_t>(*q++);
          } else {
            q = ReadVarint64(q, qend, &v);
          }
          *out++ = static_cast<int64_t>(v);
        }
      } else if (field == 1 && wt == kWireVarint) {
        uint64_t v;
        p = ReadVarint64(p, end, &v);
        *out++ = static_cast<int64_t>(v);
      } else {
        p = SkipField(p, end, field, wt);
      }
    }
  });
}

std::vector<float> FeatureView::floats() const {
  std::vector<float> v(kind_ == FeatureKind::kFloatList ? size_ : 0);
  if (!v.empty()) CopyFloats(v.data());
  return v;
}

std::vector<int64_t> FeatureView::int64s() const {
  std::vector<int64_t> v(kind_ == FeatureKind::kInt64List ? size_ : 0);
  if (!v.empty()) CopyInt64s(v.data());
  return v;
}

std::vector<std::string_view> FeatureView::bytes() const {
  std::vector<std::string_view> v;
  if (kind_ != FeatureKind::kBytesList) return v;
  v.reserve(size_);
  ForEachBytes([&](std::string_view b) { v.push_back(b); });
  return v;
}

absl::Status ForEachFeatureInExample(
    std::string_view serialized,
    absl::FunctionRef<void(std::string_view key, const FeatureView& feature)> fn) {
  internal::WireContext ctx{serialized.data(), "Example"};
  return internal::WalkTopLevel(ctx, serialized, [&](uint32_t field, std::string_view v) {
    if (field != 1) return absl::OkStatus();
    return internal::WalkFeatures(ctx, v, fn);
  });
}

absl::Status ExampleView::Parse(std::string_view serialized) {
  entries_.clear();
  absl::Status s = ForEachFeatureInExample(
      serialized, [&](std::string_view key, const FeatureView& f) {
        entries_.push_back(FeatureEntry{key, f});
      });
  if (!s.ok()) entries_.clear();
  return s;
}

const FeatureView* ExampleView::Find(std::string_view key) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].key == key) return &entries_[i].feature;
  }
  return nullptr;
}

std::vector<FeatureEntry> ExampleView::UniqueEntries() const {
  std::vector<FeatureEntry> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    bool later = false;
    for (size_t j = i + 1; j < entries_.size() && !later; ++j) {
      later = entries_[j].key == entries_[i].key;
    }
    if (!later) out.push_back(entries_[i]);
  }
  return out;
}

absl::Status SequenceExampleView::Parse(std::string_view serialized) {
  using namespace internal;  // NOLINT
  context_.clear();
  lists_.clear();
  steps_.clear();
  // Step ranges per list, turned into spans once steps_ stops growing.
  std::vector<std::pair<size_t, size_t>> ranges;
  WireContext ctx{serialized.data(), "SequenceExample"};
  absl::Status s = WalkTopLevel(ctx, serialized, [&](uint32_t field, std::string_view v) {
    if (field == 1) {
      return WalkFeatures(ctx, v, [&](std::string_view key, const FeatureView& f) {
        context_.push_back(FeatureEntry{key, f});
      });
    }
    if (field != 2) return absl::OkStatus();
    return WalkMap(ctx, v, "FeatureLists", [&](std::string_view entry) -> absl::Status {
      std::string_view key;
      size_t begin = steps_.size();
      SLUICE_RETURN_IF_ERROR(WalkEntry(
          ctx, entry, &key, [&](std::string_view list, const char*) -> absl::Status {
            // FeatureList { repeated Feature feature = 1; }
            const char* p = list.data();
            const char* end = p + list.size();
            while (p < end) {
              const char* at = p;
              uint32_t f, wt;
              p = ReadTag(p, end, &f, &wt);
              if (p == nullptr) return ctx.Malformed(at, "bad tag in FeatureList", key);
              if (f == 1 && wt == kWireLengthDelimited) {
                std::string_view feature;
                p = ReadLengthDelimited(p, end, &feature);
                if (p == nullptr) return ctx.Malformed(at, "step Feature past the end", key);
                FeatureParser fp(ctx, key);
                SLUICE_RETURN_IF_ERROR(fp.AddSegment(feature, nullptr));
                steps_.push_back(fp.Finish(nullptr));
                continue;
              }
              p = SkipField(p, end, f, wt);
              if (p == nullptr) return ctx.Malformed(at, "truncated field in FeatureList", key);
            }
            return absl::OkStatus();
          }));
      lists_.push_back(FeatureListEntry{key, {}});
      ranges.emplace_back(begin, steps_.size() - begin);
      return absl::OkStatus();
    });
  });
  if (!s.ok()) {
    context_.clear();
    lists_.clear();
    steps_.clear();
    return s;
  }
  for (size_t i = 0; i < lists_.size(); ++i) {
    lists_[i].steps = FeatureListView(steps_.data() + ranges[i].first, ranges[i].second);
  }
  return absl::OkStatus();
}

const FeatureView* SequenceExampleView::FindContext(std::string_view key) const {
  for (size_t i = context_.size(); i-- > 0;) {
    if (context_[i].key == key) return &context_[i].feature;
  }
  return nullptr;
}

const FeatureListView* SequenceExampleView::FindFeatureList(std::string_view key) const {
  for (size_t i = lists_.size(); i-- > 0;) {
    if (lists_[i].key == key) return &lists_[i].steps;
  }
  return nullptr;
}

}  // namespace sluice
