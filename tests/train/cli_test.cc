// `sluice train` and `sluice convert` command lines (cli::RunTrain,
// cli::RunConvert, the functions behind the program's subcommands): help,
// usage errors that name the bad flag (exit 2), and a short run on
// synthetic IDX files that converts once and ends with the --json line.

#include "cli/train.h"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/convert.h"
#include "gmock/gmock.h"
#include "graph_training/test_tmpdir.h"
#include "gtest/gtest.h"
#include "support/synthetic_idx.h"

namespace sluice::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct Outcome {
  int status;
  std::string out, err;
};

Outcome Invoke(int (*fn)(int, char**, std::ostream&, std::ostream&),
            std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  const int status = fn(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

TEST(TrainCliTest, HelpListsTheOptions) {
  Outcome o = Invoke(RunTrain, {"train", "--help"});
  EXPECT_EQ(o.status, 0);
  EXPECT_THAT(o.out, HasSubstr("usage: sluice train"));
  for (const char* flag : {"--model", "--device", "--epochs", "--batch-size", "--seed",
                           "--deterministic", "--resume", "--json", "--logdir"}) {
    EXPECT_THAT(o.out, HasSubstr(flag));
  }
  EXPECT_TRUE(o.err.empty());
}

TEST(TrainCliTest, ConvertHelp) {
  Outcome o = Invoke(RunConvert, {"convert", "--help"});
  EXPECT_EQ(o.status, 0);
  EXPECT_THAT(o.out, HasSubstr("usage: sluice convert idx"));
}

TEST(TrainCliTest, BadFlagsExitTwoNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<Case> cases = {
      {{"train", "--bogus", "1"}, "--bogus"},
      {{"train", "--epochs", "zero"}, "--epochs"},
      {{"train", "--epochs", "0"}, "--epochs"},
      {{"train", "--batch-size", "-4"}, "--batch-size"},
      {{"train", "--device", "tpu"}, "--device"},
      {{"train", "--lr", "fast"}, "--lr"},
      {{"train", "--model", "resnet"}, "resnet"},
      {{"train", "--seed"}, "--seed"},
  };
  for (const Case& c : cases) {
    Outcome o = Invoke(RunTrain, c.args);
    EXPECT_EQ(o.status, 2) << c.named;
    EXPECT_THAT(o.err, HasSubstr(c.named));
    EXPECT_THAT(o.err, HasSubstr("sluice train"));
  }
  Outcome conv = Invoke(RunConvert, {"convert", "idx", "--shards", "none"});
  EXPECT_EQ(conv.status, 2);
  EXPECT_THAT(conv.err, HasSubstr("--shards"));
  conv = Invoke(RunConvert, {"convert", "idx", "--frobnicate", "x"});
  EXPECT_EQ(conv.status, 2);
  EXPECT_THAT(conv.err, HasSubstr("--frobnicate"));
}

TEST(TrainCliTest, MissingDataIsExitOneWithAHint) {
  testing::TempDir tmp;
  Outcome o = Invoke(RunTrain, {"train", "--data", tmp.Join("cache"), "--idx-dir", tmp.Join("none"),
                             "--quiet", "--logdir", ""});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("dataset-fashion-mnist"));
}

TEST(TrainCliTest, ConvertsOnceTrainsAndEndsWithTheJsonLine) {
  testing::TempDir tmp;
  const std::string idx = tmp.Join("idx");
  testing::WriteBarIdx(idx, "train", 512, 21);
  testing::WriteBarIdx(idx, "t10k", 128, 22);
  const std::vector<std::string> args = {
      "train", "--model", "softmax", "--epochs", "1", "--batch-size", "32", "--device", "cpu",
      "--data", tmp.Join("cache"), "--idx-dir", idx, "--logdir", tmp.Join("run"),
      "--deterministic", "--json"};
  Outcome o = Invoke(RunTrain, args);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("converting"));
  EXPECT_THAT(o.out, HasSubstr("epoch 1/1 done"));
  const std::string last = o.out.substr(o.out.rfind('\n', o.out.size() - 2) + 1);
  EXPECT_THAT(last, MatchesRegex(
                        "\\{\"model\":\"softmax\",\"device\":\"cpu\",\"epochs\":1,"
                        "\"test_accuracy\":[01]\\.[0-9]+,\"samples_per_second\":[0-9.]+,"
                        "\"input_wait_fraction\":[0-9.]+,\"rank\":0,\"world_size\":1,"
                        "\"records_seen\":[0-9]+,\"params_sha256\":\"[0-9a-f]{64}\"\\}\n"));
  EXPECT_TRUE(std::filesystem::exists(tmp.Join("cache/train.manifest")));
  // The second run finds the conversion and does not redo it.
  Outcome again = Invoke(RunTrain, args);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("converting")));
}

}  // namespace
}  // namespace sluice::cli
