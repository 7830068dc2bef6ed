// Parses sluice's event files with libprotobuf and checks every field reads
// back as written: what TensorBoard (which uses the same schema) would see.

#include <cfloat>
#include <string>
#include <vector>

#include "event.pb.h"
#include "gmock/gmock.h"
#include "graph/png_encoder.h"
#include "graph/summary_writer.h"
#include "gtest/gtest.h"
#include "readers/record_reader.h"
#include "../test_tmpdir.h"

namespace sluice {
namespace {

namespace tb = ::sluice::testproto::tb;
using ::testing::ElementsAre;

std::vector<tb::Event> ParseAll(const std::string& path) {
  std::vector<tb::Event> out;
  auto reader = RecordReader::Open(path, {});
  EXPECT_TRUE(reader.ok());
  while (true) {
    auto rec = (*reader)->Next();
    if (!rec.ok()) break;
    tb::Event e;
    EXPECT_TRUE(e.ParseFromArray(rec->data.data(), static_cast<int>(rec->data.size())));
    // No field the schema does not know about.
    EXPECT_EQ(e.GetReflection()->GetUnknownFields(e).field_count(), 0);
    out.push_back(std::move(e));
  }
  return out;
}

TEST(EventProtobufTest, EveryFieldParsesAsWritten) {
  testing::TempDir dir;
  auto w = FileWriter::Create(dir.path());
  ASSERT_TRUE(w.ok());
  std::vector<uint8_t> px(2 * 2 * 4, 200);
  auto png = EncodePng(px, 2, 2, 4);
  ASSERT_TRUE(png.ok());
  SummaryBuilder b;
  b.AddScalar("accuracy", 0.875f);
  ASSERT_TRUE(b.AddHistogram("layer1/weights", std::vector<double>{-1.5, 0.0, 0.0, 2e-12, 7.0}).ok());
  b.AddImage("input/image", 2, 2, 4, *png);
  std::vector<std::string_view> text = {"a", "b", "c", "d", "e", "f"};
  b.AddText("table", text, TensorShape{2, 3});
  ASSERT_TRUE((*w)->AddSummary(b.bytes(), -3, 99.25).ok());  // negative steps encode as int64
  ASSERT_TRUE((*w)->AddSummary(b.bytes(), int64_t{1} << 40, 100.0).ok());
  ASSERT_TRUE((*w)->Close().ok());

  auto events = ParseAll((*w)->path());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[0].what_case(), tb::Event::kFileVersion);
  EXPECT_GT(events[0].wall_time(), 1.5e9);
  EXPECT_EQ(events[1].step(), -3);
  EXPECT_EQ(events[1].wall_time(), 99.25);
  EXPECT_EQ(events[2].step(), int64_t{1} << 40);

  const tb::Summary& s = events[1].summary();
  ASSERT_EQ(s.value_size(), 4);
  EXPECT_EQ(s.value(0).tag(), "accuracy");
  EXPECT_EQ(s.value(0).value_case(), tb::Summary::Value::kSimpleValue);
  EXPECT_EQ(s.value(0).simple_value(), 0.875f);

  const tb::HistogramProto& h = s.value(1).histo();
  EXPECT_EQ(s.value(1).tag(), "layer1/weights");
  EXPECT_EQ(h.min(), -1.5);
  EXPECT_EQ(h.max(), 7.0);
  EXPECT_EQ(h.num(), 5);
  EXPECT_DOUBLE_EQ(h.sum(), 5.5 + 2e-12);
  EXPECT_DOUBLE_EQ(h.sum_squares(), 2.25 + 49.0 + 4e-24);
  ASSERT_EQ(h.bucket_limit_size(), h.bucket_size());
  // Occupied buckets: -1.5 (limit just above it), 0.0 twice (the first
  // positive limit, 1e-12), 2e-12, 7.0; empty runs collapse between them.
  std::vector<double> counts(h.bucket().begin(), h.bucket().end());
  double total = 0;
  for (double c : counts) total += c;
  EXPECT_EQ(total, 5);
  int idx_zero = -1;
  for (int i = 0; i < h.bucket_limit_size(); ++i) {
    if (h.bucket_limit(i) == 1e-12) idx_zero = i;
  }
  ASSERT_GE(idx_zero, 0);
  EXPECT_EQ(h.bucket(idx_zero), 2);
  EXPECT_EQ(h.bucket_limit(h.bucket_limit_size() - 1), DBL_MAX);

  const tb::Summary::Image& img = s.value(2).image();
  EXPECT_EQ(img.height(), 2);
  EXPECT_EQ(img.width(), 2);
  EXPECT_EQ(img.colorspace(), 4);
  EXPECT_EQ(img.encoded_image_string(), *png);

  const tb::Summary::Value& t = s.value(3);
  EXPECT_EQ(t.tag(), "table");
  EXPECT_EQ(t.metadata().plugin_data().plugin_name(), "text");
  EXPECT_EQ(t.tensor().dtype(), tb::DT_STRING);
  ASSERT_EQ(t.tensor().tensor_shape().dim_size(), 2);
  EXPECT_EQ(t.tensor().tensor_shape().dim(0).size(), 2);
  EXPECT_EQ(t.tensor().tensor_shape().dim(1).size(), 3);
  EXPECT_THAT(t.tensor().string_val(), ElementsAre("a", "b", "c", "d", "e", "f"));
}

TEST(EventProtobufTest, ProtobufSerializedSummaryIsReadByTheTagScanner) {
  tb::Summary s;
  s.add_value()->set_tag("one");
  auto* v = s.add_value();
  v->set_tag("two");
  v->set_simple_value(2);
  auto tags = SummaryTags(s.SerializeAsString());
  ASSERT_TRUE(tags.ok());
  EXPECT_THAT(*tags, ElementsAre("one", "two"));
}

}  // namespace
}  // namespace sluice
