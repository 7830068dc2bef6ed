#include "readers/example.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/example_builder.h"
#include "readers/protobuf_wire.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using internal::AppendLengthDelimited;
using internal::AppendTag;
using internal::AppendVarint64;

// Hand-made wire bytes for the traits a builder would never produce.
std::string Ld(uint32_t field, std::string_view body) {
  std::string s;
  AppendLengthDelimited(&s, field, body);
  return s;
}
std::string Varint(uint32_t field, uint64_t v) {
  std::string s;
  AppendTag(&s, field, internal::kWireVarint);
  AppendVarint64(&s, v);
  return s;
}
std::string Fixed32(uint32_t field, float f) {
  std::string s;
  AppendTag(&s, field, internal::kWireFixed32);
  s.append(reinterpret_cast<const char*>(&f), 4);
  return s;
}
std::string Entry(std::string_view key, std::string_view feature) {
  return Ld(1, Ld(1, key) + Ld(2, feature));
}
std::string ExampleOf(std::string_view entries) { return Ld(1, entries); }

TEST(ExampleViewTest, ParsesBuilderOutputOfEveryKind) {
  ExampleBuilder b;
  b.AddBytes("image", {"abc", ""});
  b.AddFloats("weights", {1.5f, -2.0f});
  b.AddInt64s("ids", {0, 1, int64_t{1} << 40, -1, INT64_MIN, INT64_MAX});
  std::string bytes = b.Serialize();
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  ASSERT_EQ(ex.entries().size(), 3u);
  const FeatureView* image = ex.Find("image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->kind(), FeatureKind::kBytesList);
  EXPECT_THAT(image->bytes(), ElementsAre("abc", ""));
  EXPECT_THAT(ex.Find("weights")->floats(), ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(ex.Find("ids")->int64s(),
              ElementsAre(0, 1, int64_t{1} << 40, -1, INT64_MIN, INT64_MAX));
  EXPECT_EQ(ex.Find("missing"), nullptr);
}

TEST(ExampleViewTest, BytesValuesAreViewsIntoTheRecord) {
  ExampleBuilder b;
  b.AddBytes("text", {"\xe2\x96\x81hello"});  // U+2581, as in the lingvo file
  std::string bytes = b.Serialize();
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  std::string_view v = ex.Find("text")->bytes()[0];
  EXPECT_EQ(v, "\xe2\x96\x81hello");
  EXPECT_GE(v.data(), bytes.data());
  EXPECT_LE(v.data() + v.size(), bytes.data() + bytes.size());
}

TEST(ExampleViewTest, EmptyFeatureHasKindNoneAndNoValues) {
  ExampleBuilder b;
  b.AddEmpty("cell");
  ExampleView ex;
  std::string bytes = b.Serialize();
  ASSERT_TRUE(ex.Parse(bytes).ok());
  ASSERT_NE(ex.Find("cell"), nullptr);
  EXPECT_EQ(ex.Find("cell")->kind(), FeatureKind::kNone);
  EXPECT_EQ(ex.Find("cell")->size(), 0);
}

TEST(ExampleViewTest, EmptyListIsPresentWithZeroValues) {
  ExampleBuilder b;
  b.AddFloats("f", absl::Span<const float>());
  std::string bytes = b.Serialize();
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_EQ(ex.Find("f")->kind(), FeatureKind::kFloatList);
  EXPECT_EQ(ex.Find("f")->size(), 0);
}

TEST(ExampleViewTest, AcceptsPackedAndUnpackedMixedInOneList) {
  std::string packed_ints;
  AppendVarint64(&packed_ints, 7);
  AppendVarint64(&packed_ints, static_cast<uint64_t>(-3));
  std::string int_list = Varint(1, 5) + Ld(1, packed_ints) + Varint(1, 1ull << 35);
  float two[2] = {2.5f, 3.5f};
  std::string float_list =
      Fixed32(1, 1.0f) + Ld(1, std::string(reinterpret_cast<char*>(two), 8)) + Fixed32(1, 4.0f);
  std::string bytes =
      ExampleOf(Entry("i", Ld(3, int_list)) + Entry("f", Ld(2, float_list)));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok()) << ex.Parse(bytes);
  EXPECT_THAT(ex.Find("i")->int64s(), ElementsAre(5, 7, -3, int64_t{1} << 35));
  EXPECT_THAT(ex.Find("f")->floats(), ElementsAre(1.0f, 2.5f, 3.5f, 4.0f));
}

TEST(ExampleViewTest, RepeatedKeyLastEntryWins) {
  ExampleBuilder b;
  b.AddInt64s("label", {1});
  b.AddFloats("x", {0.5f});
  b.AddBytes("label", {"second"});
  std::string bytes = b.Serialize();
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_EQ(ex.entries().size(), 3u);
  EXPECT_EQ(ex.Find("label")->kind(), FeatureKind::kBytesList);
  EXPECT_THAT(ex.Find("label")->bytes(), ElementsAre("second"));
  std::vector<FeatureEntry> unique = ex.UniqueEntries();
  ASSERT_EQ(unique.size(), 2u);
  EXPECT_EQ(unique[0].key, "x");
  EXPECT_EQ(unique[1].key, "label");
}

TEST(ExampleViewTest, SkipsUnknownFieldsAtEveryLevel) {
  std::string group;  // field 9 as a group holding a varint
  AppendTag(&group, 9, internal::kWireStartGroup);
  group += Varint(1, 3);
  AppendTag(&group, 9, internal::kWireEndGroup);
  std::string list = Varint(7, 1) + Varint(1, 42) + group + Fixed32(4, 0.0f);
  std::string feature = Ld(9, "junk") + Ld(3, list) + Varint(5, 1);
  std::string entry = Varint(3, 99) + Ld(1, "k") + Ld(2, feature) + group;
  std::string features = Ld(1, entry) + Varint(2, 1) + Ld(7, "x");
  std::string bytes = Varint(4, 100) + Ld(1, features) + group + Ld(15, "tail");
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok()) << ex.Parse(bytes);
  EXPECT_THAT(ex.Find("k")->int64s(), ElementsAre(42));
}

TEST(ExampleViewTest, KnownFieldWithOtherWireTypeIsSkippedAsUnknown) {
  // float_list given as a varint is an unknown field to protobuf.
  std::string feature = Varint(2, 7) + Ld(3, Varint(1, 8));
  std::string bytes = ExampleOf(Entry("k", feature));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_EQ(ex.Find("k")->kind(), FeatureKind::kInt64List);
  EXPECT_THAT(ex.Find("k")->int64s(), ElementsAre(8));
}

TEST(ExampleViewTest, OneofSwitchKeepsOnlyTheLastKind) {
  std::string feature = Ld(2, Fixed32(1, 1.0f)) + Ld(3, Varint(1, 8)) + Ld(3, Varint(1, 9));
  std::string bytes = ExampleOf(Entry("k", feature));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_EQ(ex.Find("k")->kind(), FeatureKind::kInt64List);
  EXPECT_THAT(ex.Find("k")->int64s(), ElementsAre(8, 9));  // same kind merges
}

TEST(ExampleViewTest, TwoValueFieldsInOneEntryMerge) {
  std::string entry = Ld(1, "k") + Ld(2, Ld(3, Varint(1, 1))) + Ld(2, Ld(3, Varint(1, 2))) +
                      Ld(1, "key");  // a later key replaces the earlier one
  std::string bytes = ExampleOf(Ld(1, entry));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  ASSERT_NE(ex.Find("key"), nullptr);
  EXPECT_THAT(ex.Find("key")->int64s(), ElementsAre(1, 2));
  std::string switched = Ld(1, "k") + Ld(2, Ld(3, Varint(1, 1))) + Ld(2, Ld(1, Ld(1, "b")));
  std::string bytes2 = ExampleOf(Ld(1, switched));
  ASSERT_TRUE(ex.Parse(bytes2).ok());
  EXPECT_THAT(ex.Find("k")->bytes(), ElementsAre("b"));
}

TEST(ExampleViewTest, TwoFeaturesFieldsConcatenateTheirMaps) {
  std::string bytes = ExampleOf(Entry("a", Ld(3, Varint(1, 1)))) +
                      ExampleOf(Entry("b", Ld(3, Varint(1, 2))));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  EXPECT_THAT(ex.Find("a")->int64s(), ElementsAre(1));
  EXPECT_THAT(ex.Find("b")->int64s(), ElementsAre(2));
}

TEST(ExampleViewTest, EntryWithoutKeyHasEmptyKey) {
  std::string bytes = ExampleOf(Ld(1, Ld(2, Ld(3, Varint(1, 4)))));
  ExampleView ex;
  ASSERT_TRUE(ex.Parse(bytes).ok());
  ASSERT_NE(ex.Find(""), nullptr);
  EXPECT_THAT(ex.Find("")->int64s(), ElementsAre(4));
}

TEST(ExampleViewTest, EmptyRecordIsAnEmptyExample) {
  ExampleView ex;
  ASSERT_TRUE(ex.Parse("").ok());
  EXPECT_TRUE(ex.entries().empty());
}

TEST(ExampleViewTest, TruncatedVarintIsInvalidArgument) {
  std::string bytes = ExampleOf(Entry("k", Ld(3, Ld(1, "\x80\x80"))));  // packed, cut
  ExampleView ex;
  absl::Status s = ex.Parse(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("truncated varint"));
  EXPECT_THAT(s.message(), HasSubstr("'k'"));
  EXPECT_TRUE(ex.entries().empty());
}

TEST(ExampleViewTest, MapEntryLongerThanItsMessageIsInvalidArgument) {
  std::string entry = Ld(1, "key") + Ld(2, Ld(3, Varint(1, 1)));
  std::string features;
  AppendTag(&features, 1, internal::kWireLengthDelimited);
  AppendVarint64(&features, entry.size() + 5);  // claims 5 bytes more
  features += entry;
  ExampleView ex;
  absl::Status s = ex.Parse(ExampleOf(features));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("map entry longer than its message"));
  EXPECT_THAT(s.message(), HasSubstr("at byte 2"));
}

TEST(ExampleViewTest, NestedLengthPastTheEndIsInvalidArgument) {
  std::string bytes = "\x0a\x05\x0a\x03\x0a\x7f";  // entry's key claims 127 bytes
  ExampleView ex;
  EXPECT_EQ(ex.Parse(bytes).code(), absl::StatusCode::kInvalidArgument);
  std::string huge = "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f";  // length near 2^63
  EXPECT_EQ(ex.Parse(huge).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExampleViewTest, MalformedWireIsInvalidArgument) {
  ExampleView ex;
  const std::vector<std::string> bad = {
      std::string("\x0e", 1),                                   // wire type 6
      std::string("\x0c", 1),                                   // end-group without start
      std::string("\x00\x00", 2),                               // field 0
      std::string("\x0b\x08\x01", 3),                           // group never closed
      std::string(11, '\x80') + "\x01",                          // varint of 12 bytes
      ExampleOf(Entry("f", Ld(2, Ld(1, "abc")))),               // packed floats of 3 bytes
      ExampleOf(Entry("f", Ld(2, std::string("\x0d\x00", 2)))),  // unpacked float cut
  };
  for (const std::string& b : bad) {
    EXPECT_EQ(ex.Parse(b).code(), absl::StatusCode::kInvalidArgument) << testing::PrintToString(b);
  }
}

TEST(ExampleViewTest, EveryProperPrefixOfAnExampleIsRejected) {
  ExampleBuilder b;
  b.AddBytes("image", {"0123456789"});
  b.AddInt64s("label", {-7});
  b.AddFloats("w", {1, 2, 3}, ListEncoding::kUnpacked);
  std::string bytes = b.Serialize();
  ExampleView ex;
  for (size_t n = 1; n < bytes.size(); ++n) {
    EXPECT_EQ(ex.Parse(std::string_view(bytes.data(), n)).code(),
              absl::StatusCode::kInvalidArgument)
        << n;
  }
  EXPECT_TRUE(ex.Parse(bytes).ok());
}

TEST(SequenceExampleViewTest, ParsesContextAndFeatureListsWithSharedName) {
  SequenceExampleBuilder b;
  b.context().AddInt64s("int_feature", {7}).AddFloats("float_feature", {1, 2, 3, 4});
  b.AddFeatureList("int_feature", {EncodeInt64Feature(std::vector<int64_t>{1, 2}),
                                   EncodeInt64Feature(std::vector<int64_t>{3, 4})});
  b.AddFeatureList("string_feature",
                   {EncodeBytesFeature(std::vector<std::string_view>{"Hello", "World"}),
                    EncodeBytesFeature({})});
  std::string bytes = b.Serialize();
  SequenceExampleView sx;
  ASSERT_TRUE(sx.Parse(bytes).ok());
  EXPECT_THAT(sx.FindContext("int_feature")->int64s(), ElementsAre(7));
  const FeatureListView* ints = sx.FindFeatureList("int_feature");
  ASSERT_NE(ints, nullptr);
  ASSERT_EQ(ints->size(), 2u);
  EXPECT_THAT((*ints)[1].int64s(), ElementsAre(3, 4));
  const FeatureListView* strs = sx.FindFeatureList("string_feature");
  ASSERT_EQ(strs->size(), 2u);
  EXPECT_THAT((*strs)[0].bytes(), ElementsAre("Hello", "World"));
  EXPECT_EQ((*strs)[1].kind(), FeatureKind::kBytesList);
  EXPECT_EQ((*strs)[1].size(), 0);
  EXPECT_EQ(sx.FindFeatureList("float_feature"), nullptr);
}

TEST(SequenceExampleViewTest, RepeatedFeatureListKeyLastWins) {
  SequenceExampleBuilder b;
  b.AddFeatureList("x", {EncodeInt64Feature(std::vector<int64_t>{1})});
  b.AddFeatureList("x", {EncodeInt64Feature(std::vector<int64_t>{2}),
                         EncodeInt64Feature(std::vector<int64_t>{3})});
  std::string bytes = b.Serialize();
  SequenceExampleView sx;
  ASSERT_TRUE(sx.Parse(bytes).ok());
  ASSERT_EQ(sx.FindFeatureList("x")->size(), 2u);
  EXPECT_THAT((*sx.FindFeatureList("x"))[0].int64s(), ElementsAre(2));
}

TEST(SequenceExampleViewTest, TruncatedStepIsInvalidArgumentNamingTheList) {
  SequenceExampleBuilder b;
  b.AddFeatureList("steps", {EncodeInt64Feature(std::vector<int64_t>{1, 300})});
  std::string bytes = b.Serialize();
  bytes.back() = '\x82';  // last varint byte now says "more follows"
  SequenceExampleView sx;
  absl::Status s = sx.Parse(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'steps'"));
}

}  // namespace
}  // namespace sluice
