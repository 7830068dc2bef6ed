#include "readers/example_builder.h"

#include <cstring>

#include "readers/protobuf_wire.h"

namespace sluice {

using internal::AppendLengthDelimited;
using internal::AppendTag;
using internal::AppendVarint64;
using internal::VarintSize;

namespace {

// Wraps `list` (a BytesList/FloatList/Int64List body) as Feature field
// `field`.
std::string WrapList(uint32_t field, const std::string& list) {
  std::string f;
  f.reserve(list.size() + 6);
  AppendLengthDelimited(&f, field, list);
  return f;
}

}  // namespace

std::string EncodeBytesFeature(absl::Span<const std::string_view> values) {
  std::string list;
  size_t total = 0;
  for (std::string_view v : values) total += v.size() + 1 + VarintSize(v.size());
  list.reserve(total);
  for (std::string_view v : values) AppendLengthDelimited(&list, 1, v);
  return WrapList(1, list);
}

std::string EncodeFloatFeature(absl::Span<const float> values, ListEncoding encoding) {
  std::string list;
  if (encoding == ListEncoding::kPacked) {
    // proto3 omits an empty packed field; the FloatList is then empty.
    if (!values.empty()) {
      AppendTag(&list, 1, internal::kWireLengthDelimited);
      AppendVarint64(&list, values.size() * 4);
      list.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
    }
  } else {
    for (float v : values) {
      AppendTag(&list, 1, internal::kWireFixed32);
      char b[4];
      std::memcpy(b, &v, 4);  // little-endian host
      list.append(b, 4);
    }
  }
  return WrapList(2, list);
}

std::string EncodeInt64Feature(absl::Span<const int64_t> values, ListEncoding encoding) {
  std::string list;
  if (encoding == ListEncoding::kPacked) {
    if (!values.empty()) {
      size_t n = 0;
      for (int64_t v : values) n += VarintSize(static_cast<uint64_t>(v));
      AppendTag(&list, 1, internal::kWireLengthDelimited);
      AppendVarint64(&list, n);
      for (int64_t v : values) AppendVarint64(&list, static_cast<uint64_t>(v));
    }
  } else {
    for (int64_t v : values) {
      AppendTag(&list, 1, internal::kWireVarint);
      AppendVarint64(&list, static_cast<uint64_t>(v));
    }
  }
  return WrapList(3, list);
}

FeaturesBuilder& FeaturesBuilder::AddFeature(std::string_view key, std::string feature) {
  entries_.emplace_back(std::string(key), std::move(feature));
  return *this;
}

void FeaturesBuilder::AppendTo(std::string* out) const {
  for (const auto& [key, feature] : entries_) {
    // entry { string key = 1; Feature value = 2; }
    size_t entry_size = 1 + VarintSize(key.size()) + key.size() + 1 +
                        VarintSize(feature.size()) + feature.size();
    AppendTag(out, 1, internal::kWireLengthDelimited);
    AppendVarint64(out, entry_size);
    AppendLengthDelimited(out, 1, key);
    AppendLengthDelimited(out, 2, feature);
  }
}

void ExampleBuilder::SerializeTo(std::string* out) const {
  // An Example with no features is the empty message, as protobuf writes it.
  if (empty()) return;
  std::string features;
  AppendTo(&features);
  AppendLengthDelimited(out, 1, features);
}

std::string ExampleBuilder::Serialize() const {
  std::string out;
  SerializeTo(&out);
  return out;
}

SequenceExampleBuilder& SequenceExampleBuilder::AddFeatureList(std::string_view key,
                                                               std::vector<std::string> steps) {
  lists_.emplace_back(std::string(key), std::move(steps));
  return *this;
}

std::string SequenceExampleBuilder::Serialize() const {
  std::string out;
  if (!context_.empty()) {
    std::string ctx;
    context_.AppendTo(&ctx);
    AppendLengthDelimited(&out, 1, ctx);
  }
  if (!lists_.empty()) {
    std::string lists;
    for (const auto& [key, steps] : lists_) {
      std::string feature_list;
      for (const std::string& step : steps) AppendLengthDelimited(&feature_list, 1, step);
      std::string entry;
      AppendLengthDelimited(&entry, 1, key);
      AppendLengthDelimited(&entry, 2, feature_list);
      AppendLengthDelimited(&lists, 1, entry);
    }
    AppendLengthDelimited(&out, 2, lists);
  }
  return out;
}

}  // namespace sluice
