#include "graph/summary_writer.h"

#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "event_decoder.h"
#include "gmock/gmock.h"
#include "graph/png_encoder.h"
#include "gtest/gtest.h"
#include "png_decode.h"
#include "readers/record_reader.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::vector<testing::DecodedEvent> ReadEvents(const std::string& path) {
  std::vector<testing::DecodedEvent> out;
  auto reader = RecordReader::Open(path, {});
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while (true) {
    auto rec = (*reader)->Next();
    if (!rec.ok()) {
      EXPECT_EQ(rec.status().code(), absl::StatusCode::kOutOfRange) << rec.status();
      break;
    }
    testing::DecodedEvent e;
    EXPECT_TRUE(testing::DecodeEvent(rec->data, &e)) << "record " << out.size();
    out.push_back(std::move(e));
  }
  return out;
}

TEST(HistogramTest, DefaultBucketsMatchTensorFlow) {
  const auto& limits = Histogram::DefaultBucketLimits();
  // ±(1e-12 · 1.1^k) for 1e-12 ≤ v < 1e20, ±DBL_MAX and 0.
  int positive = 0;
  for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) ++positive;
  ASSERT_EQ(limits.size(), static_cast<size_t>(2 * (positive + 1) + 1));
  EXPECT_EQ(limits.front(), -DBL_MAX);
  EXPECT_EQ(limits.back(), DBL_MAX);
  EXPECT_EQ(limits[positive + 1], 0.0);
  EXPECT_EQ(limits[positive + 2], 1.0e-12);
  EXPECT_TRUE(std::is_sorted(limits.begin(), limits.end()));
}

TEST(HistogramTest, ValueLandsInFirstBucketWithLargerLimitAndEmptyRunsCollapse) {
  Histogram h(std::vector<double>{0.0, 1.0, 2.0, 3.0});  // DBL_MAX appended
  for (double v : {-5.0, 0.0, 0.5, 2.5, 2.9, 100.0}) h.Add(v);
  EXPECT_THAT(h.buckets(), ElementsAre(1, 2, 0, 2, 1));
  EXPECT_EQ(h.min(), -5.0);
  EXPECT_EQ(h.max(), 100.0);
  EXPECT_EQ(h.num(), 6);
  EXPECT_DOUBLE_EQ(h.sum(), 100.9);
  std::string proto;
  h.EncodeTo(&proto);
  // Decode through a Summary to reuse the test decoder.
  SummaryBuilder b;
  b.AddHistogram("h", h);
  std::vector<testing::DecodedValue> values;
  ASSERT_TRUE(testing::DecodeSummary(b.bytes(), &values));
  ASSERT_EQ(values.size(), 1u);
  const auto& histo = *values[0].histo;
  EXPECT_THAT(histo.bucket_limit, ElementsAre(0.0, 1.0, 2.0, 3.0, DBL_MAX));
  EXPECT_THAT(histo.bucket, ElementsAre(1, 2, 0, 2, 1));
  EXPECT_DOUBLE_EQ(histo.sum_squares, 25 + 0 + 0.25 + 6.25 + 2.9 * 2.9 + 10000);
}

TEST(HistogramTest, EmptyHistogramWritesOneBucket) {
  SummaryBuilder b;
  ASSERT_TRUE(b.AddHistogram("e", std::vector<double>{}).ok());
  std::vector<testing::DecodedValue> values;
  ASSERT_TRUE(testing::DecodeSummary(b.bytes(), &values));
  EXPECT_THAT(values[0].histo->bucket_limit, ElementsAre(DBL_MAX));
  EXPECT_THAT(values[0].histo->bucket, ElementsAre(0.0));
  EXPECT_EQ(values[0].histo->num, 0);
}

TEST(HistogramTest, NanOrInfinityIsInvalidArgumentNamingTheTag) {
  SummaryBuilder b;
  auto s = b.AddHistogram("layer1/weights", std::vector<double>{1.0, NAN});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Nan in summary histogram for: layer1/weights"));
  EXPECT_EQ(b.AddHistogram("x", std::vector<double>{INFINITY}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(b.empty());
}

TEST(FileWriterTest, WritesTensorBoardNamedFileStartingWithFileVersion) {
  testing::TempDir dir;
  const std::string logdir = dir.Join("logs/run1");  // created with parents
  auto w = FileWriter::Create(logdir);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string name = std::filesystem::path((*w)->path()).filename().string();
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_THAT(name, MatchesRegex("events\\.out\\.tfevents\\.[0-9]{10}\\..*"));
  EXPECT_EQ(name.substr(name.size() - std::strlen(host)), host);
  // Visible at once, before any summary.
  auto events = ReadEvents((*w)->path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.5e9);
  EXPECT_FALSE(events[0].has_summary);
}

TEST(FileWriterTest, ScalarHistogramImageAndTextReadBackAsWritten) {
  testing::TempDir dir;
  auto w = FileWriter::Create(dir.path(), {.filename_suffix = ".test"});
  ASSERT_TRUE(w.ok());
  EXPECT_THAT((*w)->path(), ::testing::EndsWith(".test"));

  std::vector<uint8_t> pixels(4 * 3 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  auto png = EncodePng(pixels, 4, 3, 3);
  ASSERT_TRUE(png.ok());

  for (int step = 0; step < 3; ++step) {
    SummaryBuilder b;
    b.AddScalar("loss", 1.0f / (step + 1));
    ASSERT_TRUE(b.AddHistogram("w", std::vector<double>{0.5, -0.25, 3.0}).ok());
    b.AddImage("input/image/0", 4, 3, 3, *png);
    std::vector<std::string_view> text = {"hello", "w\xc3\xb6rld"};
    b.AddText("notes", text, TensorShape{2});
    ASSERT_TRUE((*w)->AddSummary(b.bytes(), step, 1234.5 + step).ok());
  }
  ASSERT_TRUE((*w)->Flush().ok());
  auto events = ReadEvents((*w)->path());
  ASSERT_EQ(events.size(), 4u);
  for (int step = 0; step < 3; ++step) {
    const auto& e = events[step + 1];
    EXPECT_EQ(e.step, step);
    EXPECT_EQ(e.wall_time, 1234.5 + step);
    ASSERT_EQ(e.values.size(), 4u);
    EXPECT_EQ(e.values[0].tag, "loss");
    EXPECT_EQ(e.values[0].simple_value, 1.0f / (step + 1));
    EXPECT_EQ(e.values[1].tag, "w");
    ASSERT_TRUE(e.values[1].histo.has_value());
    EXPECT_EQ(e.values[1].histo->num, 3);
    EXPECT_EQ(e.values[1].histo->min, -0.25);
    EXPECT_EQ(e.values[1].histo->max, 3.0);
    EXPECT_EQ(e.values[1].histo->sum, 3.25);
    double total = 0;
    for (double c : e.values[1].histo->bucket) total += c;
    EXPECT_EQ(total, 3);
    ASSERT_TRUE(e.values[2].image.has_value());
    EXPECT_EQ(e.values[2].tag, "input/image/0");
    EXPECT_EQ(e.values[2].image->height, 4);
    EXPECT_EQ(e.values[2].image->width, 3);
    EXPECT_EQ(e.values[2].image->colorspace, 3);
    testing::DecodedPng d;
    ASSERT_EQ(testing::DecodePng(e.values[2].image->encoded, &d), "");
    EXPECT_EQ(d.pixels, pixels);
    ASSERT_TRUE(e.values[3].tensor.has_value());
    EXPECT_EQ(e.values[3].plugin_name, "text");
    EXPECT_EQ(e.values[3].tensor->dtype, 7);  // DT_STRING
    EXPECT_THAT(e.values[3].tensor->dims, ElementsAre(2));
    EXPECT_THAT(e.values[3].tensor->string_val, ElementsAre("hello", "w\xc3\xb6rld"));
  }
}

TEST(FileWriterTest, MergedSummariesKeepEveryValueInOrder) {
  SummaryBuilder a, b, merged;
  a.AddScalar("x", 1);
  b.AddScalar("y", 2).AddScalar("z", 3);
  merged.Merge(a.bytes()).Merge(b.bytes());
  auto tags = SummaryTags(merged.bytes());
  ASSERT_TRUE(tags.ok());
  EXPECT_THAT(*tags, ElementsAre("x", "y", "z"));
  EXPECT_EQ(SummaryTags("\xff\xff").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FileWriterTest, AddAfterCloseIsFailedPreconditionAndCloseIsIdempotent) {
  testing::TempDir dir;
  auto w = FileWriter::Create(dir.path());
  ASSERT_TRUE(w.ok());
  SummaryBuilder b;
  b.AddScalar("a", 1);
  ASSERT_TRUE((*w)->AddSummary(b.bytes(), 1).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->AddSummary(b.bytes(), 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadEvents((*w)->path()).size(), 2u);
}

TEST(FileWriterTest, ConcurrentWritersNeverInterleaveRecords) {
  testing::TempDir dir;
  auto w = FileWriter::Create(dir.path());
  ASSERT_TRUE(w.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        SummaryBuilder b;
        b.AddScalar("t" + std::to_string(t), static_cast<float>(i));
        ASSERT_TRUE((*w)->AddSummary(b.bytes(), i).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*w)->Close().ok());
  auto events = ReadEvents((*w)->path());
  ASSERT_EQ(events.size(), 801u);
  std::map<std::string, int> next;
  for (size_t i = 1; i < events.size(); ++i) {
    ASSERT_EQ(events[i].values.size(), 1u);
    int& n = next[events[i].values[0].tag];
    EXPECT_EQ(events[i].step, n);  // each thread's events stay in its order
    EXPECT_EQ(*events[i].values[0].simple_value, static_cast<float>(n));
    ++n;
  }
}

TEST(FileWriterTest, UnwritableLogdirIsAnError) {
  testing::TempDir dir;
  const std::string file = dir.Join("a_file");
  { std::ofstream(file) << "x"; }
  EXPECT_FALSE(FileWriter::Create(file + "/sub").ok());
}

}  // namespace
}  // namespace sluice
