#include "pipeline/image_label_parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/prefetch/pinned_memory.h"
#include "pipeline/synthetic_records.h"
#include "readers/example_builder.h"

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

}  // namespace
}  // namespace sluice
