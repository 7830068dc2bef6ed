#include "graph/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void WriteAll(const std::string& path, const std::string& s) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << s;
}

std::vector<std::pair<std::string, Tensor>> SampleTensors() {
  std::vector<std::pair<std::string, Tensor>> v;
  v.emplace_back("layer1/weight", Tensor::FromVector<float>({1.5f, -2.f, 3.25f, 0.f, 7.f, 8.f}, {2, 3}));
  v.emplace_back("global_step", Tensor::Scalar<int64_t>(42));
  v.emplace_back("d", Tensor::FromVector<double>({3.141592653589793}, {1}));
  v.emplace_back("names", Tensor::FromStrings({"a", "", std::string("z\0y", 3)}, {3}));
  v.emplace_back("flags", Tensor::FromVector<bool>({true, false}, {2}));
  v.emplace_back("bytes", Tensor::FromVector<uint8_t>({0, 255}, {2}));
  v.emplace_back("i32", Tensor::FromVector<int32_t>({-7}, {}));
  v.emplace_back("empty", Tensor::Zeros(DType::kFloat32, {0, 4}));
  return v;
}

TEST(CheckpointTest, EveryDTypeRoundTripsWithNameShapeAndContents) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("model.ckpt-1");
  auto tensors = SampleTensors();
  ASSERT_TRUE(WriteCheckpoint(prefix, tensors).ok());
  EXPECT_TRUE(CheckpointExists(prefix));
  auto reader = CheckpointReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_THAT((*reader)->tensors(), SizeIs(tensors.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    ASSERT_NE((*reader)->Find(tensors[i].first), nullptr) << tensors[i].first;
    auto t = (*reader)->Read(tensors[i].first);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->ContentEquals(tensors[i].second))
        << tensors[i].first << ": " << t->DebugString() << " vs " << tensors[i].second.DebugString();
  }
}

TEST(CheckpointTest, UnknownTensorIsNotFound) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  ASSERT_TRUE(WriteCheckpoint(prefix, SampleTensors()).ok());
  auto reader = CheckpointReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Read("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*reader)->Find("nope"), nullptr);
}

TEST(CheckpointTest, DuplicateOrEmptyNamesAreRejectedAndNothingIsWritten) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  std::vector<std::pair<std::string, Tensor>> dup = {{"a", Tensor::Scalar<float>(1)},
                                                      {"a", Tensor::Scalar<float>(2)}};
  EXPECT_EQ(WriteCheckpoint(prefix, dup).code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::pair<std::string, Tensor>> empty = {{"", Tensor::Scalar<float>(1)}};
  EXPECT_EQ(WriteCheckpoint(prefix, empty).code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::pair<std::string, Tensor>> uninit = {{"u", Tensor()}};
  EXPECT_EQ(WriteCheckpoint(prefix, uninit).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CheckpointExists(prefix));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(CheckpointTest, CorruptTensorBytesAreDataLossNamingFileAndTensor) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  auto tensors = SampleTensors();
  ASSERT_TRUE(WriteCheckpoint(prefix, tensors).ok());
  std::string data = ReadAll(CheckpointDataPath(prefix));
  data[4] ^= 0x01;  // inside layer1/weight (the first tensor)
  WriteAll(CheckpointDataPath(prefix), data);
  auto reader = CheckpointReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto t = (*reader)->Read("layer1/weight");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(t.status().message(), HasSubstr("layer1/weight"));
  EXPECT_THAT(t.status().message(), HasSubstr(CheckpointDataPath(prefix)));
  EXPECT_THAT(t.status().message(), HasSubstr("CRC"));
  // The other tensors are intact and still readable.
  EXPECT_TRUE((*reader)->Read("global_step").ok());
}

TEST(CheckpointTest, TruncatedDataFileIsDataLossNamingTheTensor) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  ASSERT_TRUE(WriteCheckpoint(prefix, SampleTensors()).ok());
  std::string data = ReadAll(CheckpointDataPath(prefix));
  WriteAll(CheckpointDataPath(prefix), data.substr(0, 26));  // cuts into "global_step"
  auto reader = CheckpointReader::Open(prefix);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(reader.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(reader.status().message(), HasSubstr("'global_step'"));
  EXPECT_THAT(reader.status().message(), HasSubstr(CheckpointDataPath(prefix)));
}

TEST(CheckpointTest, CorruptOrTruncatedIndexIsDataLossNamingTheIndex) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  ASSERT_TRUE(WriteCheckpoint(prefix, SampleTensors()).ok());
  const std::string index = ReadAll(CheckpointIndexPath(prefix));
  for (size_t cut : {size_t{0}, size_t{5}, index.size() / 2, index.size() - 1}) {
    WriteAll(CheckpointIndexPath(prefix), index.substr(0, cut));
    auto reader = CheckpointReader::Open(prefix);
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << cut;
    EXPECT_THAT(reader.status().message(), HasSubstr(CheckpointIndexPath(prefix)));
  }
  std::string flipped = index;
  flipped[20] ^= 0x40;
  WriteAll(CheckpointIndexPath(prefix), flipped);
  EXPECT_EQ(CheckpointReader::Open(prefix).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, MissingCheckpointIsNotFound) {
  testing::TempDir dir;
  EXPECT_FALSE(CheckpointExists(dir.Join("none")));
  EXPECT_EQ(CheckpointReader::Open(dir.Join("none")).status().code(), absl::StatusCode::kNotFound);
}

TEST(CheckpointTest, RewritingAPrefixReplacesItAndLeavesNoTemporaries) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m");
  std::vector<std::pair<std::string, Tensor>> v1 = {{"x", Tensor::Scalar<float>(1)}};
  std::vector<std::pair<std::string, Tensor>> v2 = {{"x", Tensor::Scalar<float>(2)}, {"y", Tensor::Scalar<float>(3)}};
  ASSERT_TRUE(WriteCheckpoint(prefix, v1).ok());
  ASSERT_TRUE(WriteCheckpoint(prefix, v2).ok());
  auto reader = CheckpointReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->tensors(), SizeIs(2));
  EXPECT_EQ((*reader)->Read("x")->scalar<float>(), 2.f);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST(CheckpointTest, DeleteRemovesIndexDataAndMeta) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("m-3");
  std::vector<std::pair<std::string, Tensor>> v = {{"x", Tensor::Scalar<float>(1)}};
  ASSERT_TRUE(WriteCheckpoint(prefix, v).ok());
  WriteAll(prefix + ".meta", "meta");
  ASSERT_TRUE(DeleteCheckpoint(prefix).ok());
  EXPECT_FALSE(CheckpointExists(prefix));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  EXPECT_TRUE(DeleteCheckpoint(prefix).ok());  // already gone: fine
}

TEST(CheckpointTest, AtomicWriteReplacesWholeFile) {
  testing::TempDir dir;
  const std::string path = dir.Join("f");
  ASSERT_TRUE(WriteFileAtomically(path, "a much longer first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "v2").ok());
  EXPECT_EQ(ReadAll(path), "v2");
  EXPECT_FALSE(WriteFileAtomically(dir.Join("no/such/dir/f"), "x").ok());
}

}  // namespace
}  // namespace sluice
