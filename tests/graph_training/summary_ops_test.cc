#include "graph/summary_ops.h"

#include "event_decoder.h"
#include "gmock/gmock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "png_decode.h"
#include "readers/record_reader.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<testing::DecodedValue> Decode(const Tensor& t) {
  std::vector<testing::DecodedValue> v;
  EXPECT_TRUE(testing::DecodeSummary(t.string(0), &v));
  return v;
}

// The seed's control-dependency program: x += 1 before each x*y, both
// logged as scalars for 4 steps, read back from the event file.
TEST(SummaryOpsTest, SeedProgramWritesScalarsPerStep) {
  testing::TempDir dir;
  Graph g;
  Scope root = Scope::Root(&g);
  Scope s = root.NewSubScope("y_mult_x");
  Variable x = GetVariable(s, "input_x", {1}, {.initializer = ConstantInitializer(9.0)});
  Output y = ops::Placeholder(s.WithOpName("y"), DType::kFloat32);
  Output op_x = ops::Assign(s, x, ops::Add(s, x, 1.0f));
  Output op_y = ops::Mul(s.WithControlDependencies(op_x).WithOpName("x_y"), x, y);
  summary::Scalar(s, "x", ops::Index(s, x, 0));
  summary::Scalar(s, "y", ops::Index(s, op_y, 0));
  ASSERT_TRUE(root.ok()) << root.status();
  Output merged = summary::MergeAll(root);
  ASSERT_TRUE(merged.valid());
  auto writer = FileWriter::Create(dir.Join("summary"));
  ASSERT_TRUE(writer.ok());
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<float> results;
  for (int i = 0; i < 4; ++i) {
    std::vector<Tensor> out;
    ASSERT_TRUE(sess.Run({{y, Tensor::Scalar<float>(static_cast<float>(i))}}, {op_y, merged}, &out).ok());
    results.push_back(out[0].flat<float>()[0]);
    ASSERT_TRUE(AddSummaryTensor(writer->get(), out[1], i).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_THAT(results, ElementsAre(0.f, 11.f, 24.f, 39.f));  // (9 + i + 1) * i

  auto reader = RecordReader::Open((*writer)->path(), {});
  ASSERT_TRUE(reader.ok());
  std::vector<testing::DecodedEvent> events;
  while (true) {
    auto rec = (*reader)->Next();
    if (!rec.ok()) break;
    testing::DecodedEvent e;
    ASSERT_TRUE(testing::DecodeEvent(rec->data, &e));
    events.push_back(e);
  }
  ASSERT_EQ(events.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    const auto& e = events[i + 1];
    EXPECT_EQ(e.step, i);
    ASSERT_EQ(e.values.size(), 2u);
    EXPECT_EQ(e.values[0].tag, "y_mult_x/x");
    // The placeholder took "y_mult_x/y", so the summary scope, like
    // TensorFlow's, is made unique.
    EXPECT_EQ(e.values[1].tag, "y_mult_x/y_1");
    EXPECT_EQ(*e.values[1].simple_value, results[i]);
    // x is read in the same run as the assignment; it reports a value
    // of that run (before or after the increment), never a stale one.
    EXPECT_GE(*e.values[0].simple_value, 9.f + i);
    EXPECT_LE(*e.values[0].simple_value, 10.f + i);
  }
}

TEST(SummaryOpsTest, TagsAreTheUniqueSummaryScopes) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope layer = root.NewSubScope("layer1");
  Output a = summary::Scalar(layer, "mean", 1.0f);
  Output b = summary::Scalar(layer, "mean", 2.0f);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(a.node()->name(), "layer1/mean");
  EXPECT_EQ(b.node()->name(), "layer1/mean_1");
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {summary::MergeAll(root)}, &out).ok());
  auto v = Decode(out[0]);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].tag, "layer1/mean");
  EXPECT_EQ(v[1].tag, "layer1/mean_1");
  EXPECT_EQ(*v[1].simple_value, 2.f);
}

TEST(SummaryOpsTest, HistogramImageAndTextNodes) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output hist = summary::Histogram(root, "w", Tensor::FromVector<float>({1, 2, 2, -3}, {2, 2}));
  // Two 2x2 gray images: non-negative (scaled to 255) and mixed-sign
  // (scaled around 128).
  Output images = ops::Const(root, Tensor::FromVector<float>({0, 0.5, 1, 2, -1, 0, 0.5, 1}, {2, 2, 2, 1}));
  Output img = summary::Image(root, "input", images, 3);
  Output one = summary::Image(root, "first", images, 1);
  Output text = summary::Text(root, "note", Tensor::StringScalar("hello **world**"));
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {hist, img, one, text}, &out).ok());
  auto h = Decode(out[0]);
  ASSERT_TRUE(h[0].histo.has_value());
  EXPECT_EQ(h[0].histo->num, 4);
  EXPECT_EQ(h[0].histo->min, -3);
  EXPECT_EQ(h[0].histo->sum, 2);

  auto im = Decode(out[1]);
  ASSERT_EQ(im.size(), 2u);
  EXPECT_EQ(im[0].tag, "input/image/0");
  EXPECT_EQ(im[1].tag, "input/image/1");
  testing::DecodedPng p0, p1;
  ASSERT_EQ(testing::DecodePng(im[0].image->encoded, &p0), "");
  ASSERT_EQ(testing::DecodePng(im[1].image->encoded, &p1), "");
  EXPECT_THAT(p0.pixels, ElementsAre(0, 63, 127, 255));    // x * 255/2, truncated
  EXPECT_THAT(p1.pixels, ElementsAre(1, 128, 191, 255));   // x * 127 + 128
  EXPECT_EQ(im[0].image->colorspace, 1);
  auto first = Decode(out[2]);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].tag, "first/image");

  auto t = Decode(out[3]);
  EXPECT_EQ(t[0].plugin_name, "text");
  EXPECT_THAT(t[0].tensor->string_val, ElementsAre("hello **world**"));
}

TEST(SummaryOpsTest, ErrorsAreReported) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {2});
  Output hist = summary::Histogram(root, "h", x);
  Output a = summary::Scalar(root.WithOpName("ignored"), "dup", 1.0f);
  Output merged = summary::Merge(root, {a, a});
  ASSERT_TRUE(root.ok());
  Session sess(&g);
  std::vector<Tensor> out;
  absl::Status s = sess.Run({{x, Tensor::FromVector<float>({1, NAN}, {2})}}, {hist}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("Nan in summary histogram for: h"));
  s = sess.Run({}, {merged}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("Duplicate tag dup found in summary inputs"));

  Graph empty;
  EXPECT_FALSE(summary::MergeAll(Scope::Root(&empty)).valid());
}

}  // namespace
}  // namespace sluice
