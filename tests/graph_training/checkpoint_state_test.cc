#include "graph/checkpoint_state.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "graph/checkpoint.h"
#include "gtest/gtest.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

void WriteText(const std::string& path, const std::string& s) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << s;
}
std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void MakeCheckpoint(const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> v = {{"x", Tensor::Scalar<float>(1)}};
  ASSERT_TRUE(WriteCheckpoint(prefix, v).ok());
}

// What Saver.save does after writing the files.
void SaveStep(CheckpointRetention* keep, const std::string& dir, int step, double now) {
  const std::string prefix = dir + "/model.ckpt-" + std::to_string(step);
  MakeCheckpoint(prefix);
  std::vector<std::string> doomed = keep->Add(prefix, now);
  UpdateCheckpointStateOptions opts;
  if (keep->max_to_keep() > 0) opts.all_model_checkpoint_timestamps = keep->timestamps();
  ASSERT_TRUE(UpdateCheckpointState(dir, prefix, keep->paths(), opts).ok());
  for (const auto& p : doomed) ASSERT_TRUE(DeleteCheckpoint(p).ok());
}

TEST(CheckpointStateTest, SerializesLikePythonTextFormatAndParsesBack) {
  CheckpointState s;
  s.model_checkpoint_path = "model.ckpt-3";
  s.all_model_checkpoint_paths = {"model.ckpt-2", "model.ckpt-3"};
  s.all_model_checkpoint_timestamps = {1700000000.5, 1700000001.25};
  s.last_preserved_timestamp = 1699999999.0;
  const std::string text = SerializeCheckpointState(s);
  EXPECT_EQ(text,
            "model_checkpoint_path: \"model.ckpt-3\"\n"
            "all_model_checkpoint_paths: \"model.ckpt-2\"\n"
            "all_model_checkpoint_paths: \"model.ckpt-3\"\n"
            "all_model_checkpoint_timestamps: 1700000000.5\n"
            "all_model_checkpoint_timestamps: 1700000001.25\n"
            "last_preserved_timestamp: 1699999999\n");
  auto back = ParseCheckpointState(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_checkpoint_path, "model.ckpt-3");
  EXPECT_THAT(back->all_model_checkpoint_paths, ElementsAre("model.ckpt-2", "model.ckpt-3"));
  EXPECT_THAT(back->all_model_checkpoint_timestamps, ElementsAre(1700000000.5, 1700000001.25));
  EXPECT_EQ(back->last_preserved_timestamp, 1699999999.0);
}

TEST(CheckpointStateTest, ParsesEscapesCommentsQuotesAndCompactLayout) {
  auto s = ParseCheckpointState(
      "# written by hand\n"
      "model_checkpoint_path:'a\\\"b\\303\\251\\x41\\n'  all_model_checkpoint_paths: \"x\" \"y\"\n"
      "last_preserved_timestamp: 1.5e9\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->model_checkpoint_path, "a\"b\xc3\xa9" "A\n");
  EXPECT_THAT(s->all_model_checkpoint_paths, ElementsAre("xy"));
  EXPECT_EQ(s->last_preserved_timestamp, 1.5e9);
  // Non-ASCII bytes survive a round trip through octal escapes.
  CheckpointState t;
  t.model_checkpoint_path = "d\xc3\xa9j\xe0/\\\"'\t";
  auto u = ParseCheckpointState(SerializeCheckpointState(t));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->model_checkpoint_path, t.model_checkpoint_path);
}

TEST(CheckpointStateTest, MalformedTextIsInvalidArgument) {
  for (const char* bad : {"model_checkpoint_path \"x\"", "model_checkpoint_path: \"x", "unknown_field: 1",
                          "model_checkpoint_path: x", "all_model_checkpoint_timestamps: abc", "???"}) {
    EXPECT_EQ(ParseCheckpointState(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// Checklist item 119.
TEST(CheckpointStateTest, MaxToKeepTwoKeepsStepsTwoAndThreeAndListsThem) {
  testing::TempDir dir;
  CheckpointRetention keep(/*max_to_keep=*/2, /*hours=*/10000.0, /*now=*/1000.0);
  for (int step = 1; step <= 3; ++step) SaveStep(&keep, dir.path(), step, 1000.0 + step);
  EXPECT_FALSE(CheckpointExists(dir.path() + "/model.ckpt-1"));
  EXPECT_TRUE(CheckpointExists(dir.path() + "/model.ckpt-2"));
  EXPECT_TRUE(CheckpointExists(dir.path() + "/model.ckpt-3"));
  auto state = GetCheckpointState(dir.path());
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->model_checkpoint_path, dir.path() + "/model.ckpt-3");
  EXPECT_THAT((*state)->all_model_checkpoint_paths,
              ElementsAre(dir.path() + "/model.ckpt-2", dir.path() + "/model.ckpt-3"));
  EXPECT_THAT((*state)->all_model_checkpoint_timestamps, ElementsAre(1002.0, 1003.0));
}

// Checklist item 119, max_to_keep = 0 (tensorflow#13381).
TEST(CheckpointStateTest, MaxToKeepZeroKeepsAllFilesButListsOnlyTheNewest) {
  testing::TempDir dir;
  CheckpointRetention keep(/*max_to_keep=*/0, 10000.0, 1000.0);
  for (int step = 1; step <= 3; ++step) SaveStep(&keep, dir.path(), step, 1000.0 + step);
  for (int step = 1; step <= 3; ++step) {
    EXPECT_TRUE(CheckpointExists(dir.path() + "/model.ckpt-" + std::to_string(step)));
  }
  auto state = GetCheckpointState(dir.path());
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->model_checkpoint_path, dir.path() + "/model.ckpt-3");
  EXPECT_THAT((*state)->all_model_checkpoint_paths, ElementsAre(dir.path() + "/model.ckpt-3"));
}

TEST(CheckpointStateTest, KeepEveryNHoursPreservesOneCheckpointPerInterval) {
  // Interval of one hour starting at t=0: the first checkpoint pushed out
  // after t=3600 survives, the boundary moves to 7200.
  CheckpointRetention keep(/*max_to_keep=*/1, /*hours=*/1.0, /*now=*/0.0);
  EXPECT_TRUE(keep.Add("a", 100).empty());
  EXPECT_THAT(keep.Add("b", 3700), ElementsAre("a"));  // a (t=100) is before 3600
  EXPECT_TRUE(keep.Add("c", 3800).empty());            // b (t=3700) crossed 3600: kept
  EXPECT_THAT(keep.Add("d", 3900), ElementsAre("c"));  // next boundary is 7200
  EXPECT_THAT(keep.Add("e", 7300), ElementsAre("d"));  // d is before 7200
  EXPECT_THAT(keep.paths(), ElementsAre("e"));
  EXPECT_EQ(keep.last_preserved_timestamp(), 3600.0);
}

TEST(CheckpointStateTest, SavingTheSamePrefixAgainMovesItToTheEnd) {
  CheckpointRetention keep(3, 10000.0, 0.0);
  keep.Add("a", 1);
  keep.Add("b", 2);
  keep.Add("a", 3);
  EXPECT_THAT(keep.paths(), ElementsAre("b", "a"));
}

// Checklist item 120.
TEST(CheckpointStateTest, LatestCheckpointIsNoneWhenStateFileMissingUnparsableOrStale) {
  testing::TempDir dir;
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);  // no state file
  WriteText(dir.Join("checkpoint"), "this is { not a proto");
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);  // unparsable
  auto state = GetCheckpointState(dir.path());
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->has_value());
  WriteText(dir.Join("checkpoint"), "model_checkpoint_path: \"model.ckpt-7\"\n");
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);  // no model.ckpt-7.index
  MakeCheckpoint(dir.Join("model.ckpt-7"));
  EXPECT_EQ(LatestCheckpoint(dir.path()), dir.Join("model.ckpt-7"));
  // A V1 checkpoint is a single file named by the path itself.
  WriteText(dir.Join("checkpoint"), "model_checkpoint_path: \"v1-ckpt\"\n");
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);
  WriteText(dir.Join("v1-ckpt"), "v1 bytes");
  EXPECT_EQ(LatestCheckpoint(dir.path()), dir.Join("v1-ckpt"));
}

TEST(CheckpointStateTest, EmptyModelPathIsAnError) {
  testing::TempDir dir;
  WriteText(dir.Join("checkpoint"), "all_model_checkpoint_paths: \"a\"\n");
  EXPECT_EQ(GetCheckpointState(dir.path()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);
}

// Checklist item 120: relative paths resolve against the directory, so a
// moved directory keeps working; absolute ones go stale (tensorflow#571).
TEST(CheckpointStateTest, RelativePathsResolveAgainstTheDirectoryAfterAMove) {
  testing::TempDir root;
  const std::string a = root.Join("a"), b = root.Join("b");
  std::filesystem::create_directory(a);
  MakeCheckpoint(a + "/model.ckpt-5");
  UpdateCheckpointStateOptions rel;
  rel.save_relative_paths = true;
  ASSERT_TRUE(UpdateCheckpointState(a, a + "/model.ckpt-5", {}, rel).ok());
  EXPECT_THAT(ReadText(a + "/checkpoint"), HasSubstr("model_checkpoint_path: \"model.ckpt-5\"\n"));
  std::filesystem::rename(a, b);
  EXPECT_EQ(LatestCheckpoint(b), b + "/model.ckpt-5");

  // Absolute paths recorded before the move point at the old place.
  ASSERT_TRUE(UpdateCheckpointState(b, a + "/model.ckpt-5", {}).ok());
  EXPECT_EQ(LatestCheckpoint(b), std::nullopt);
}

TEST(CheckpointStateTest, RelativeDirectoryStoresPathsRelativeToIt) {
  testing::TempDir root;
  const std::string old_cwd = std::filesystem::current_path().string();
  std::filesystem::current_path(root.path());
  std::filesystem::create_directory("model_dir");
  MakeCheckpoint("model_dir/my_test_model");
  ASSERT_TRUE(UpdateCheckpointState("./model_dir", "./model_dir/my_test_model", {}).ok());
  const std::string text = ReadText("model_dir/checkpoint");
  auto latest = LatestCheckpoint("./model_dir");
  std::filesystem::current_path(old_cwd);
  EXPECT_EQ(text,
            "model_checkpoint_path: \"my_test_model\"\n"
            "all_model_checkpoint_paths: \"my_test_model\"\n");
  EXPECT_EQ(latest, "./model_dir/my_test_model");
}

TEST(CheckpointStateTest, SavePathEqualToStateFileIsRejected) {
  testing::TempDir dir;
  EXPECT_EQ(UpdateCheckpointState(dir.path(), dir.Join("checkpoint"), {}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CheckpointStateTest, CustomLatestFilename) {
  testing::TempDir dir;
  MakeCheckpoint(dir.Join("m-1"));
  UpdateCheckpointStateOptions opts;
  opts.latest_filename = "other_state";
  ASSERT_TRUE(UpdateCheckpointState(dir.path(), dir.Join("m-1"), {}, opts).ok());
  EXPECT_EQ(LatestCheckpoint(dir.path()), std::nullopt);
  EXPECT_EQ(LatestCheckpoint(dir.path(), "other_state"), dir.Join("m-1"));
}

}  // namespace
}  // namespace sluice
