// Conformance at the record level: every file of tests/testdata (the corpus
// of real TFRecord / event files, see tests/testdata/README.md) is read and
// compared with the facts its .expected.json records (written by
// tests/testdata/tools/tfr_inspect.py): compression, the number of good
// records, records_digest_sha256, and TensorFlow's status for the first
// framing error.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "readers/record_reader.h"
#include "record_test_util.h"
#include "core/sha256.h"

namespace sluice {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The .expected.json files are written with indent=1, so a top-level key is
// a line starting with one space. A full JSON parser is not needed for the
// few scalar keys read here.
std::optional<std::string> TopLevelValue(const std::string& json, const std::string& key) {
  const std::string needle = "\n \"" + key + "\": ";
  size_t p = json.find(needle);
  if (p == std::string::npos) return std::nullopt;
  p += needle.size();
  size_t e = json.find_first_of(",\n", p);
  std::string v = json.substr(p, e - p);
  if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

// The first framing error's TensorFlow status, e.g. "DATA_LOSS: corrupted
// record at 115", or "" when there is none.
std::string FirstTensorFlowStatus(const std::string& json) {
  const std::string needle = "\"tensorflow_status\": \"";
  size_t p = json.find(needle);
  if (p == std::string::npos) return "";
  p += needle.size();
  return json.substr(p, json.find('"', p) - p);
}

std::string AsTensorFlowStatus(const absl::Status& s) {
  if (absl::IsOutOfRange(s)) return "";
  std::string msg(s.message());
  // Our messages append " in <file>"; TensorFlow's end at the offset.
  size_t in = msg.find(" in ");
  if (in != std::string::npos) msg = msg.substr(0, in);
  const char* code = absl::IsDataLoss(s) ? "DATA_LOSS" : "OTHER";
  return std::string(code) + ": " + msg;
}

struct CorpusFile {
  std::string path;
  std::string json;
};

std::vector<CorpusFile> CorpusFiles() {
  const char* root = std::getenv("SLUICE_TESTDATA");
  std::vector<CorpusFile> files;
  if (root == nullptr) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (!entry.is_regular_file() || path.ends_with(".expected.json")) continue;
    const std::string expected = path + ".expected.json";
    if (!std::filesystem::exists(expected)) continue;
    files.push_back({path, Slurp(expected)});
  }
  return files;
}

TEST(CorpusRecordsTest, EveryCorpusFileMatchesItsExpectedJson) {
  ASSERT_NE(nullptr, std::getenv("SLUICE_TESTDATA")) << "SLUICE_TESTDATA is not set";
  const auto files = CorpusFiles();
  ASSERT_GE(files.size(), 19u) << "corpus files missing under SLUICE_TESTDATA";
  for (const auto& file : files) {
    SCOPED_TRACE(file.path);
    const std::string bytes = Slurp(file.path);
    const auto compression_name = TopLevelValue(file.json, "compression");
    ASSERT_TRUE(compression_name.has_value());
    auto compression = ParseCompression(*compression_name);
    ASSERT_TRUE(compression.ok());
    EXPECT_EQ(*compression, DetectCompression(bytes));

    for (Inflater inflater : {Inflater::kIsal, Inflater::kZlib}) {
      for (size_t buffer_size : {size_t{7}, size_t{256} << 10}) {
        SCOPED_TRACE(std::string(InflaterName(inflater)) + " buffer " + std::to_string(buffer_size));
        RecordReaderOptions o;
        o.compression = *compression;
        o.inflater = inflater;
        o.buffer_size = buffer_size;
        auto reader = RecordReader::Open(file.path, o);
        ASSERT_TRUE(reader.ok()) << reader.status();
        // Records through ReadMany (the amortised path), digest as the
        // reference walker defines it.
        Sha256 digest;
        uint64_t count = 0;
        RecordBatch batch;
        absl::Status status;
        for (int calls = 0; calls < 100000; ++calls) {
          status = (*reader)->ReadMany(16, &batch);
          if (!status.ok()) break;
          for (size_t i = 0; i < batch.size(); ++i) {
            std::string len;
            testing::PutFixed64(&len, batch.record(i).size());
            digest.Update(len);
            digest.Update(batch.record(i));
          }
          count += batch.size();
        }
        EXPECT_EQ(*TopLevelValue(file.json, "num_records"), std::to_string(count));
        EXPECT_EQ(*TopLevelValue(file.json, "records_digest_sha256"), digest.HexDigest());
        EXPECT_EQ(FirstTensorFlowStatus(file.json), AsTensorFlowStatus(status)) << status;
        if (!absl::IsOutOfRange(status)) {
          EXPECT_NE(std::string::npos, status.message().find(file.path)) << status;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice
