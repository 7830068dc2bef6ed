#pragma once
// What a TFRecord file holds, decided the way the corpus reference tool
// (corpus/tools/tfr_inspect.py, guess_kind) decides it, and the per-feature
// schema summary that `sluice inspect` prints (tfr_inspect's
// feature_schema_all_records).
//
// Classification looks at the first record only. Its top-level fields are
// walked as protobuf wire format with groups (wire types 3/4) treated as
// malformed; malformed or empty → kRaw. Then, with F the set of field
// numbers:
//   F ⊆ {1..10} and some field 1 has wire type fixed64 (wall_time) → kEvent
//   F == {1} and the first field is length-delimited               → kExample
//   F ⊆ {1, 2} and every field is length-delimited                 → kSequenceExample
//   otherwise                                                      → kRaw
//
// The schema summary parses each record with sluice's Example parser, so
// it follows libprotobuf's merge rules; tfr_inspect differs only for
// records that repeat a oneof or value field inside one map entry, which no
// known writer produces. In the summary an empty Feature counts as present
// with 0 values and kind "none(empty Feature)", unlike ParseExample, which
// treats it as absent.
//
// Thread-safety: the functions are pure; summaries are not thread-safe.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace sluice {

enum class PayloadKind { kRaw, kExample, kSequenceExample, kEvent };

// "raw", "example", "sequence_example", "event".
std::string_view PayloadKindName(PayloadKind kind);

// Classifies a file from its first record (kRaw when there is none).
PayloadKind ClassifyPayload(std::string_view first_record);
PayloadKind ClassifyRecords(absl::Span<const std::string_view> records);

struct FeatureSchemaEntry {
  std::set<std::string> kinds;  // "bytes_list", "float_list", "int64_list", "none(empty Feature)"
  int64_t present_in_records = 0;
  int64_t count_min = 0;
  int64_t count_max = 0;
};

// Accumulates the feature schema of a file of Examples.
class ExampleSchemaSummary {
 public:
  // Summarises one serialized Example; a malformed one is only counted.
  void Add(std::string_view record);

  // By feature name (sorted, like the corpus JSON).
  const std::map<std::string, FeatureSchemaEntry>& features() const { return features_; }
  int64_t records() const { return records_; }
  int64_t decode_errors() const { return decode_errors_; }

 private:
  std::map<std::string, FeatureSchemaEntry> features_;
  int64_t records_ = 0;
  int64_t decode_errors_ = 0;
};

struct FeatureListSchemaEntry {
  std::set<std::string> kinds;  // of the steps; "none" when a record's list has no typed step
  int64_t present_in_records = 0;
  int64_t num_steps_min = 0;
  int64_t num_steps_max = 0;
};

// Accumulates the schema of a file of SequenceExamples (tfr_inspect's
// context_schema_all_records and feature_list_schema_all_records).
class SequenceExampleSchemaSummary {
 public:
  void Add(std::string_view record);

  // Context feature name -> kinds ("none" for an empty Feature).
  const std::map<std::string, std::set<std::string>>& context() const { return context_; }
  const std::map<std::string, FeatureListSchemaEntry>& feature_lists() const { return lists_; }
  int64_t records() const { return records_; }
  int64_t decode_errors() const { return decode_errors_; }

 private:
  std::map<std::string, std::set<std::string>> context_;
  std::map<std::string, FeatureListSchemaEntry> lists_;
  int64_t records_ = 0;
  int64_t decode_errors_ = 0;
};

}  // namespace sluice
