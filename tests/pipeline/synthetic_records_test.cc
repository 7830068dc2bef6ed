#include "pipeline/synthetic_records.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "core/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/record_reader.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::RecordId;
using testing::TempDir;

std::vector<std::string> ReadAll(const std::string& file, Compression c, absl::Status* end) {
  RecordReaderOptions o;
  o.compression = c;
  auto r = RecordReader::Open(file, o);
  std::vector<std::string> out;
  if (!r.ok()) {
    *end = r.status();
    return out;
  }
  while (true) {
    auto v = (*r)->Next();
    if (!v.ok()) {
      *end = v.status();
      return out;
    }
    out.emplace_back(v->data);
  }
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SyntheticRecordsTest, ShardsHoldContiguousIdsAndMatchTheManifest) {
  for (Compression c : {Compression::kNone, Compression::kZlib, Compression::kGzip}) {
    TempDir dir;
    SyntheticOptions o;
    o.out_dir = dir.path();
    o.records = 103;
    o.shards = 4;
    o.record_bytes = 100;
    o.compression = c;
    o.seed = 9;
    auto m = GenerateSynthetic(o);
    ASSERT_TRUE(m.ok()) << m.status();
    auto back = ReadManifest(dir.path());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->records, 103);
    EXPECT_EQ(back->compression, c);
    ASSERT_EQ(back->shards.size(), 4u);
    int64_t total = 0;
    for (size_t s = 0; s < 4; ++s) {
      const ShardInfo& info = back->shards[s];
      EXPECT_EQ(info.file, m->shards[s].file);
      EXPECT_EQ(info.checksum, m->shards[s].checksum);
      absl::Status end;
      std::vector<std::string> recs = ReadAll(info.file, c, &end);
      EXPECT_TRUE(absl::IsOutOfRange(end)) << end;
      ASSERT_EQ(static_cast<int64_t>(recs.size()), info.records);
      uint64_t sum = 0;
      for (size_t i = 0; i < recs.size(); ++i) {
        EXPECT_EQ(RecordId(recs[i]), info.first_id + static_cast<int64_t>(i));
        sum += crc32c::Value(recs[i]);
      }
      EXPECT_EQ(sum, info.checksum);
      total += info.records;
    }
    EXPECT_EQ(total, 103);
  }
}

TEST(SyntheticRecordsTest, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir a, b, c;
  SyntheticOptions o;
  o.records = 20;
  o.shards = 2;
  o.seed = 3;
  o.out_dir = a.path();
  auto ma = GenerateSynthetic(o);
  o.out_dir = b.path();
  auto mb = GenerateSynthetic(o);
  o.out_dir = c.path();
  o.seed = 4;
  auto mc = GenerateSynthetic(o);
  ASSERT_TRUE(ma.ok() && mb.ok() && mc.ok());
  EXPECT_EQ(FileBytes(ma->shards[1].file), FileBytes(mb->shards[1].file));
  EXPECT_NE(FileBytes(ma->shards[1].file), FileBytes(mc->shards[1].file));
}

TEST(SyntheticRecordsTest, CorruptionKindsGiveTheReaderErrorsAtTheRightRecord) {
  TempDir dir;
  SyntheticOptions o;
  o.out_dir = dir.path();
  o.records = 30;
  o.shards = 3;
  auto specs = ParseCorruptionSpecs("data_crc:0:4,length_crc:1:2,truncate:2:7");
  ASSERT_TRUE(specs.ok()) << specs.status();
  o.corrupt = *specs;
  auto m = GenerateSynthetic(o);
  ASSERT_TRUE(m.ok()) << m.status();
  auto back = ReadManifest(dir.path());
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->corrupt.size(), 3u);
  EXPECT_EQ(back->corrupt[1].kind, CorruptionKind::kLengthCrc);
  EXPECT_EQ(back->corrupt[2].record, 7);

  absl::Status end;
  EXPECT_EQ(ReadAll(m->shards[0].file, Compression::kNone, &end).size(), 4u);
  EXPECT_TRUE(absl::IsDataLoss(end));
  EXPECT_THAT(end.message(), ::testing::HasSubstr("corrupted record"));
  EXPECT_EQ(ReadAll(m->shards[1].file, Compression::kNone, &end).size(), 2u);
  EXPECT_TRUE(absl::IsDataLoss(end));
  EXPECT_EQ(ReadAll(m->shards[2].file, Compression::kNone, &end).size(), 7u);
  EXPECT_TRUE(absl::IsDataLoss(end));
  EXPECT_THAT(end.message(), ::testing::HasSubstr("truncated record"));
}

TEST(SyntheticRecordsTest, BadOptionsAndSpecsAreInvalidArgument) {
  EXPECT_FALSE(ParseCorruptionSpecs("flip:0:1").ok());
  EXPECT_FALSE(ParseCorruptionSpecs("data_crc:0").ok());
  TempDir dir;
  SyntheticOptions o;
  o.out_dir = dir.path();
  o.records = 10;
  o.shards = 2;
  o.corrupt = {{CorruptionKind::kDataCrc, 1, 5}};  // shard 1 has records 0..4
  EXPECT_TRUE(absl::IsInvalidArgument(GenerateSynthetic(o).status()));
  o.corrupt.clear();
  o.shards = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(GenerateSynthetic(o).status()));
}

}  // namespace
}  // namespace sluice
