// libFuzzer target for the tf.train.Example / SequenceExample wire parser
// (readers/example.h), ParseExample, and the payload classifier.
//
// On arbitrary bytes every call must end in OK or InvalidArgument, never
// crash or read out of bounds (ASan/UBSan). When a record parses:
//  * every accessor works and size() equals the number of values read;
//  * re-encoding the winning entries with ExampleBuilder and parsing that
//    gives the same kinds and values (parser and builder agree);
//  * ParseExample with a spec naming the first keys agrees with the view.
// See fuzz/README.md for the build and run commands.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "readers/example.h"
#include "readers/example_builder.h"
#include "readers/parse_example.h"
#include "readers/payload_kind.h"

namespace {

using sluice::FeatureKind;
using sluice::FeatureView;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckStatus(const absl::Status& s) {
  Check(s.ok() || s.code() == absl::StatusCode::kInvalidArgument);
}

// Reads every value and checks the count; returns a canonical Feature.
std::string ReadAll(const FeatureView& f) {
  switch (f.kind()) {
    case FeatureKind::kBytesList: {
      std::vector<std::string_view> v = f.bytes();
      Check(static_cast<int64_t>(v.size()) == f.size());
      return sluice::EncodeBytesFeature(v);
    }
    case FeatureKind::kFloatList: {
      std::vector<float> v = f.floats();
      Check(static_cast<int64_t>(v.size()) == f.size());
      return sluice::EncodeFloatFeature(v);
    }
    case FeatureKind::kInt64List: {
      std::vector<int64_t> v = f.int64s();
      Check(static_cast<int64_t>(v.size()) == f.size());
      return sluice::EncodeInt64Feature(v);
    }
    case FeatureKind::kNone:
      Check(f.size() == 0);
      return sluice::EncodeEmptyFeature();
  }
  return {};
}

void FuzzExample(std::string_view data) {
  sluice::ExampleView ex;
  absl::Status s = ex.Parse(data);
  CheckStatus(s);
  if (!s.ok()) {
    Check(ex.entries().empty());
    return;
  }
  sluice::ExampleBuilder rebuilt;
  std::vector<sluice::FeatureEntry> unique = ex.UniqueEntries();
  for (const auto& e : unique) rebuilt.AddFeature(e.key, ReadAll(e.feature));
  std::string again = rebuilt.Serialize();
  sluice::ExampleView ex2;
  Check(ex2.Parse(again).ok());
  Check(ex2.entries().size() == unique.size());
  for (size_t i = 0; i < unique.size(); ++i) {
    Check(ex2.entries()[i].key == unique[i].key);
    Check(ex2.entries()[i].feature.kind() == unique[i].feature.kind());
    Check(ReadAll(ex2.entries()[i].feature) == ReadAll(unique[i].feature));
  }

  // ParseExample over the same record with sparse features for up to four
  // keys, each with the dtype of its kind, must agree with the view.
  std::vector<sluice::VarLenFeature> sparse;
  for (const auto& e : unique) {
    if (sparse.size() == 4 || e.feature.kind() == FeatureKind::kNone) continue;
    sluice::DType t = e.feature.kind() == FeatureKind::kFloatList ? sluice::DType::kFloat32
                      : e.feature.kind() == FeatureKind::kInt64List ? sluice::DType::kInt64
                                                                    : sluice::DType::kString;
    sparse.push_back({std::string(e.key), t});
  }
  auto spec = sluice::ParseSpec::Create({}, sparse);
  if (!spec.ok()) return;  // keys repeated in the spec cannot happen, but be safe
  sluice::ParseResult result;
  std::string_view one[] = {data};
  Check(sluice::ParseExample(one, *spec, &result).ok());
  for (size_t j = 0; j < sparse.size(); ++j) {
    Check(result.sparse[j].values.NumElements() == ex.Find(sparse[j].key)->size());
  }
}

void FuzzSequenceExample(std::string_view data) {
  sluice::SequenceExampleView sx;
  absl::Status s = sx.Parse(data);
  CheckStatus(s);
  if (!s.ok()) return;
  for (const auto& e : sx.context()) ReadAll(e.feature);
  for (const auto& l : sx.feature_lists()) {
    for (const FeatureView& step : l.steps) ReadAll(step);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  FuzzExample(data);
  FuzzSequenceExample(data);
  (void)sluice::ClassifyPayload(data);
  sluice::ExampleSchemaSummary summary;
  summary.Add(data);
  return 0;
}
