#include "readers/payload_kind.h"

#include <algorithm>
#include <vector>

#include "readers/example.h"
#include "readers/protobuf_wire.h"

namespace sluice {

std::string_view PayloadKindName(PayloadKind kind) {
  switch (kind) {
    case PayloadKind::kExample: return "example";
    case PayloadKind::kSequenceExample: return "sequence_example";
    case PayloadKind::kEvent: return "event";
    case PayloadKind::kRaw: break;
  }
  return "raw";
}

PayloadKind ClassifyPayload(std::string_view record) {
  using namespace internal;  // NOLINT
  const char* p = record.data();
  const char* end = p + record.size();
  bool any = false, only_1_to_10 = true, only_field_1 = true, only_1_and_2 = true;
  bool all_length_delimited = true, first_length_delimited = false, field1_fixed64 = false;
  while (p < end) {
    uint64_t tag;
    p = ReadVarint64(p, end, &tag);
    if (p == nullptr) return PayloadKind::kRaw;
    uint64_t field = tag >> 3;
    uint32_t wt = static_cast<uint32_t>(tag & 7);
    // The reference walker knows varint, fixed64, length-delimited, fixed32.
    if (field == 0 || (wt != kWireVarint && wt != kWireFixed64 && wt != kWireLengthDelimited &&
                       wt != kWireFixed32)) {
      return PayloadKind::kRaw;
    }
    p = SkipField(p, end, 0, wt);
    if (p == nullptr) return PayloadKind::kRaw;
    if (!any) first_length_delimited = wt == kWireLengthDelimited;
    any = true;
    only_1_to_10 &= field >= 1 && field <= 10;
    only_field_1 &= field == 1;
    only_1_and_2 &= field == 1 || field == 2;
    all_length_delimited &= wt == kWireLengthDelimited;
    field1_fixed64 |= field == 1 && wt == kWireFixed64;
  }
  if (!any) return PayloadKind::kRaw;
  if (only_1_to_10 && field1_fixed64) return PayloadKind::kEvent;
  if (only_field_1 && first_length_delimited) return PayloadKind::kExample;
  if (only_1_and_2 && all_length_delimited) return PayloadKind::kSequenceExample;
  return PayloadKind::kRaw;
}

PayloadKind ClassifyRecords(absl::Span<const std::string_view> records) {
  return records.empty() ? PayloadKind::kRaw : ClassifyPayload(records[0]);
}

namespace {

std::string SchemaKindName(FeatureKind kind) {
  return kind == FeatureKind::kNone ? "none(empty Feature)" : std::string(FeatureKindName(kind));
}

}  // namespace

void ExampleSchemaSummary::Add(std::string_view record) {
  ++records_;
  ExampleView ex;
  if (!ex.Parse(record).ok()) {
    ++decode_errors_;
    return;
  }
  for (const FeatureEntry& e : ex.UniqueEntries()) {
    auto [it, inserted] = features_.try_emplace(std::string(e.key));
    FeatureSchemaEntry& s = it->second;
    s.kinds.insert(SchemaKindName(e.feature.kind()));
    int64_t n = e.feature.size();
    s.count_min = inserted ? n : std::min(s.count_min, n);
    s.count_max = inserted ? n : std::max(s.count_max, n);
    ++s.present_in_records;
  }
}

void SequenceExampleSchemaSummary::Add(std::string_view record) {
  ++records_;
  SequenceExampleView sx;
  if (!sx.Parse(record).ok()) {
    ++decode_errors_;
    return;
  }
  std::map<std::string_view, FeatureKind> context;  // last entry per key wins
  for (const FeatureEntry& e : sx.context()) context[e.key] = e.feature.kind();
  for (const auto& [key, kind] : context) {
    context_[std::string(key)].insert(std::string(FeatureKindName(kind)));
  }
  // Last entry per key wins, as in the parser.
  std::map<std::string_view, const FeatureListView*> lists;
  for (const FeatureListEntry& e : sx.feature_lists()) lists[e.key] = &e.steps;
  for (const auto& [key, steps] : lists) {
    auto [it, inserted] = lists_.try_emplace(std::string(key));
    FeatureListSchemaEntry& s = it->second;
    bool typed = false;
    for (const FeatureView& step : *steps) {
      if (step.kind() == FeatureKind::kNone) continue;
      typed = true;
      s.kinds.insert(std::string(FeatureKindName(step.kind())));
    }
    if (!typed) s.kinds.insert("none");
    int64_t n = static_cast<int64_t>(steps->size());
    s.num_steps_min = inserted ? n : std::min(s.num_steps_min, n);
    s.num_steps_max = inserted ? n : std::max(s.num_steps_max, n);
    ++s.present_in_records;
  }
}

}  // namespace sluice
