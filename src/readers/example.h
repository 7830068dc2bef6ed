#pragma once
// Zero-copy views of serialized tf.train.Example and tf.train.SequenceExample
// messages. Protobuf wire format, field numbers:
//   Example         { Features features = 1; }
//   Features        { map<string, Feature> feature = 1; }  // entry { key = 1; value = 2; }
//   Feature         { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
//                             Int64List int64_list = 3; } }
//   BytesList/FloatList/Int64List { repeated value = 1; }  // float, int64 packed or not
//   SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
//   FeatureLists    { map<string, FeatureList> feature_list = 1; }
//   FeatureList     { repeated Feature feature = 1; }
//
// Parse() walks and validates the whole message once: every length, tag and
// varint down to the values of each list, so the accessors afterwards cannot
// fail. Nothing is copied: keys and bytes values are std::string_views into
// the serialized bytes, which must outlive the view and everything taken
// from it.
//
// Semantics follow libprotobuf exactly (checked against it in
// tests/readers/protobuf):
//  * A repeated map key: the last entry wins, whole.
//  * A message field that appears twice is merged: two `features` fields
//    concatenate their maps; two `value` fields in one map entry merge their
//    Features; a Feature whose oneof switches kind keeps only the last kind,
//    and repeated same-kind lists concatenate.
//  * Packed and unpacked float/int64 encodings are both accepted, mixed.
//  * Unknown fields, and known fields with an unexpected wire type, are
//    skipped by wire type (groups included).
//  * An empty Feature (no oneof set) has kind kNone and no values; map keys
//    are not checked for UTF-8 (TensorFlow's parser does not either).
// Malformed input (truncated varint, a length past its enclosing message, a
// bad wire type, an unmatched end-group) is InvalidArgument naming what was
// malformed and the byte offset in the record.
//
// Thread-safety: a view is a value; distinct views may be used concurrently.

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "readers/protobuf_wire.h"

namespace sluice {

// Which list of a tf.train.Feature's oneof is set.
enum class FeatureKind : uint8_t { kNone = 0, kBytesList = 1, kFloatList = 2, kInt64List = 3 };

// "bytes_list", "float_list", "int64_list", "none".
std::string_view FeatureKindName(FeatureKind kind);

namespace internal {
class FeatureParser;
}  // namespace internal

// One tf.train.Feature's values, viewed in place.
class FeatureView {
 public:
  FeatureView() = default;  // kind kNone, no values

  FeatureKind kind() const { return kind_; }
  // Number of values of kind().
  int64_t size() const { return size_; }

  // Writes size() values to `out`. Requires the matching kind().
  void CopyFloats(float* out) const;
  void CopyInt64s(int64_t* out) const;
  // Calls fn(std::string_view) for each value of a bytes list, in order.
  template <typename Fn>
  void ForEachBytes(Fn&& fn) const;

  // Convenience copies (tests, tools).
  std::vector<float> floats() const;
  std::vector<int64_t> int64s() const;
  std::vector<std::string_view> bytes() const;

 private:
  friend class internal::FeatureParser;
  // Calls fn(list_message_bytes) for each list message of kind() that
  // contributes values, in order.
  template <typename Fn>
  void ForEachList(Fn&& fn) const;

  // Single mode: the Feature's bytes from the first field of the last run of
  // same-kind lists. Entry mode (a map entry with several `value` fields,
  // which protobuf merges): the entry's bytes from the tag of the value field
  // where that run starts, and inner_skip_ bytes into that value. List
  // mode (the common case: one list and nothing else in the Feature): the
  // list message itself, so reading needs no second walk of the Feature.
  std::string_view data_;
  uint32_t inner_skip_ = 0;
  bool entry_mode_ = false;
  bool list_mode_ = false;
  FeatureKind kind_ = FeatureKind::kNone;
  int64_t size_ = 0;
};

// A tf.train.Features map (an Example's features or a SequenceExample's
// context) as parsed entries.
struct FeatureEntry {
  std::string_view key;
  FeatureView feature;
};

// A view of a serialized tf.train.Example. Not thread-safe; reusable: Parse
// replaces the previous contents and keeps the allocated capacity.
class ExampleView {
 public:
  // On error the view is empty and the status is InvalidArgument.
  absl::Status Parse(std::string_view serialized);

  // Map entries in wire order, repeated keys included.
  absl::Span<const FeatureEntry> entries() const { return entries_; }
  // The winning (last) entry for `key`, or nullptr.
  const FeatureView* Find(std::string_view key) const;
  // Entries with repeated keys removed (the last of each kept), in the order
  // of each key's last appearance.
  std::vector<FeatureEntry> UniqueEntries() const;

 private:
  std::vector<FeatureEntry> entries_;
};

// One tf.train.FeatureList: the Feature of each step.
using FeatureListView = absl::Span<const FeatureView>;

struct FeatureListEntry {
  std::string_view key;
  FeatureListView steps;
};

// A view of a serialized tf.train.SequenceExample. Not thread-safe;
// reusable like ExampleView.
class SequenceExampleView {
 public:
  absl::Status Parse(std::string_view serialized);

  absl::Span<const FeatureEntry> context() const { return context_; }
  absl::Span<const FeatureListEntry> feature_lists() const { return lists_; }
  const FeatureView* FindContext(std::string_view key) const;
  const FeatureListView* FindFeatureList(std::string_view key) const;

 private:
  std::vector<FeatureEntry> context_;
  std::vector<FeatureListEntry> lists_;
  std::vector<FeatureView> steps_;  // all steps of all lists, back to back
};

// Lower level: walks a serialized tf.train.Example and calls fn(key,
// feature) for each map entry of its features in wire order,
// repeated keys included. Used by ParseExample to avoid storing entries.
absl::Status ForEachFeatureInExample(
    std::string_view serialized_example,
    absl::FunctionRef<void(std::string_view key, const FeatureView& feature)> fn);

// ---------------------------------------------------------------------------
// Implementation details.

template <typename Fn>
void FeatureView::ForEachList(Fn&& fn) const {
  using namespace internal;  // NOLINT: wire helpers
  const uint32_t want = static_cast<uint32_t>(kind_);
  auto walk_feature = [&](const char* p, const char* end) {
    while (p < end) {
      uint32_t field, wt;
      p = ReadTag(p, end, &field, &wt);
      if (field == want && wt == kWireLengthDelimited) {
        std::string_view list;
        p = ReadLengthDelimited(p, end, &list);
        fn(list);
      } else {
        p = SkipField(p, end, field, wt);
      }
    }
  };
  if (kind_ == FeatureKind::kNone) return;
  if (list_mode_) {
    fn(data_);
    return;
  }
  if (!entry_mode_) {
    walk_feature(data_.data(), data_.data() + data_.size());
    return;
  }
  const char* p = data_.data();
  const char* end = p + data_.size();
  bool first = true;
  while (p < end) {
    uint32_t field, wt;
    p = ReadTag(p, end, &field, &wt);
    if (field == 2 && wt == kWireLengthDelimited) {
      std::string_view value;
      p = ReadLengthDelimited(p, end, &value);
      if (first) value.remove_prefix(inner_skip_);
      first = false;
      walk_feature(value.data(), value.data() + value.size());
    } else {
      p = SkipField(p, end, field, wt);
    }
  }
}

template <typename Fn>
void FeatureView::ForEachBytes(Fn&& fn) const {
  using namespace internal;  // NOLINT: wire helpers
  ForEachList([&](std::string_view list) {
    const char* p = list.data();
    const char* end = p + list.size();
    while (p < end) {
      uint32_t field, wt;
      p = ReadTag(p, end, &field, &wt);
      if (field == 1 && wt == kWireLengthDelimited) {
        std::string_view v;
        p = ReadLengthDelimited(p, end, &v);
        fn(v);
      } else {
        p = SkipField(p, end, field, wt);
      }
    }
  });
}

}  // namespace sluice
