#include "pipeline/image_label_parser.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/prefetch/pinned_memory.h"
#include "pipeline/synthetic_records.h"
#include "readers/example_builder.h"
#include "readers/parse_example.h"

namespace sluice {
namespace {

Tensor Serialized(const std::vector<std::string>& recs) {
  return Tensor::FromStrings(recs, TensorShape{static_cast<int64_t>(recs.size())});
}

TEST(ImageLabelParserTest, ParsesImagesLabelsAndIdsIntoPooledBuffers) {
  std::vector<std::string> recs;
  for (int64_t id = 0; id < 5; ++id) recs.push_back(SyntheticExample(3, id, 16));
  auto pool = MakeBatchBufferPool(5 * 16, 2);
  auto parser = ImageLabelParser::Create(16, pool);
  ASSERT_TRUE(parser.ok());
  auto out = parser->Parse(Serialized(recs));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0].shape(), (TensorShape{5, 16}));
  EXPECT_EQ(pool->allocated(), 1u);  // the image batch came from the pool
  for (int64_t id = 0; id < 5; ++id) {
    EXPECT_EQ((*out)[1].flat<int64_t>()[id], SyntheticLabel(3, id));
    EXPECT_EQ((*out)[2].flat<int64_t>()[id], id);
    int64_t head;
    std::memcpy(&head, (*out)[0].data<uint8_t>() + id * 16, 8);
    EXPECT_EQ(head, id);
  }
}

TEST(ImageLabelParserTest, WrongImageSizeMissingLabelAndMissingIdDefault) {
  auto parser = ImageLabelParser::Create(16);
  ASSERT_TRUE(parser.ok());
  auto wrong = parser->Parse(Serialized({SyntheticExample(1, 0, 15)}));
  EXPECT_TRUE(absl::IsInvalidArgument(wrong.status()));
  ExampleBuilder no_label;
  no_label.AddBytes("image", {std::string_view("0123456789abcdef")});
  EXPECT_TRUE(absl::IsInvalidArgument(parser->Parse(Serialized({no_label.Serialize()})).status()));
  ExampleBuilder no_id;
  no_id.AddBytes("image", {std::string_view("0123456789abcdef")});
  no_id.AddInt64s("label", {4});
  auto ok = parser->Parse(Serialized({no_id.Serialize()}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[2].flat<int64_t>()[0], -1);
  EXPECT_TRUE(absl::IsInvalidArgument(parser->Parse(Tensor::Scalar<int64_t>(1)).status()));
}


// Wire-format pieces for records no builder writes.
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Len(char tag, std::string_view payload) {
  return std::string(1, tag) + Varint(payload.size()) + std::string(payload);
}
// A Features map entry: key, then a Feature holding `list` under kind tag.
std::string Entry(std::string_view key, char kind, std::string_view list) {
  return Len('\x0a', Len('\x0a', key) + Len('\x12', Len(kind, list)));
}
std::string Example(const std::vector<std::string>& entries) {
  std::string f;
  for (const std::string& e : entries) f += e;
  return Len('\x0a', f);
}
std::string Image(int fill) {
  return Entry("image", '\x0a', Len('\x0a', std::string(16, static_cast<char>(fill))));
}
std::string Packed(std::string_view key, std::vector<int64_t> vals) {
  std::string p;
  for (int64_t v : vals) p += Varint(static_cast<uint64_t>(v));
  return Entry(key, '\x1a', Len('\x0a', p));
}
std::string Unpacked(std::string_view key, int64_t v) {
  return Entry(key, '\x1a', "\x08" + Varint(static_cast<uint64_t>(v)));
}

// What the general ParseExample path gives for the same batch.
absl::StatusOr<TensorTuple> Reference(const std::vector<std::string>& recs, int64_t image_bytes) {
  auto spec = ParseSpec::Create({{"image", DType::kString, TensorShape{}, std::nullopt},
                                 {"label", DType::kInt64, TensorShape{}, std::nullopt},
                                 {"id", DType::kInt64, TensorShape{}, Tensor::Scalar<int64_t>(-1)}});
  if (!spec.ok()) return spec.status();
  std::vector<std::string_view> views(recs.begin(), recs.end());
  ParseResult r;
  SLUICE_RETURN_IF_ERROR(ParseExample(views, *spec, &r));
  const int64_t k = static_cast<int64_t>(recs.size());
  Tensor images(DType::kUInt8, TensorShape{k, image_bytes});
  for (int64_t i = 0; i < k; ++i) {
    std::string_view v = r.dense[0].string(i);
    if (static_cast<int64_t>(v.size()) != image_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("record ", i, ": image has ", v.size(),
                                                     " bytes, want ", image_bytes));
    }
    std::memcpy(images.data<uint8_t>() + i * image_bytes, v.data(), v.size());
  }
  return TensorTuple{std::move(images), std::move(r.dense[1]), std::move(r.dense[2])};
}

void ExpectSameAsReference(const std::vector<std::string>& recs) {
  auto parser = ImageLabelParser::Create(16);
  ASSERT_TRUE(parser.ok());
  auto got = parser->Parse(Serialized(recs));
  auto want = Reference(recs, 16);
  ASSERT_EQ(got.ok(), want.ok()) << got.status() << " vs " << want.status();
  if (!want.ok()) {
    EXPECT_EQ(got.status(), want.status());
    return;
  }
  ASSERT_EQ(got->size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    ASSERT_EQ((*got)[c].dtype(), (*want)[c].dtype()) << c;
    ASSERT_EQ((*got)[c].shape(), (*want)[c].shape()) << c;
    EXPECT_EQ(0, std::memcmp((*got)[c].raw_data(), (*want)[c].raw_data(),
                             (*want)[c].ByteSize()))
        << "component " << c;
  }
}

TEST(ImageLabelParserTest, EveryEncodingParsesAsParseExampleDoes) {
  const std::string canonical = Example({Image(1), Packed("label", {3}), Packed("id", {7})});
  const std::vector<std::string> variants = {
      canonical,
      SyntheticExample(5, 9, 16),
      Example({Image(2), Unpacked("label", 4), Unpacked("id", -5)}),        // unpacked, negative
      Example({Packed("id", {1LL << 40}), Packed("label", {9}), Image(3)}),  // other order
      Example({Image(4), Packed("label", {1})}),                             // no id: -1
      Example({Image(5), Packed("label", {1}), Packed("label", {2})}),       // last wins
      Example({Image(6), Packed("label", {1}), Packed("other", {1, 2})}),    // another key
      Example({Image(7), Packed("label", {1}), Entry("id", '\x1a', "")}),    // empty list
      Len('\x0a', Image(8) + Packed("label", {1})) + Len('\x0a', Packed("id", {6})),  // merged
      Example({Image(9), Packed("label", {1, 2})}),                          // two labels
      Example({Image(10), Packed("label", {})}),                             // no label value
      Example({Entry("image", '\x0a', Len('\x0a', "short")), Packed("label", {1})}),
      Example({Entry("image", '\x1a', Len('\x0a', "\x01")), Packed("label", {1})}),  // kind
      Example({Image(11)}),                                                  // label missing
      canonical.substr(0, canonical.size() - 3),                             // truncated
      std::string(),                                                         // empty Example
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSameAsReference({variants[i]});
    ExpectSameAsReference({canonical, variants[i], canonical});  // within a batch
  }
  std::vector<std::string> all_good;
  for (int i = 0; i < 128; ++i) all_good.push_back(SyntheticExample(2, i, 16));
  ExpectSameAsReference(all_good);
}

}  // namespace
}  // namespace sluice
