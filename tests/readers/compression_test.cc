#include "readers/compression.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/random.h"
#include "readers/record_reader.h"
#include "record_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FrameRecords;
using ::sluice::testing::ReadAllFromMemory;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr Inflater kInflaters[] = {Inflater::kIsal, Inflater::kZlib};

RecordReaderOptions Options(Compression c, Inflater i, size_t buffer_size = 256 << 10) {
  RecordReaderOptions o;
  o.compression = c;
  o.inflater = i;
  o.buffer_size = buffer_size;
  return o;
}

std::vector<std::string> SomeRecords(int n, uint64_t seed) {
  Random rng(seed);
  std::vector<std::string> records;
  for (int i = 0; i < n; ++i) {
    std::string r(rng.Uniform(2000), '\0');
    // Compressible but not trivial.
    for (char& c : r) c = static_cast<char>('a' + rng.Uniform(8));
    records.push_back(std::move(r));
  }
  return records;
}

TEST(CompressionTest, ParsesTensorFlowNames) {
  EXPECT_EQ(Compression::kNone, *ParseCompression(""));
  EXPECT_EQ(Compression::kNone, *ParseCompression("NONE"));
  EXPECT_EQ(Compression::kZlib, *ParseCompression("ZLIB"));
  EXPECT_EQ(Compression::kGzip, *ParseCompression("GZIP"));
  EXPECT_EQ(Compression::kGzip, *ParseCompression("gzip"));
  auto bad = ParseCompression("BZIP2");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("BZIP2"));
  EXPECT_STREQ("GZIP", CompressionName(Compression::kGzip));
  EXPECT_EQ(Inflater::kZlib, *ParseInflater("zlib"));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseInflater("lz4").status()));
}

TEST(CompressionTest, DetectsCompressionFromMagicBytes) {
  const std::string plain = FrameRecords({"foo"});
  EXPECT_EQ(Compression::kNone, DetectCompression(plain));
  EXPECT_EQ(Compression::kGzip, DetectCompression(testing::Gzip(plain)));
  EXPECT_EQ(Compression::kZlib, DetectCompression(testing::Zlib(plain)));
  EXPECT_EQ(Compression::kZlib, DetectCompression(testing::Zlib(plain, 9)));
  EXPECT_EQ(Compression::kZlib, DetectCompression(testing::Zlib(plain, 1)));
  EXPECT_EQ(Compression::kNone, DetectCompression(""));
}

// A record of length 0x9c78 starts with bytes 78 9c, a valid zlib header;
// its length CRC says it is a plain TFRecord.
TEST(CompressionTest, PlainRecordWhoseLengthLooksLikeZlibIsDetectedAsNone) {
  const std::string plain = FrameRecords({std::string(0x9c78, 'z')});
  ASSERT_EQ('\x78', plain[0]);
  ASSERT_EQ('\x9c', plain[1]);
  EXPECT_EQ(Compression::kNone, DetectCompression(plain));
}

TEST(CompressionTest, BothInflatersReadZlibAndGzipAtEveryBufferSize) {
  const auto records = SomeRecords(60, 5);
  const std::string plain = FrameRecords(records);
  for (Compression c : {Compression::kZlib, Compression::kGzip}) {
    const std::string stream = c == Compression::kGzip ? testing::Gzip(plain) : testing::Zlib(plain);
    for (Inflater i : kInflaters) {
      for (size_t size : {1, 2, 3, 7, 13, 100, 4096, 262144}) {
        auto r = ReadAllFromMemory(stream, Options(c, i, size));
        ASSERT_TRUE(absl::IsOutOfRange(r.status))
            << CompressionName(c) << "/" << InflaterName(i) << " " << size << ": " << r.status;
        ASSERT_EQ(records, r.records) << CompressionName(c) << "/" << InflaterName(i) << " " << size;
      }
    }
  }
}

TEST(CompressionTest, GzipHeaderWithNameMtimeAndMacOsByteReads) {
  const std::string plain = FrameRecords({"foo", "bar"});
  for (uint8_t os : {3, 19, 255}) {
    const std::string stream = testing::GzipWithName(plain, "data.tfrecord", os);
    ASSERT_EQ(Compression::kGzip, DetectCompression(stream));
    for (Inflater i : kInflaters) {
      auto r = ReadAllFromMemory(stream, Options(Compression::kGzip, i));
      EXPECT_THAT(r.records, ElementsAre("foo", "bar")) << InflaterName(i);
      EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
    }
  }
}

TEST(CompressionTest, ConcatenatedGzipMembersReadAsOneStream) {
  const std::string a = FrameRecords({"a1", "a2"});
  const std::string b = FrameRecords({"b1"});
  // `cat a.gz b.gz c.gz`, one member with the gzip tool's header.
  const std::string stream =
      testing::Gzip(a) + testing::GzipWithName(b, "b", 3) + testing::Gzip(FrameRecords({"c1"}));
  for (Inflater i : kInflaters) {
    for (size_t size : {5, 64, 65536}) {
      auto r = ReadAllFromMemory(stream, Options(Compression::kGzip, i, size));
      EXPECT_THAT(r.records, ElementsAre("a1", "a2", "b1", "c1")) << InflaterName(i) << size;
      EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
      // Offsets continue across members: they are decompressed offsets.
      EXPECT_EQ(a.size(), r.offsets[2]);
    }
  }
}

TEST(CompressionTest, ConcatenatedZlibStreamsReadAsOneStream) {
  const std::string stream = testing::Zlib(FrameRecords({"x"})) + testing::Zlib(FrameRecords({"y"}));
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory(stream, Options(Compression::kZlib, i));
    EXPECT_THAT(r.records, ElementsAre("x", "y")) << InflaterName(i);
    EXPECT_TRUE(absl::IsOutOfRange(r.status));
  }
}

TEST(CompressionTest, BadGzipCrcIsDataLoss) {
  std::string stream = testing::Gzip(FrameRecords({"foo", "bar"}));
  stream[stream.size() - 6] ^= 1;  // CRC-32 in the trailer
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory(stream, Options(Compression::kGzip, i), "x.gz");
    EXPECT_TRUE(absl::IsDataLoss(r.status)) << InflaterName(i) << r.status;
    EXPECT_THAT(std::string(r.status.message()), HasSubstr("x.gz"));
  }
}

TEST(CompressionTest, BadZlibAdlerIsDataLoss) {
  std::string stream = testing::Zlib(FrameRecords({"foo", "bar"}));
  stream[stream.size() - 1] ^= 1;
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory(stream, Options(Compression::kZlib, i));
    EXPECT_TRUE(absl::IsDataLoss(r.status)) << InflaterName(i) << r.status;
  }
}

TEST(CompressionTest, TruncatedGzipDeliversWholeRecordsThenDataLoss) {
  const auto records = SomeRecords(40, 9);
  const std::string full = testing::Gzip(FrameRecords(records));
  for (Inflater i : kInflaters) {
    for (size_t cut : {full.size() - 1, full.size() - 8, full.size() / 2, size_t{11}}) {
      auto r = ReadAllFromMemory(full.substr(0, cut), Options(Compression::kGzip, i, 512));
      EXPECT_TRUE(absl::IsDataLoss(r.status)) << InflaterName(i) << " cut " << cut << r.status;
      ASSERT_LE(r.records.size(), records.size());
      for (size_t k = 0; k < r.records.size(); ++k) EXPECT_EQ(records[k], r.records[k]);
    }
  }
}

TEST(CompressionTest, TrailingGarbageAfterLastMemberIsDataLoss) {
  const std::string stream = testing::Gzip(FrameRecords({"foo"})) + "garbage!";
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory(stream, Options(Compression::kGzip, i));
    EXPECT_THAT(r.records, ElementsAre("foo"));
    EXPECT_TRUE(absl::IsDataLoss(r.status)) << InflaterName(i) << r.status;
  }
}

TEST(CompressionTest, PlainStreamReadAsGzipIsDataLossNotACrash) {
  const std::string plain = FrameRecords({"foo"});
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory(plain, Options(Compression::kGzip, i));
    EXPECT_TRUE(r.records.empty());
    EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
  }
}

TEST(CompressionTest, EmptyCompressedFileHasNoRecords) {
  for (Inflater i : kInflaters) {
    auto r = ReadAllFromMemory("", Options(Compression::kGzip, i));
    EXPECT_TRUE(r.records.empty());
    EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
  }
}

// Every compressed file of the corpus gives identical records through ISA-L
// and through zlib (the reference implementation).
TEST(CompressionTest, IsalAndZlibAgreeOnEveryCompressedCorpusFile) {
  const char* root = std::getenv("SLUICE_TESTDATA");
  ASSERT_NE(nullptr, root) << "SLUICE_TESTDATA is not set";
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    if (path.ends_with(".json") || path.ends_with(".md") || path.ends_with(".py")) continue;
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string bytes = ss.str();
    const Compression c = DetectCompression(bytes);
    if (c == Compression::kNone) continue;
    auto isal = ReadAllFromMemory(bytes, Options(c, Inflater::kIsal), path);
    auto zlib = ReadAllFromMemory(bytes, Options(c, Inflater::kZlib), path);
    EXPECT_EQ(zlib.records, isal.records) << path;
    EXPECT_EQ(zlib.status.code(), isal.status.code()) << path;
    EXPECT_FALSE(isal.records.empty()) << path;
    ++checked;
  }
  EXPECT_GE(checked, 4);  // three GZIP files and one ZLIB
}

}  // namespace
}  // namespace sluice
