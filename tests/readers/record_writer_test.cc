#include "readers/record_writer.h"

#include <cstdio>
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

std::vector<std::string> Records() {
  Random rng(11);
  std::vector<std::string> records = {"", "foo", std::string(300000, 'q')};
  for (int i = 0; i < 100; ++i) {
    std::string r(rng.Uniform(1500), '\0');
    for (char& c : r) c = static_cast<char>(rng.Uniform(16));
    records.push_back(std::move(r));
  }
  return records;
}

std::string WriteToString(const std::vector<std::string>& records, RecordWriterOptions o) {
  std::string out;
  auto w = RecordWriter::ToString(&out, o);
  EXPECT_TRUE(w.ok()) << w.status();
  for (const auto& r : records) EXPECT_TRUE((*w)->Write(r).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return out;
}

TEST(RecordWriterTest, UncompressedOutputIsByteExactTensorFlowFraming) {
  RecordWriterOptions o;
  const auto records = Records();
  EXPECT_EQ(FrameRecords(records), WriteToString(records, o));
  // beam_foo.tfrecord was written by tf.python_io.TFRecordWriter.
  const std::string beam_foo("\x03\0\0\0\0\0\0\0\xb0\x99\x49\x0e" "foo" "\x61\x8a\xbe\xfe", 19);
  EXPECT_EQ(beam_foo, WriteToString({"foo"}, o));
}

TEST(RecordWriterTest, EveryCompressionRoundTripsThroughTheReader) {
  const auto records = Records();
  for (Compression c : {Compression::kNone, Compression::kZlib, Compression::kGzip}) {
    for (int level : {-1, 0, 1, 9}) {
      RecordWriterOptions o;
      o.compression = c;
      o.compression_level = level;
      o.buffer_size = 4096;
      const std::string out = WriteToString(records, o);
      EXPECT_EQ(c, DetectCompression(out));
      for (Inflater i : {Inflater::kIsal, Inflater::kZlib}) {
        RecordReaderOptions ro;
        ro.compression = c;
        ro.inflater = i;
        auto r = ReadAllFromMemory(out, ro);
        EXPECT_TRUE(absl::IsOutOfRange(r.status)) << r.status;
        EXPECT_EQ(records, r.records) << CompressionName(c) << " level " << level;
      }
    }
  }
}

TEST(RecordWriterTest, CompressedOutputInflatesToTheUncompressedStream) {
  const auto records = Records();
  RecordWriterOptions o;
  o.compression = Compression::kZlib;
  const std::string z = WriteToString(records, o);
  const std::string plain = FrameRecords(records);
  std::string back(plain.size(), '\0');
  uLongf n = back.size();
  ASSERT_EQ(Z_OK, uncompress(reinterpret_cast<Bytef*>(back.data()), &n,
                             reinterpret_cast<const Bytef*>(z.data()), z.size()));
  back.resize(n);
  EXPECT_EQ(plain, back);
}

TEST(RecordWriterTest, GzipHeaderHasTensorFlowsFlagsAndZeroMtime) {
  RecordWriterOptions o;
  o.compression = Compression::kGzip;
  const std::string out = WriteToString({"foo"}, o);
  ASSERT_GE(out.size(), 10u);
  EXPECT_EQ(std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8), out.substr(0, 8));
}

TEST(RecordWriterTest, FlushMakesWrittenRecordsReadableBeforeClose) {
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    std::string out;
    RecordWriterOptions o;
    o.compression = c;
    auto w = *RecordWriter::ToString(&out, o);
    ASSERT_TRUE(w->Write("one").ok());
    ASSERT_TRUE(w->Write("two").ok());
    ASSERT_TRUE(w->Flush().ok());
    RecordReaderOptions ro;
    ro.compression = c;
    auto r = ReadAllFromMemory(out, ro);
    EXPECT_THAT(r.records, ElementsAre("one", "two")) << CompressionName(c);
    // The unfinished gzip stream has no trailer yet.
    if (c == Compression::kGzip) {
      EXPECT_TRUE(absl::IsDataLoss(r.status));
    }
    ASSERT_TRUE(w->Close().ok());
    r = ReadAllFromMemory(out, ro);
    EXPECT_THAT(r.records, ElementsAre("one", "two"));
    EXPECT_TRUE(absl::IsOutOfRange(r.status));
  }
}

TEST(RecordWriterTest, WriteAfterCloseIsFailedPrecondition) {
  std::string out;
  auto w = *RecordWriter::ToString(&out, {});
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(w->Write("x")));
  EXPECT_TRUE(w->Close().ok());  // idempotent
}

TEST(RecordWriterTest, OffsetIsTheDecompressedOffsetOfTheNextRecord) {
  std::string out;
  RecordWriterOptions o;
  o.compression = Compression::kGzip;
  auto w = *RecordWriter::ToString(&out, o);
  EXPECT_EQ(0u, w->offset());
  ASSERT_TRUE(w->Write("foo").ok());
  EXPECT_EQ(19u, w->offset());
  ASSERT_TRUE(w->Write("").ok());
  EXPECT_EQ(35u, w->offset());
}

TEST(RecordWriterTest, BadOptionsAreInvalidArgument) {
  std::string out;
  RecordWriterOptions o;
  o.compression_level = 12;
  EXPECT_TRUE(absl::IsInvalidArgument(RecordWriter::ToString(&out, o).status()));
  o.compression_level = -1;
  o.buffer_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(RecordWriter::ToString(&out, o).status()));
}

TEST(RecordWriterTest, WritesAFileThatTheReaderOpens) {
  const std::string path = testing::TempPath("writer.tfrecord.gz");
  const auto records = Records();
  {
    RecordWriterOptions o;
    o.compression = Compression::kGzip;
    auto w = RecordWriter::Open(path, o);
    ASSERT_TRUE(w.ok()) << w.status();
    for (const auto& r : records) ASSERT_TRUE((*w)->Write(r).ok());
    // The destructor closes it.
  }
  RecordReaderOptions ro;
  ro.compression = Compression::kGzip;
  auto reader = RecordReader::Open(path, ro);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto r = testing::ReadAll(reader->get());
  EXPECT_EQ(records, r.records);
  EXPECT_TRUE(absl::IsOutOfRange(r.status));
  std::remove(path.c_str());
}

TEST(RecordWriterTest, UnwritablePathIsAnError) {
  auto w = RecordWriter::Open("/nonexistent/dir/out.tfrecord", {});
  EXPECT_TRUE(absl::IsNotFound(w.status())) << w.status();
}

}  // namespace
}  // namespace sluice
