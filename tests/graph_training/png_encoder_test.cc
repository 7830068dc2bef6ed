#include "graph/png_encoder.h"

#include <vector>

#include "gtest/gtest.h"
#include "png_decode.h"

namespace sluice {
namespace {

std::vector<uint8_t> Pattern(int h, int w, int c) {
  std::vector<uint8_t> p(static_cast<size_t>(h) * w * c);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>((i * 37 + i / 7) & 0xff);
  return p;
}

TEST(PngEncoderTest, GrayRgbAndRgbaDecodeToTheSamePixels) {
  for (int channels : {1, 3, 4}) {
    for (auto [h, w] : {std::pair{1, 1}, std::pair{28, 28}, std::pair{5, 17}}) {
      auto pixels = Pattern(h, w, channels);
      auto png = EncodePng(pixels, h, w, channels);
      ASSERT_TRUE(png.ok()) << png.status();
      testing::DecodedPng d;
      ASSERT_EQ(testing::DecodePng(*png, &d), "") << channels << " " << h << "x" << w;
      EXPECT_EQ(d.height, h);
      EXPECT_EQ(d.width, w);
      EXPECT_EQ(d.channels, channels);
      EXPECT_EQ(d.pixels, pixels);
    }
  }
}

TEST(PngEncoderTest, EveryCompressionLevelDecodes) {
  auto pixels = Pattern(8, 8, 3);
  for (int level = -1; level <= 9; ++level) {
    auto png = EncodePng(pixels, 8, 8, 3, level);
    ASSERT_TRUE(png.ok());
    testing::DecodedPng d;
    ASSERT_EQ(testing::DecodePng(*png, &d), "");
    EXPECT_EQ(d.pixels, pixels);
  }
}

TEST(PngEncoderTest, BadArgumentsAreInvalidArgument) {
  std::vector<uint8_t> px(12);
  EXPECT_EQ(EncodePng(px, 2, 2, 2).status().code(), absl::StatusCode::kInvalidArgument);  // channels
  EXPECT_EQ(EncodePng(px, 0, 2, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePng(px, 2, -1, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePng(px, 2, 3, 1).status().code(), absl::StatusCode::kInvalidArgument);  // size
  EXPECT_EQ(EncodePng(px, 2, 2, 3, 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EncodePng(px, 2, 2, 3).ok());
}

}  // namespace
}  // namespace sluice
