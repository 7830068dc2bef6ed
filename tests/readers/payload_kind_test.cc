#include "readers/payload_kind.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/example_builder.h"
#include "readers/protobuf_wire.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;

std::string EventBytes() {
  // Event{wall_time = 1 (fixed64), file_version = "brain.Event:2"}
  std::string e;
  internal::AppendTag(&e, 1, internal::kWireFixed64);
  double t = 1598485465.0;
  e.append(reinterpret_cast<const char*>(&t), 8);
  internal::AppendLengthDelimited(&e, 3, "brain.Event:2");
  return e;
}

TEST(PayloadKindTest, ClassifiesLikeTheReferenceTool) {
  ExampleBuilder ex;
  ex.AddInt64s("x", {1});
  SequenceExampleBuilder sx;
  sx.AddFeatureList("x", {EncodeInt64Feature(std::vector<int64_t>{1})});
  EXPECT_EQ(ClassifyPayload(ex.Serialize()), PayloadKind::kExample);
  EXPECT_EQ(ClassifyPayload(sx.Serialize()), PayloadKind::kSequenceExample);
  EXPECT_EQ(ClassifyPayload(EventBytes()), PayloadKind::kEvent);
  EXPECT_EQ(ClassifyPayload("foo"), PayloadKind::kRaw);
  EXPECT_EQ(ClassifyPayload(""), PayloadKind::kRaw);
  EXPECT_EQ(ClassifyPayload("hello world"), PayloadKind::kRaw);
}

TEST(PayloadKindTest, GroupsAndBadWireAreRaw) {
  EXPECT_EQ(ClassifyPayload(std::string("\x0b\x0c", 2)), PayloadKind::kRaw);  // a group
  EXPECT_EQ(ClassifyPayload(std::string("\x0a\x05" "ab", 4)), PayloadKind::kRaw);  // cut
  EXPECT_EQ(ClassifyPayload(std::string("\x08\x01", 2)), PayloadKind::kRaw);  // varint field 1
}

TEST(PayloadKindTest, OnlyTheFirstRecordDecides) {
  ExampleBuilder ex;
  ex.AddInt64s("x", {1});
  std::string e = ex.Serialize();
  std::vector<std::string_view> records = {"raw", e};
  EXPECT_EQ(ClassifyRecords(records), PayloadKind::kRaw);
  EXPECT_EQ(ClassifyRecords({}), PayloadKind::kRaw);
  EXPECT_EQ(PayloadKindName(PayloadKind::kSequenceExample), "sequence_example");
}

TEST(ExampleSchemaSummaryTest, CountsKindsPresenceAndValueCounts) {
  ExampleSchemaSummary s;
  ExampleBuilder a;
  a.AddFloats("x", {1, 2}).AddEmpty("y").AddBytes("z", {"a"});
  ExampleBuilder b;
  b.AddFloats("x", {}).AddInt64s("y", {1, 2, 3}).AddBytes("z", {"q"}).AddBytes("z", {"r", "s"});
  s.Add(a.Serialize());
  s.Add(b.Serialize());
  s.Add("\x0a\x7f");  // malformed: counted, not summarised
  EXPECT_EQ(s.records(), 3);
  EXPECT_EQ(s.decode_errors(), 1);
  const auto& f = s.features();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_THAT(f.at("x").kinds, ElementsAre("float_list"));
  EXPECT_EQ(f.at("x").count_min, 0);
  EXPECT_EQ(f.at("x").count_max, 2);
  EXPECT_THAT(f.at("y").kinds, ElementsAre("int64_list", "none(empty Feature)"));
  EXPECT_EQ(f.at("y").present_in_records, 2);
  EXPECT_EQ(f.at("y").count_min, 0);
  EXPECT_EQ(f.at("y").count_max, 3);
  // The repeated key counts once per record, with its last value.
  EXPECT_EQ(f.at("z").present_in_records, 2);
  EXPECT_EQ(f.at("z").count_max, 2);
}

TEST(SequenceExampleSchemaSummaryTest, SummarisesContextAndLists) {
  SequenceExampleSchemaSummary s;
  SequenceExampleBuilder b;
  b.context().AddFloats("f", {1}).AddEmpty("e");
  b.AddFeatureList("s", {EncodeBytesFeature(std::vector<std::string_view>{"a"}),
                         EncodeBytesFeature({})});
  b.AddFeatureList("n", {});
  s.Add(b.Serialize());
  EXPECT_THAT(s.context().at("f"), ElementsAre("float_list"));
  EXPECT_THAT(s.context().at("e"), ElementsAre("none"));
  EXPECT_THAT(s.feature_lists().at("s").kinds, ElementsAre("bytes_list"));
  EXPECT_EQ(s.feature_lists().at("s").num_steps_max, 2);
  EXPECT_THAT(s.feature_lists().at("n").kinds, ElementsAre("none"));
}

}  // namespace
}  // namespace sluice
