#pragma once
// Encoders for tf.train.Example and tf.train.SequenceExample (wire layout in
// readers/example.h). Output is what libprotobuf would accept and parse to
// the same message (checked in tests/readers/protobuf); by default float and
// int64 lists are packed, as proto3 writes them.
//
// Map entries are written in the order they were added. Adding a key twice
// writes two entries (a reader keeps the last), which tests use to build the
// repeated-key trait of real files.
//
// Thread-safety: builders are not thread-safe; the free functions are.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"

namespace sluice {

enum class ListEncoding { kPacked, kUnpacked };

// One serialized tf.train.Feature.
std::string EncodeBytesFeature(absl::Span<const std::string_view> values);
std::string EncodeFloatFeature(absl::Span<const float> values,
                               ListEncoding encoding = ListEncoding::kPacked);
std::string EncodeInt64Feature(absl::Span<const int64_t> values,
                               ListEncoding encoding = ListEncoding::kPacked);
// A Feature with no oneof set (what TFX writes for a missing CSV cell).
inline std::string EncodeEmptyFeature() { return std::string(); }

// A tf.train.Features map under construction.
class FeaturesBuilder {
 public:
  // `feature` is a serialized Feature (from the Encode* functions).
  FeaturesBuilder& AddFeature(std::string_view key, std::string feature);
  FeaturesBuilder& AddBytes(std::string_view key, absl::Span<const std::string_view> values) {
    return AddFeature(key, EncodeBytesFeature(values));
  }
  FeaturesBuilder& AddBytes(std::string_view key, std::initializer_list<std::string_view> values) {
    return AddBytes(key, absl::Span<const std::string_view>(values.begin(), values.size()));
  }
  FeaturesBuilder& AddFloats(std::string_view key, absl::Span<const float> values,
                             ListEncoding encoding = ListEncoding::kPacked) {
    return AddFeature(key, EncodeFloatFeature(values, encoding));
  }
  FeaturesBuilder& AddFloats(std::string_view key, std::initializer_list<float> values,
                             ListEncoding encoding = ListEncoding::kPacked) {
    return AddFloats(key, absl::Span<const float>(values.begin(), values.size()), encoding);
  }
  FeaturesBuilder& AddInt64s(std::string_view key, absl::Span<const int64_t> values,
                             ListEncoding encoding = ListEncoding::kPacked) {
    return AddFeature(key, EncodeInt64Feature(values, encoding));
  }
  FeaturesBuilder& AddInt64s(std::string_view key, std::initializer_list<int64_t> values,
                             ListEncoding encoding = ListEncoding::kPacked) {
    return AddInt64s(key, absl::Span<const int64_t>(values.begin(), values.size()), encoding);
  }
  FeaturesBuilder& AddEmpty(std::string_view key) { return AddFeature(key, EncodeEmptyFeature()); }

  bool empty() const { return entries_.empty(); }
  void Clear() { entries_.clear(); }
  // Appends the serialized Features message (without an enclosing tag).
  void AppendTo(std::string* out) const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // key, Feature
};

// tf.train.Example { Features features = 1; }
class ExampleBuilder : public FeaturesBuilder {
 public:
  std::string Serialize() const;
  // Appends the serialized Example to `out`.
  void SerializeTo(std::string* out) const;
};

// tf.train.SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
class SequenceExampleBuilder {
 public:
  FeaturesBuilder& context() { return context_; }
  // `steps` are serialized Features, one per step.
  SequenceExampleBuilder& AddFeatureList(std::string_view key, std::vector<std::string> steps);
  std::string Serialize() const;

 private:
  FeaturesBuilder context_;
  std::vector<std::pair<std::string, std::vector<std::string>>> lists_;
};

}  // namespace sluice
