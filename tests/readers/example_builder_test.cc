#include "readers/example_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/example.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;

TEST(ExampleBuilderTest, EncodesKnownBytes) {
  // Known answer, as protobuf writes it: Example{features{feature{"a":
  // int64_list{value: [1, 300]}}}}.
  ExampleBuilder b;
  b.AddInt64s("a", {1, 300});
  EXPECT_EQ(b.Serialize(), std::string("\x0a\x0e\x0a\x0c\x0a\x01" "a" "\x12\x07\x1a\x05\x0a\x03\x01\xac\x02",
                                       16));
}

TEST(ExampleBuilderTest, EmptyExampleIsTheEmptyMessage) {
  EXPECT_EQ(ExampleBuilder().Serialize(), "");
}

TEST(ExampleBuilderTest, NegativeInt64IsATenByteVarint) {
  std::string f = EncodeInt64Feature(std::vector<int64_t>{-1});
  // Feature{int64_list{ packed [ ff ff ff ff ff ff ff ff ff 01 ] }}
  EXPECT_EQ(f, std::string("\x1a\x0c\x0a\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 14));
}

TEST(ExampleBuilderTest, UnpackedFloatsUseFixed32PerValue) {
  std::string f = EncodeFloatFeature(std::vector<float>{1.0f, 2.0f}, ListEncoding::kUnpacked);
  EXPECT_EQ(f, std::string("\x12\x0a\x0d\x00\x00\x80\x3f\x0d\x00\x00\x00\x40", 12));
}

TEST(ExampleBuilderTest, EmptyListsAndEmptyFeatureDiffer) {
  EXPECT_EQ(EncodeFloatFeature({}), std::string("\x12\x00", 2));   // float_list set, no values
  EXPECT_EQ(EncodeBytesFeature({}), std::string("\x0a\x00", 2));
  EXPECT_EQ(EncodeEmptyFeature(), "");                              // no oneof at all
}

TEST(ExampleBuilderTest, RoundTripsThroughTheParserWithLargeValues) {
  std::string big(100000, 'x');
  ExampleBuilder b;
  b.AddBytes("big", {big, "\xe2\x96\x81"});
  b.AddInt64s("ints", {int64_t{1} << 62, INT64_MIN}, ListEncoding::kUnpacked);
  b.AddFloats("f", {-1.25f});
  std::string bytes = b.Serialize();
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_EQ(ex.Find("big")->bytes()[0].size(), 100000u);
  EXPECT_EQ(ex.Find("big")->bytes()[1], "\xe2\x96\x81");
  EXPECT_THAT(ex.Find("ints")->int64s(), ElementsAre(int64_t{1} << 62, INT64_MIN));
  EXPECT_THAT(ex.Find("f")->floats(), ElementsAre(-1.25f));
}

TEST(ExampleBuilderTest, SerializeToAppends) {
  ExampleBuilder b;
  b.AddInt64s("a", {1});
  std::string out = "prefix";
  b.SerializeTo(&out);
  EXPECT_EQ(out, "prefix" + b.Serialize());
}

TEST(SequenceExampleBuilderTest, RoundTripsContextAndLists) {
  SequenceExampleBuilder b;
  b.context().AddBytes("id", {"seq-1"});
  b.AddFeatureList("tokens", {EncodeInt64Feature(std::vector<int64_t>{5}), EncodeEmptyFeature()});
  std::string bytes = b.Serialize();
  SequenceExampleView sx;
  ASSERT_TRUE(sx.Parse(bytes).ok());
  EXPECT_THAT(sx.FindContext("id")->bytes(), ElementsAre("seq-1"));
  ASSERT_EQ(sx.FindFeatureList("tokens")->size(), 2u);
  EXPECT_EQ((*sx.FindFeatureList("tokens"))[1].kind(), FeatureKind::kNone);
}

}  // namespace
}  // namespace sluice
