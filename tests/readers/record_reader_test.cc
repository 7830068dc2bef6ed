#include "readers/record_reader.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/random.h"
#include "record_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FrameRecord;
using ::sluice::testing::FrameRecords;
using ::sluice::testing::ReadAllFromMemory;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> SampleRecords() {
  Random rng(1);
  std::vector<std::string> records = {"", "a", "hello world", std::string(838, 'x')};
  for (int i = 0; i < 40; ++i) {
    std::string r(rng.Uniform(3000), '\0');
    for (char& c : r) c = static_cast<char>(rng.Uniform(256));
    records.push_back(std::move(r));
  }
  records.push_back(std::string(70000, 'y'));
  return records;
}

TEST(RecordReaderTest, ReadsEveryRecordWithItsOffsetThenOutOfRange) {
  const std::vector<std::string> records = {"foo", "", "bar"};
  auto r = ReadAllFromMemory(FrameRecords(records), {});
  EXPECT_EQ(records, r.records);
  EXPECT_THAT(r.offsets, ElementsAre(0, 19, 35));
  EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
}

TEST(RecordReaderTest, EmptyStreamIsImmediatelyOutOfRange) {
  auto r = ReadAllFromMemory("", {});
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(absl::IsOutOfRange(r.status));
}

TEST(RecordReaderTest, EndIsStickyOutOfRange) {
  std::string data = FrameRecord("x");
  auto reader = *RecordReader::FromMemory(data, {});
  ASSERT_TRUE(reader->Next().ok());
  EXPECT_TRUE(absl::IsOutOfRange(reader->Next().status()));
  EXPECT_TRUE(absl::IsOutOfRange(reader->Next().status()));
}

// Buffer sizes from 1 byte (every record spans many refills) to 64 KiB.
TEST(RecordReaderTest, BufferSizeSweepGivesTheSameRecords) {
  const auto records = SampleRecords();
  const std::string data = FrameRecords(records);
  std::vector<size_t> sizes;
  for (size_t s = 1; s <= 20; ++s) sizes.push_back(s);
  sizes.push_back(4096);
  sizes.push_back(65536);
  for (size_t size : sizes) {
    RecordReaderOptions o;
    o.buffer_size = size;
    auto r = ReadAllFromMemory(data, o);
    ASSERT_TRUE(absl::IsOutOfRange(r.status)) << size << ": " << r.status;
    ASSERT_EQ(records, r.records) << "buffer_size " << size;
  }
}

TEST(RecordReaderTest, ReadManyDeliversBatchesAndHoldsViewsAliveAcrossCalls) {
  const auto records = SampleRecords();
  const std::string data = FrameRecords(records);
  RecordReaderOptions o;
  o.buffer_size = 1024;  // many chunks per batch
  auto reader = *RecordReader::FromMemory(data, o);
  std::vector<RecordBatch> batches;
  while (true) {
    RecordBatch b;
    absl::Status s = reader->ReadMany(7, &b);
    if (absl::IsOutOfRange(s)) break;
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_LE(b.size(), 7u);
    ASSERT_GT(b.size(), 0u);
    batches.push_back(std::move(b));
    ASSERT_LT(batches.size(), 1000u);
  }
  // Every earlier batch's views are still intact: their chunks were never
  // reused while the batch held them.
  std::vector<std::string> got;
  for (const auto& b : batches) {
    for (size_t i = 0; i < b.size(); ++i) {
      got.emplace_back(b.record(i));
      ASSERT_TRUE(b.owner(i));
      const char* base = static_cast<const char*>(b.owner(i)->data());
      EXPECT_GE(b.record(i).data(), base);
      EXPECT_LE(b.record(i).data() + b.record(i).size(), base + b.owner(i)->size());
    }
  }
  EXPECT_EQ(records, got);
}

TEST(RecordReaderTest, ReusedBatchKeepsItsCapacity) {
  std::vector<std::string> records(100, std::string(50, 'r'));
  const std::string data = FrameRecords(records);
  auto reader = *RecordReader::FromMemory(data, {});
  RecordBatch b;
  ASSERT_TRUE(reader->ReadMany(10, &b).ok());
  EXPECT_EQ(10u, b.size());
  const std::string_view* before = b.records().data();
  ASSERT_TRUE(reader->ReadMany(10, &b).ok());
  EXPECT_EQ(10u, b.size());
  EXPECT_EQ(before, b.records().data());  // no reallocation
  EXPECT_EQ(1u, b.owners().size());       // one chunk holds them all
}

TEST(RecordReaderTest, ChunkRefKeepsNextRecordAliveAfterLaterReads) {
  std::vector<std::string> records;
  for (int i = 0; i < 200; ++i) records.push_back(std::string(100, static_cast<char>('a' + i % 26)));
  const std::string data = FrameRecords(records);
  RecordReaderOptions o;
  o.buffer_size = 512;
  auto reader = *RecordReader::FromMemory(data, o);
  auto first = reader->Next();
  ASSERT_TRUE(first.ok());
  RefPtr keep = reader->chunk();
  std::string_view view = first->data;
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(reader->Next().ok());
  EXPECT_EQ(records[0], view);
}

TEST(RecordReaderTest, RecordLargerThanBufferIsRead) {
  std::string big(600 * 1024, '\0');
  Random rng(3);
  for (char& c : big) c = static_cast<char>(rng.Uniform(256));
  const std::vector<std::string> records = {"small", big, "after"};
  RecordReaderOptions o;
  o.buffer_size = 64 << 10;
  auto r = ReadAllFromMemory(FrameRecords(records), o);
  EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
  EXPECT_EQ(records, r.records);
}

// The error table of docs/spec/tfrecord-and-example.md.
TEST(RecordReaderTest, CutHeaderIsTruncatedRecordAtItsOffset) {
  const std::string good = FrameRecord("foo");  // 19 bytes
  for (size_t cut = 1; cut < 12; ++cut) {
    std::string data = good + FrameRecord("bar").substr(0, cut);
    auto r = ReadAllFromMemory(data, {}, "data-00003.tfrecord");
    EXPECT_THAT(r.records, ElementsAre("foo"));
    EXPECT_TRUE(absl::IsDataLoss(r.status));
    EXPECT_EQ("truncated record at 19 in data-00003.tfrecord", r.status.message());
  }
}

TEST(RecordReaderTest, BadLengthCrcIsCorruptedRecordAtItsOffset) {
  std::string data = FrameRecord("foo") + FrameRecord("bar");
  data[19 + 9] ^= 1;
  auto r = ReadAllFromMemory(data, {}, "f.tfrecord");
  EXPECT_THAT(r.records, ElementsAre("foo"));
  EXPECT_TRUE(absl::IsDataLoss(r.status));
  EXPECT_EQ("corrupted record at 19 in f.tfrecord", r.status.message());
}

TEST(RecordReaderTest, ShortPayloadIsTruncatedRecordAfterTheHeader) {
  const std::string second = FrameRecord("barbaz");
  for (size_t keep = 13; keep < second.size(); ++keep) {
    auto r = ReadAllFromMemory(FrameRecord("foo") + second.substr(0, keep), {}, "f");
    EXPECT_THAT(r.records, ElementsAre("foo"));
    EXPECT_EQ("truncated record at 31 in f", r.status.message()) << keep;
    EXPECT_TRUE(absl::IsDataLoss(r.status));
  }
  // A whole header and no payload byte: TensorFlow reports the header offset.
  auto r = ReadAllFromMemory(FrameRecord("foo") + second.substr(0, 12), {}, "f");
  EXPECT_EQ("truncated record at 19 in f", r.status.message());
}

TEST(RecordReaderTest, BadDataCrcIsCorruptedRecordAfterTheHeader) {
  std::string data = FrameRecord("foo") + FrameRecord("bar") + FrameRecord("baz");
  data[19 + 12] ^= 0x40;
  auto r = ReadAllFromMemory(data, {}, "f");
  EXPECT_THAT(r.records, ElementsAre("foo"));
  EXPECT_TRUE(absl::IsDataLoss(r.status));
  EXPECT_EQ("corrupted record at 31 in f", r.status.message());
}

TEST(RecordReaderTest, FailErrorIsSticky) {
  std::string data = FrameRecord("foo");
  data[12] ^= 1;
  auto reader = *RecordReader::FromMemory(data, {});
  absl::Status first = reader->Next().status();
  EXPECT_TRUE(absl::IsDataLoss(first));
  EXPECT_EQ(first, reader->Next().status());
}

TEST(RecordReaderTest, ReadManyDeliversGoodRecordsBeforeTheError) {
  std::string data = FrameRecords({"a", "b", "c"}) + "\x01\x02";
  auto reader = *RecordReader::FromMemory(data, {});
  RecordBatch b;
  ASSERT_TRUE(reader->ReadMany(10, &b).ok());
  ASSERT_EQ(3u, b.size());
  EXPECT_EQ("c", b.record(2));
  absl::Status s = reader->ReadMany(10, &b);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_EQ(0u, b.size());
  EXPECT_THAT(std::string(s.message()), HasSubstr("truncated record at 51"));
}

TEST(RecordReaderTest, SkipRecordPolicySkipsBadDataCrcAndCountsIt) {
  std::string data = FrameRecords({"one", "two", "three"});
  data[19 + 12] ^= 1;  // payload of "two"
  RecordReaderOptions o;
  o.corrupt_policy = CorruptRecordPolicy::kSkipRecord;
  auto reader = *RecordReader::FromMemory(data, o);
  auto r = testing::ReadAll(reader.get());
  EXPECT_THAT(r.records, ElementsAre("one", "three"));
  EXPECT_TRUE(absl::IsOutOfRange(r.status));
  EXPECT_EQ(1u, reader->stats().records_skipped);
  EXPECT_EQ(19u, reader->stats().bytes_skipped);
  EXPECT_EQ(0u, reader->stats().files_abandoned);
  EXPECT_THAT(std::string(reader->stats().last_corruption.message()),
              HasSubstr("corrupted record at 31"));
}

TEST(RecordReaderTest, SkipRecordPolicyAbandonsFileWhenLengthIsUntrustworthy) {
  std::string data = FrameRecords({"one", "two", "three"});
  data[19] ^= 1;  // length of "two": next offset unknown
  RecordReaderOptions o;
  o.corrupt_policy = CorruptRecordPolicy::kSkipRecord;
  auto reader = *RecordReader::FromMemory(data, o);
  auto r = testing::ReadAll(reader.get(), 10);
  EXPECT_THAT(r.records, ElementsAre("one"));
  EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
  EXPECT_EQ(1u, reader->stats().files_abandoned);
  EXPECT_EQ(data.size() - 19, reader->stats().bytes_skipped);
  EXPECT_TRUE(absl::IsDataLoss(reader->stats().last_corruption));
}

TEST(RecordReaderTest, SkipFilePolicyStopsCleanlyAtFirstCorruption) {
  std::string data = FrameRecords({"one", "two", "three"});
  data[19 + 12] ^= 1;
  RecordReaderOptions o;
  o.corrupt_policy = CorruptRecordPolicy::kSkipFile;
  auto reader = *RecordReader::FromMemory(data, o);
  auto r = testing::ReadAll(reader.get(), 10);
  EXPECT_THAT(r.records, ElementsAre("one"));
  EXPECT_TRUE(absl::IsOutOfRange(r.status));
  EXPECT_EQ(1u, reader->stats().files_abandoned);
  EXPECT_EQ(0u, reader->stats().records_skipped);
}

TEST(RecordReaderTest, PolicyNamesParse) {
  EXPECT_EQ(CorruptRecordPolicy::kFail, *ParseCorruptRecordPolicy(""));
  EXPECT_EQ(CorruptRecordPolicy::kSkipRecord, *ParseCorruptRecordPolicy("skip_record"));
  EXPECT_EQ(CorruptRecordPolicy::kSkipFile, *ParseCorruptRecordPolicy("skip_file"));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseCorruptRecordPolicy("ignore").status()));
}

TEST(RecordReaderTest, SeekToARecordOffsetReadsFromThere) {
  const auto records = SampleRecords();
  const std::string data = FrameRecords(records);
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    const std::string stream = c == Compression::kNone ? data : testing::Gzip(data);
    RecordReaderOptions o;
    o.compression = c;
    o.buffer_size = 2048;
    auto all = ReadAllFromMemory(stream, o);
    ASSERT_EQ(records, all.records);
    auto reader = *RecordReader::FromMemory(stream, o);
    // Forward, backward, and within the buffered chunk.
    for (size_t i : {30, 2, 3, 44, 0, 44, 10}) {
      ASSERT_TRUE(reader->Seek(all.offsets[i]).ok()) << i;
      EXPECT_EQ(all.offsets[i], reader->offset());
      auto v = reader->Next();
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(records[i], v->data) << CompressionName(c) << " record " << i;
      EXPECT_EQ(all.offsets[i], v->offset);
    }
  }
}

TEST(RecordReaderTest, SeekPastTheEndOfACompressedStreamIsOutOfRange) {
  const std::string stream = testing::Gzip(FrameRecords({"a", "b"}));
  RecordReaderOptions o;
  o.compression = Compression::kGzip;
  auto reader = *RecordReader::FromMemory(stream, o);
  EXPECT_TRUE(absl::IsOutOfRange(reader->Seek(1000)));
}

TEST(RecordReaderTest, ReadsAFileAndNamesItInErrors) {
  const std::string path = testing::TempPath("reader.tfrecord");
  {
    std::ofstream f(path, std::ios::binary);
    const std::string data = FrameRecords({"x", "y"}) + "abc";
    f.write(data.data(), data.size());
  }
  auto reader = RecordReader::Open(path, {});
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto r = testing::ReadAll(reader->get());
  EXPECT_THAT(r.records, ElementsAre("x", "y"));
  EXPECT_EQ("truncated record at 34 in " + path, r.status.message());
  std::remove(path.c_str());
}

// map_file: the same records, offsets, errors and policies as reading in
// chunks, for clean, truncated and corrupt files; an empty file and a
// compressed one (never mapped) too.
TEST(RecordReaderTest, MappedFileReadsLikeChunkedReads) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 300; ++i) payloads.push_back(std::string(100 + i * 7 % 900, static_cast<char>('a' + i % 26)));
  std::string clean = FrameRecords(payloads);
  std::string bad_crc = clean;
  bad_crc[12 + 16 + 40] ^= 1;  // a byte of the second record's payload
  const std::vector<std::pair<std::string, std::string>> files = {
      {"clean", clean}, {"truncated", clean.substr(0, clean.size() - 50)}, {"bad_crc", bad_crc}, {"empty", ""}};
  for (const auto& [name, bytes] : files) {
    for (CorruptRecordPolicy policy : {CorruptRecordPolicy::kFail, CorruptRecordPolicy::kSkipRecord}) {
      SCOPED_TRACE(name + (policy == CorruptRecordPolicy::kFail ? " fail" : " skip_record"));
      const std::string path = testing::TempPath("mapped_" + name + ".tfrecord");
      {
        std::ofstream f(path, std::ios::binary);
        f.write(bytes.data(), bytes.size());
      }
      RecordReaderOptions chunked;
      chunked.buffer_size = 4096;  // many refills
      chunked.corrupt_policy = policy;
      RecordReaderOptions mapped = chunked;
      mapped.map_file = true;
      auto a = RecordReader::Open(path, chunked);
      auto b = RecordReader::Open(path, mapped);
      ASSERT_TRUE(a.ok() && b.ok());
      const testing::ReadResult ra = testing::ReadAll(a->get()), rb = testing::ReadAll(b->get());
      EXPECT_EQ(ra.records, rb.records);
      EXPECT_EQ(ra.offsets, rb.offsets);
      EXPECT_EQ(ra.status, rb.status);
      EXPECT_EQ((*a)->stats().records_skipped, (*b)->stats().records_skipped);
      if (name == "clean") {
        EXPECT_EQ(rb.records.size(), payloads.size());
      }
      std::remove(path.c_str());
    }
  }
}

TEST(RecordReaderTest, MappedRecordsOutliveTheReader) {
  const std::string path = testing::TempPath("mapped_views.tfrecord");
  {
    std::ofstream f(path, std::ios::binary);
    const std::string data = FrameRecords({"first", "second"});
    f.write(data.data(), data.size());
  }
  RecordReaderOptions o;
  o.map_file = true;
  auto reader = RecordReader::Open(path, o);
  ASSERT_TRUE(reader.ok()) << reader.status();
  RecordBatch batch;
  ASSERT_TRUE((*reader)->ReadMany(10, &batch).ok());
  reader->reset();  // the batch's chunk keeps the mapping alive
  std::remove(path.c_str());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.record(1), "second");
}

TEST(RecordReaderTest, MissingFileIsNotFound) {
  auto reader = RecordReader::Open("/nonexistent/dir/file.tfrecord", {});
  EXPECT_TRUE(absl::IsNotFound(reader.status())) << reader.status();
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr("/nonexistent/dir/file.tfrecord"));
}

TEST(RecordReaderTest, ZeroBufferSizeIsInvalidArgument) {
  RecordReaderOptions o;
  o.buffer_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(RecordReader::FromMemory("", o).status()));
}

TEST(RecordReaderTest, StatsCountRecordsAndPayloadBytes) {
  const std::string data = FrameRecords({"ab", "cde"});
  auto reader = *RecordReader::FromMemory(data, {});
  testing::ReadAll(reader.get());
  EXPECT_EQ(2u, reader->stats().records_read);
  EXPECT_EQ(5u, reader->stats().payload_bytes_read);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(RecordReaderInPlaceTest, MemoryStreamRecordsAreViewsIntoTheCallersBytes) {
  const std::string data = ::sluice::testing::FrameRecords({"alpha", "", "gamma"});
  auto reader = *RecordReader::FromMemory(data, {});
  auto first = reader->Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->data, "alpha");
  // No copy: the view points into `data` itself (12-byte header first).
  EXPECT_EQ(first->data.data(), data.data() + 12);
  RecordBatch batch;
  ASSERT_TRUE(reader->ReadMany(10, &batch).ok());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.record(1), "gamma");
  EXPECT_TRUE(absl::IsOutOfRange(reader->Next().status()));
}

TEST(RecordReaderInPlaceTest, SeekBackwardAndPastTheEndOfAnInPlaceStream) {
  const std::string data = ::sluice::testing::FrameRecords({"a", "bb", "ccc"});
  auto reader = *RecordReader::FromMemory(data, {});
  ASSERT_TRUE(reader->Next().ok());
  auto second = reader->Next();
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(reader->Seek(0).ok());
  EXPECT_EQ(reader->Next()->data, "a");
  ASSERT_TRUE(reader->Seek(second->offset).ok());
  EXPECT_EQ(reader->Next()->data, "bb");
  ASSERT_TRUE(reader->Seek(data.size() + 100).ok());
  EXPECT_TRUE(absl::IsOutOfRange(reader->Next().status()));
  // And back into the stream after a seek past its end.
  ASSERT_TRUE(reader->Seek(0).ok());
  EXPECT_EQ(reader->Next()->data, "a");
}

}  // namespace
}  // namespace sluice
