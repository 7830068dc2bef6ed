// Conformance against the real-file corpus (tests/testdata, copied from
// /work/shared/corpus with PROVENANCE.md): for every file, the payload kind
// and, for Example / SequenceExample files, the feature schema must equal
// the reference tool's .expected.json; every Example file must also go
// through ParseExample with VarLen features of the schema's kinds.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mini_json.h"
#include "readers/compression.h"
#include "readers/parse_example.h"
#include "readers/payload_kind.h"
#include "readers/record_reader.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing_json::Value;

std::string TestData() {
  const char* d = std::getenv("SLUICE_TESTDATA");
  return d ? d : "tests/testdata";
}

std::vector<std::string> ExpectedFiles() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(TestData(), ec);
       it != fs::recursive_directory_iterator(); ++it) {
    std::string p = it->path().string();
    // tensorflow-serving/ holds checkpoints, not TFRecord files.
    if (p.find("/tensorflow-serving/") != std::string::npos) continue;
    if (p.size() > 14 && p.compare(p.size() - 14, 14, ".expected.json") == 0) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Value LoadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = testing_json::Parse(ss.str());
  EXPECT_TRUE(v.has_value()) << path;
  return v.value_or(Value());
}

// Good records of a file (before any error), copied out of the reader.
std::vector<std::string> ReadGoodRecords(const std::string& path, Compression c) {
  std::vector<std::string> out;
  RecordReaderOptions o;
  o.compression = c;
  auto reader = RecordReader::Open(path, o);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while (true) {
    auto rec = (*reader)->Next();
    if (!rec.ok()) break;
    out.emplace_back(rec->data);
  }
  return out;
}

Value StringSet(const std::set<std::string>& s) {
  Value v;
  v.type = Value::kArray;
  for (const auto& x : s) {
    Value e;
    e.type = Value::kString;
    e.str = x;
    v.arr.push_back(e);
  }
  return v;
}

Value Number(int64_t n) {
  Value v;
  v.type = Value::kNumber;
  v.num = static_cast<double>(n);
  return v;
}

TEST(CorpusFeaturesTest, CorpusIsPresent) {
  EXPECT_GE(ExpectedFiles().size(), 19u) << "no corpus under " << TestData();
}

TEST(CorpusFeaturesTest, PayloadKindAndSchemaMatchExpectedJson) {
  int example_files = 0, sequence_files = 0;
  for (const std::string& json_path : ExpectedFiles()) {
    SCOPED_TRACE(json_path);
    Value exp = LoadJson(json_path);
    std::string data_path = json_path.substr(0, json_path.size() - 14);
    auto compression = ParseCompression(exp["compression"].str);
    ASSERT_TRUE(compression.ok());
    std::vector<std::string> records = ReadGoodRecords(data_path, *compression);
    ASSERT_EQ(static_cast<int64_t>(records.size()), exp["num_records"].i());
    std::vector<std::string_view> views(records.begin(), records.end());
    PayloadKind kind = ClassifyRecords(views);
    // With no readable record the kind cannot come from the data; the
    // reference output of such files names the kind its producer passed.
    if (!records.empty()) {
      EXPECT_EQ(PayloadKindName(kind), exp["payload_kind"].str);
    }

    if (exp.has("feature_schema_all_records")) {
      ++example_files;
      ExampleSchemaSummary summary;
      for (std::string_view r : views) summary.Add(r);
      EXPECT_EQ(summary.decode_errors(), 0);
      Value got;
      got.type = Value::kObject;
      for (const auto& [name, f] : summary.features()) {
        Value e;
        e.type = Value::kObject;
        e.obj["kinds"] = StringSet(f.kinds);
        e.obj["present_in_records"] = Number(f.present_in_records);
        e.obj["count_min"] = Number(f.count_min);
        e.obj["count_max"] = Number(f.count_max);
        got.obj[name] = e;
      }
      EXPECT_TRUE(got == exp["feature_schema_all_records"]);

      // Every feature of a single kind parses as a VarLenFeature whose
      // sparse result agrees with the schema's counts.
      std::vector<VarLenFeature> sparse;
      for (const auto& [name, f] : summary.features()) {
        if (f.kinds.size() != 1) continue;
        const std::string& k = *f.kinds.begin();
        DType t = k == "float_list" ? DType::kFloat32
                  : k == "int64_list" ? DType::kInt64
                                      : DType::kString;
        if (k.rfind("none", 0) == 0) continue;
        sparse.push_back({name, t});
      }
      auto spec = ParseSpec::Create({}, sparse);
      ASSERT_TRUE(spec.ok());
      ParseResult result;
      ASSERT_TRUE(ParseExample(views, *spec, &result).ok());
      for (size_t j = 0; j < sparse.size(); ++j) {
        const auto& f = summary.features().at(sparse[j].key);
        EXPECT_EQ(result.sparse[j].dense_shape.data<int64_t>()[0],
                  static_cast<int64_t>(records.size()));
        EXPECT_EQ(result.sparse[j].dense_shape.data<int64_t>()[1], f.count_max) << sparse[j].key;
      }
    }
    if (exp.has("feature_list_schema_all_records")) {
      ++sequence_files;
      SequenceExampleSchemaSummary summary;
      for (std::string_view r : views) summary.Add(r);
      Value ctx;
      ctx.type = Value::kObject;
      for (const auto& [name, kinds] : summary.context()) ctx.obj[name] = StringSet(kinds);
      EXPECT_TRUE(ctx == exp["context_schema_all_records"]);
      Value lists;
      lists.type = Value::kObject;
      for (const auto& [name, f] : summary.feature_lists()) {
        Value e;
        e.type = Value::kObject;
        e.obj["kinds"] = StringSet(f.kinds);
        e.obj["present_in_records"] = Number(f.present_in_records);
        e.obj["num_steps_min"] = Number(f.num_steps_min);
        e.obj["num_steps_max"] = Number(f.num_steps_max);
        lists.obj[name] = e;
      }
      EXPECT_TRUE(lists == exp["feature_list_schema_all_records"]);
    }
  }
  EXPECT_GE(example_files, 3);
  EXPECT_GE(sequence_files, 1);
}

TEST(CorpusFeaturesTest, TransformSequenceExamplesParseWithSequenceSpec) {
  std::string path = TestData() + "/tensorflow-transform/sequence_example_data_tfrecord.gz";
  std::vector<std::string> records = ReadGoodRecords(path, Compression::kGzip);
  ASSERT_EQ(records.size(), 3u);
  std::vector<std::string_view> views(records.begin(), records.end());
  auto spec = SequenceParseSpec::Create(
      {{"float_feature", DType::kFloat32, TensorShape{4}, std::nullopt},
       {"int_feature", DType::kInt64, TensorShape{}, std::nullopt}},
      {}, {{"int_feature", DType::kInt64, TensorShape{2}, false, std::nullopt}});
  ASSERT_TRUE(spec.ok());
  SequenceParseResult result;
  ASSERT_TRUE(ParseSequenceExample(views, *spec, &result).ok());
  // Values from the reference tool's first_records.
  const float* f = result.context.dense[0].data<float>();
  EXPECT_EQ(std::vector<float>(f, f + 4), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(result.context.dense[1].data<int64_t>()[1], 1);
  EXPECT_EQ(result.sequence_dense[0].shape(), (TensorShape{3, 2, 2}));
  const int64_t* s = result.sequence_dense[0].data<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(s, s + 8), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace sluice
