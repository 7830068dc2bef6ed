#include "readers/idx.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace sluice {
namespace {

// A 3-image 2x3 uint8 file spelled out byte by byte (what the MNIST files
// look like, scaled down).
std::string TinyImagesFile() {
  std::string b = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
  for (int i = 0; i < 18; ++i) b.push_back(static_cast<char>(i * 13 + 1));
  return b;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + "." +
           ::testing::UnitTest::GetInstance()->current_test_info()->name()))
      .string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = in.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(IdxTest, ParsesHeaderDimsAndPixels) {
  auto a = ParseIdx(TinyImagesFile());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->type, IdxType::kUInt8);
  EXPECT_EQ(a->dims, (std::vector<int64_t>{3, 2, 3}));
  EXPECT_EQ(a->num_elements(), 18);
  EXPECT_EQ(a->row_elements(), 6);
  ASSERT_EQ(a->data.size(), 18u);
  EXPECT_EQ(static_cast<uint8_t>(a->data[7]), 7 * 13 + 1);
}

TEST(IdxTest, BigEndianDimensionsAboveOneByte) {
  std::string b = {0, 0, 0x08, 1, 0, 0, 0x01, 0x02};  // 258 labels
  b.append(258, '\x05');
  auto a = ParseIdx(b);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dims, (std::vector<int64_t>{258}));
}

TEST(IdxTest, TruncatedDataIsDataLossWithCounts) {
  std::string b = TinyImagesFile();
  b.resize(b.size() - 5);
  auto a = ParseIdx(b);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(a.status().message().find("13 bytes of 18"), std::string::npos) << a.status();
}

TEST(IdxTest, TruncatedHeaderIsDataLoss) {
  EXPECT_EQ(ParseIdx(std::string{0, 0, 8}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseIdx(std::string{0, 0, 8, 3, 0, 0}).status().code(), absl::StatusCode::kDataLoss);
}

TEST(IdxTest, BadMagicUnknownTypeAndTrailingBytesAreInvalidArgument) {
  std::string b = TinyImagesFile();
  b[0] = 1;
  EXPECT_EQ(ParseIdx(b).status().code(), absl::StatusCode::kInvalidArgument);
  b = TinyImagesFile();
  b[2] = 0x07;
  EXPECT_EQ(ParseIdx(b).status().code(), absl::StatusCode::kInvalidArgument);
  b = TinyImagesFile() + "x";
  EXPECT_EQ(ParseIdx(b).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIdx(std::string{0, 0, 8, 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IdxTest, EncodeRoundTripsMultiByteTypes) {
  IdxArray a;
  a.type = IdxType::kInt32;
  a.dims = {2, 2};
  a.data = std::string(16, '\0');
  a.data[3] = 7;
  auto b = ParseIdx(EncodeIdx(a));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->type, IdxType::kInt32);
  EXPECT_EQ(b->dims, a.dims);
  EXPECT_EQ(b->data, a.data);
  EXPECT_EQ(EncodeIdx(*ParseIdx(TinyImagesFile())), TinyImagesFile());
}

TEST(IdxTest, ReadsPlainAndGzipFilesAlike) {
  const std::string plain = TempPath("idx_plain"), gz = TempPath("idx_gz");
  WriteFile(plain, TinyImagesFile());
  WriteFile(gz, Gzip(TinyImagesFile()));
  auto a = ReadIdxFile(plain);
  auto b = ReadIdxFile(gz);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(a->dims, b->dims);
  std::filesystem::remove(plain);
  std::filesystem::remove(gz);
}

TEST(IdxTest, CorruptGzipIsDataLossAndMissingFileIsNotFound) {
  const std::string gz = TempPath("idx_badgz");
  std::string z = Gzip(TinyImagesFile());
  z.resize(z.size() / 2);
  WriteFile(gz, z);
  auto a = ReadIdxFile(gz);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss) << a.status();
  EXPECT_NE(a.status().message().find(gz), std::string::npos);
  std::filesystem::remove(gz);
  EXPECT_EQ(ReadIdxFile(TempPath("idx_missing")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
