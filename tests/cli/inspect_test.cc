// Runs `sluice inspect` on the corpus in tests/testdata and compares its
// --json output with each file's .expected.json (the reference tool's
// output), and checks the exit statuses and option handling.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../readers/mini_json.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing_json::Value;
using ::testing::HasSubstr;

std::string TestData() {
  const char* d = std::getenv("SLUICE_TESTDATA");
  return d ? d : "tests/testdata";
}

struct CliRun {
  int exit_status = -1;
  std::string out;
};

// Runs the sluice binary with `args` (shell-quoted by the caller); stderr
// is discarded. `timeout` bounds a hang.
CliRun Sluice(const std::string& args) {
  std::string cmd = "timeout 60 '" SLUICE_CLI_BINARY "' " + args + " 2>/dev/null";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

Value LoadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return testing_json::Parse(ss.str()).value_or(Value());
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(TestData(), ec);
       it != fs::recursive_directory_iterator(); ++it) {
    std::string p = it->path().string();
    if (p.size() > 14 && p.compare(p.size() - 14, 14, ".expected.json") == 0) {
      out.push_back(p.substr(0, p.size() - 14));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// `sluice inspect --json PREFIX` against a checkpoint's expected.json.
void ExpectCheckpointMatches(const CliRun& run, const Value& exp) {
  EXPECT_EQ(run.exit_status, 0);
  auto got = testing_json::Parse(run.out);
  ASSERT_TRUE(got.has_value()) << run.out;
  EXPECT_TRUE((*got)["error"].is_null()) << run.out;
  EXPECT_EQ((*got)["format"].str, "tensor_bundle_v2");
  const auto& want = exp["variables"].arr;
  const auto& vars = (*got)["variables"].arr;
  ASSERT_EQ(vars.size(), want.size()) << run.out;
  for (size_t i = 0; i < want.size(); ++i) {
    for (const char* key : {"name", "dtype", "shape", "bytes", "sha256", "crc_ok", "values"}) {
      EXPECT_TRUE(vars[i][key] == want[i][key]) << key << " of " << want[i]["name"].str << ": " << run.out;
    }
  }
}

TEST(InspectCliTest, JsonMatchesExpectedForEveryCorpusFile) {
  std::vector<std::string> files = CorpusFiles();
  ASSERT_GE(files.size(), 19u) << "no corpus under " << TestData();
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    Value exp = LoadJson(f + ".expected.json");
    CliRun run = Sluice("inspect --json " + Quote(f));
    if (exp.has("variables")) {  // a checkpoint prefix (tensorflow-serving/)
      ExpectCheckpointMatches(run, exp);
      continue;
    }
    bool clean = exp["framing_errors"].arr.empty();
    EXPECT_EQ(run.exit_status, clean ? 0 : 1);
    auto got = testing_json::Parse(run.out);
    ASSERT_TRUE(got.has_value()) << run.out;
    EXPECT_EQ((*got)["file"].str, exp["file"].str);
    EXPECT_EQ((*got)["compression"].str, exp["compression"].str);
    EXPECT_EQ((*got)["num_records"].i(), exp["num_records"].i());
    EXPECT_EQ((*got)["file_size"].i(), exp["file_size"].i());
    EXPECT_EQ((*got)["records_digest_sha256"].str, exp["records_digest_sha256"].str);
    if (exp["num_records"].i() > 0) {  // else the reference names its producer's choice
      EXPECT_EQ((*got)["payload_kind"].str, exp["payload_kind"].str);
    }
    if (clean) {
      EXPECT_TRUE((*got)["error"].is_null());
      EXPECT_EQ((*got)["decompressed_size"].i(), exp["decompressed_size"].i());
    } else {
      // "DATA_LOSS: corrupted record at 115" → code, offset, message start.
      const Value& fe = exp["framing_errors"].arr[0];
      std::string status = fe["tensorflow_status"].str;
      const Value& err = (*got)["error"];
      EXPECT_EQ(err["code"].str, status.substr(0, status.find(':')));
      std::string msg = status.substr(status.find(':') + 2);
      EXPECT_EQ(err["offset"].i(), std::stoll(msg.substr(msg.rfind(' ') + 1)));
      EXPECT_EQ(err["message"].str.rfind(msg + " in ", 0), 0u) << err["message"].str;
    }
    if (exp.has("feature_schema_all_records")) {
      EXPECT_TRUE((*got)["features"] == exp["feature_schema_all_records"]) << run.out;
    }
    if (exp.has("feature_list_schema_all_records")) {
      EXPECT_TRUE((*got)["feature_lists"] == exp["feature_list_schema_all_records"]);
      EXPECT_TRUE((*got)["context_features"] == exp["context_schema_all_records"]);
    }
  }
}

TEST(InspectCliTest, CorruptCheckpointIsDataLossNamingTheFile) {
  const std::string src = TestData() + "/tensorflow-serving/saved_model_half_plus_two_cpu/00000123/variables/";
  const fs::path dir = fs::temp_directory_path() / ("sluice_inspect_ckpt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string prefix = (dir / "variables").string();
  fs::copy_file(src + "variables.data-00000-of-00001", prefix + ".data-00000-of-00001",
                fs::copy_options::overwrite_existing);
  std::ifstream in(src + "variables.index", std::ios::binary);
  std::string index((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {
    std::ofstream out(prefix + ".index", std::ios::binary | std::ios::trunc);
    out << index.substr(0, index.size() - 10);
  }
  CliRun run = Sluice("inspect --json " + Quote(prefix));
  EXPECT_EQ(run.exit_status, 1);
  auto got = testing_json::Parse(run.out);
  ASSERT_TRUE(got.has_value()) << run.out;
  EXPECT_EQ((*got)["error"]["code"].str, "DATA_LOSS");
  EXPECT_THAT((*got)["error"]["message"].str, HasSubstr(prefix + ".index"));
  CliRun text = Sluice("inspect " + Quote(prefix));
  EXPECT_EQ(text.exit_status, 1);
  EXPECT_THAT(text.out, HasSubstr("DATA_LOSS"));
  fs::remove_all(dir);
}

TEST(InspectCliTest, HelpNamesCheckpoints) {
  EXPECT_THAT(Sluice("inspect --help").out, HasSubstr("CKPT_PREFIX"));
}

TEST(InspectCliTest, OneJsonLinePerFileAndExitOneIfAnyIsBad) {
  std::string good = TestData() + "/apache-beam/beam_foo.tfrecord";
  std::string bad = TestData() + "/apache-beam/beam_foo.DERIVED-corrupt-data-crc.bin";
  CliRun run = Sluice("inspect --json " + Quote(good) + " " + Quote(bad) + " " + Quote(good));
  EXPECT_EQ(run.exit_status, 1);
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 3);
  CliRun clean = Sluice("inspect --json " + Quote(good) + " " + Quote(good));
  EXPECT_EQ(clean.exit_status, 0);
}

TEST(InspectCliTest, UsageErrorsExitTwo) {
  std::string good = Quote(TestData() + "/apache-beam/beam_foo.tfrecord");
  EXPECT_EQ(Sluice("inspect").exit_status, 2);
  EXPECT_EQ(Sluice("inspect --compression brotli " + good).exit_status, 2);
  EXPECT_EQ(Sluice("inspect --policy retry " + good).exit_status, 2);
  EXPECT_EQ(Sluice("inspect --bogus " + good).exit_status, 2);
  EXPECT_EQ(Sluice("no-such-command").exit_status, 2);
  EXPECT_EQ(Sluice("").exit_status, 2);
}

TEST(InspectCliTest, HelpExitsZero) {
  CliRun top = Sluice("--help");
  EXPECT_EQ(top.exit_status, 0);
  EXPECT_THAT(top.out, HasSubstr("inspect"));
  CliRun sub = Sluice("inspect --help");
  EXPECT_EQ(sub.exit_status, 0);
  EXPECT_THAT(sub.out, HasSubstr("--compression"));
}

TEST(InspectCliTest, ExplicitCompressionOverridesDetection) {
  std::string gz = Quote(TestData() + "/tensorflow-tfx/iris_CsvExampleGen_testing_data_tfrecord-00000-of-00004.gz");
  CliRun as_gzip = Sluice("inspect --json --compression=gzip " + gz);
  EXPECT_EQ(as_gzip.exit_status, 0);
  auto j = testing_json::Parse(as_gzip.out);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["compression_detected"].b, false);
  EXPECT_EQ((*j)["num_records"].i(), 7);
  // Read as uncompressed, the gzip bytes are not TFRecord framing.
  CliRun as_none = Sluice("inspect --json --compression none " + gz);
  EXPECT_EQ(as_none.exit_status, 1);
  auto n = testing_json::Parse(as_none.out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ((*n)["error"]["code"].str, "DATA_LOSS");
}

TEST(InspectCliTest, SkipRecordPolicyCountsTheSkippedRecord) {
  std::string bad = Quote(TestData() + "/catalyst-team-catalyst/catalyst_test_events.DERIVED-byte123-plus1.bin");
  CliRun run = Sluice("inspect --json --policy skip_record " + bad);
  EXPECT_EQ(run.exit_status, 1);  // corruption was met, even though skipped
  auto j = testing_json::Parse(run.out);
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE((*j)["error"].is_null());
  EXPECT_EQ((*j)["records_skipped"].i(), 1);
  EXPECT_EQ((*j)["num_records"].i(), 4);  // the 3 before it and the 1 after
}

TEST(InspectCliTest, TextOutputNamesFeaturesAndErrors) {
  CliRun ex = Sluice("inspect " + Quote(TestData() + "/tensorflow-lingvo/wmt14_ende_wpm_32k_test.tfrecord"));
  EXPECT_EQ(ex.exit_status, 0);
  EXPECT_THAT(ex.out, HasSubstr("source_word"));
  EXPECT_THAT(ex.out, HasSubstr("bytes_list"));
  EXPECT_THAT(ex.out, HasSubstr("100 good"));
  CliRun bad = Sluice("inspect " + Quote(TestData() + "/catalyst-team-catalyst/catalyst_test_events.DERIVED-truncated-last5.bin"));
  EXPECT_EQ(bad.exit_status, 1);
  EXPECT_THAT(bad.out, HasSubstr("DATA_LOSS: truncated record at 154"));
}

TEST(InspectCliTest, MissingFileIsAnErrorNotAUsageError) {
  CliRun run = Sluice("inspect --json /nonexistent/file.tfrecord");
  EXPECT_EQ(run.exit_status, 1);
  auto j = testing_json::Parse(run.out);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["error"]["code"].str, "NOT_FOUND");
}

}  // namespace
}  // namespace sluice
