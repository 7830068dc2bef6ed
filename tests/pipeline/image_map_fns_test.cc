// Image map functions: decoding in a Dataset Map equals the decoder, the
// fused augmenter equals decode -> pad -> crop -> flip -> convert done
// step by step with the image kernels, and its draws repeat for a seed.
#include "pipeline/image_map_fns.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/test_images.h"
#include "image/color.h"
#include "image/geometry.h"
#include "image/jpeg.h"

namespace sluice {
namespace {

using ::sluice::test_support::ReadImage;

TEST(ImageMapFnsTest, DecodeMapOverADatasetEqualsTheDecoder) {
  const std::string a = ReadImage("baseline_420.jpg"),
                    b = ReadImage("baseline_444.jpg");
  Dataset ds =
      Dataset::FromTensorSlices({Tensor::FromStrings({a, b, a}, {3}),
                                 Tensor::FromVector<int64_t>({1, 2, 3}, {3})})
          .Map(DecodeImageMapFn(0, {.channels = 3}))
          .Batch(3);
  auto it = ds.MakeIterator();
  ASSERT_TRUE(it.ok()) << it.status();
  auto batch = (*it)->GetNext();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ((*batch)[0].shape(), (TensorShape{3, 93, 157, 3}));
  EXPECT_TRUE(
      (*batch)[0].Row(1).ContentEquals(*image::DecodeJpeg(b, {.channels = 3})));
  EXPECT_EQ((*batch)[1].data<int64_t>()[2], 3);
  // A corrupt element is an error naming it.
  auto bad = DecodeImageMapFn(0)({Tensor::FromStrings({a, "garbage"}, {2})});
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("element 1"), std::string::npos)
      << bad.status();
  auto flip =
      ImageTransformMapFn(0, image::FlipLeftRight)({*image::DecodeJpeg(a)});
  ASSERT_TRUE(flip.ok());
  EXPECT_TRUE(
      (*flip)[0].ContentEquals(*image::FlipLeftRight(*image::DecodeJpeg(a))));
}

TEST(ImageAugmenterTest, EqualsTheStepByStepKernels) {
  const std::string a = ReadImage("baseline_420.jpg");
  const Tensor decoded = *image::DecodeJpeg(a, {.channels = 3});
  const Tensor padded =
      *image::PadToBoundingBox(decoded, 4, 4, 93 + 8, 157 + 8);
  auto aug = ImageAugmenter::Create({.channels = 3,
                                     .height = 64,
                                     .width = 80,
                                     .pad = 4,
                                     .random_crop = true,
                                     .random_flip = true,
                                     .seed = 9});
  ASSERT_TRUE(aug.ok()) << aug.status();
  std::vector<std::string_view> batch(40, a);
  auto out = aug->Run(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->shape(), (TensorShape{40, 64, 80, 3}));
  ASSERT_EQ(out->dtype(), DType::kFloat32);
  // Every output is some window of the padded image, maybe mirrored.
  std::set<std::pair<int, int>> windows;
  int flips = 0;
  for (int64_t i = 0; i < 40; ++i) {
    const Tensor got = *image::ConvertImageDtype(out->Row(i), DType::kUInt8);
    bool found = false;
    for (int oy = 0; oy <= 101 - 64 && !found; ++oy) {
      for (int ox = 0; ox <= 165 - 80 && !found; ++ox) {
        const Tensor w = *image::CropToBoundingBox(padded, oy, ox, 64, 80);
        if (got.ContentEquals(w)) {
          found = true;
        } else if (got.ContentEquals(*image::FlipLeftRight(w))) {
          found = true;
          ++flips;
        }
        if (found) windows.insert({oy, ox});
      }
    }
    ASSERT_TRUE(found) << "image " << i;
  }
  EXPECT_GT(windows.size(), 20u);
  EXPECT_GT(flips, 5);
  EXPECT_LT(flips, 35);
  // Same seed, same draws; the centred window without randomness.
  auto again = ImageAugmenter::Create(aug->options());
  EXPECT_TRUE(again->Run(batch)->ContentEquals(*out));
  auto centre = ImageAugmenter::Create({.channels = 3,
                                        .height = 64,
                                        .width = 80,
                                        .random_crop = false,
                                        .dtype = DType::kUInt8});
  auto c = centre->Run({a});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Row(0).ContentEquals(
      *image::CropToBoundingBox(decoded, 14, 38, 64, 80)));
}

TEST(ImageAugmenterTest, UnpaddedWindowsEqualTheKernelsValueForValue) {
  // No padding: every row is converted whole (flipped rows reversed
  // first); each float is exactly ConvertImageDtype's, for 3 channels and
  // for 1 (uint8 too), on window widths that are not multiples of 16.
  const std::string a = ReadImage("baseline_420.jpg");
  for (const int channels : {3, 1}) {
    const Tensor decoded = *image::DecodeJpeg(a, {.channels = channels});
    const int64_t H = decoded.dim(0), W = decoded.dim(1);
    for (const DType dtype : {DType::kFloat32, DType::kUInt8}) {
      auto aug = ImageAugmenter::Create({.channels = channels,
                                         .height = 50,
                                         .width = 37,
                                         .random_crop = true,
                                         .random_flip = true,
                                         .dtype = dtype,
                                         .seed = 3});
      ASSERT_TRUE(aug.ok()) << aug.status();
      std::vector<std::string_view> batch(24, a);
      auto out = aug->Run(batch);
      ASSERT_TRUE(out.ok()) << out.status();
      // Finds each output's window by its bytes, then checks its values.
      const uint8_t* src = decoded.data<uint8_t>();
      auto matches = [&](const uint8_t* got8, int64_t oy, int64_t ox,
                         bool flipped) {
        for (int64_t y = 0; y < 50; ++y) {
          for (int64_t x = 0; x < 37; ++x) {
            const int64_t sx = ox + (flipped ? 36 - x : x);
            if (std::memcmp(got8 + (y * 37 + x) * channels,
                            src + ((oy + y) * W + sx) * channels,
                            channels) != 0) {
              return false;
            }
          }
        }
        return true;
      };
      int flips = 0;
      for (int64_t i = 0; i < 24; ++i) {
        const Tensor got = out->Row(i);
        const Tensor got8 = dtype == DType::kFloat32
                                ? *image::ConvertImageDtype(got, DType::kUInt8)
                                : got;
        bool found = false;
        for (int64_t oy = 0; oy <= H - 50 && !found; ++oy) {
          for (int64_t ox = 0; ox <= W - 37 && !found; ++ox) {
            for (const bool flipped : {false, true}) {
              if (found || !matches(got8.data<uint8_t>(), oy, ox, flipped))
                continue;
              found = true;
              flips += flipped ? 1 : 0;
              Tensor w = *image::CropToBoundingBox(decoded, oy, ox, 50, 37);
              if (flipped) w = *image::FlipLeftRight(w);
              if (dtype == DType::kFloat32)
                w = *image::ConvertImageDtype(w, dtype);
              EXPECT_TRUE(got.ContentEquals(w)) << "image " << i;
            }
          }
        }
        ASSERT_TRUE(found) << "channels " << channels << " image " << i;
      }
      EXPECT_GT(flips, 2);
      EXPECT_LT(flips, 22);
    }
  }
}

TEST(ImageAugmenterTest, FusedJpegCropGivesTheUnfusedBatchBytes) {
  // pad 0: a JPEG's window is decoded alone (DecodeAndCropJpegInto); with
  // the same seed the batch must equal, byte for byte, the one decoding
  // whole images, for every JPEG kind (a PNG rides along unfused), both
  // dtypes, random and centred windows, with flips; and a second fused
  // augmenter with the seed repeats it.
  std::vector<std::string> files = {
      ReadImage("baseline_420.jpg"), ReadImage("baseline_422.jpg"),
      ReadImage("baseline_444.jpg"), ReadImage("progressive_rgb.jpg"),
      ReadImage("gray.jpg"),         ReadImage("palette.png")};
  const std::string cmyk = ReadImage("cmyk.jpg");
  for (const int channels : {3, 1}) {
    std::vector<std::string_view> batch;
    for (int rep = 0; rep < 6; ++rep) {
      for (const std::string& f : files) batch.push_back(f);
      if (channels == 3) batch.push_back(cmyk);
    }
    for (const DType dtype : {DType::kFloat32, DType::kUInt8}) {
      for (const bool random_crop : {true, false}) {
        SCOPED_TRACE(testing::Message() << "channels " << channels << " float "
                                        << (dtype == DType::kFloat32)
                                        << " random " << random_crop);
        ImageAugmentOptions o{.channels = channels,
                              .height = 21,
                              .width = 27,
                              .random_crop = random_crop,
                              .random_flip = true,
                              .dtype = dtype,
                              .seed = 11};
        auto fused = ImageAugmenter::Create(o);
        auto fused_again = ImageAugmenter::Create(o);
        o.fused_jpeg_crop = false;
        auto whole = ImageAugmenter::Create(o);
        ASSERT_TRUE(fused.ok() && fused_again.ok() && whole.ok());
        for (int call = 0; call < 2; ++call) {  // draws advance per call
          auto a = fused->Run(batch);
          auto b = whole->Run(batch);
          auto c = fused_again->Run(batch);
          ASSERT_TRUE(a.ok()) << a.status();
          ASSERT_TRUE(b.ok()) << b.status();
          ASSERT_TRUE(c.ok()) << c.status();
          ASSERT_EQ(a->ByteSize(), b->ByteSize());
          EXPECT_EQ(std::memcmp(a->raw_data(), b->raw_data(), a->ByteSize()),
                    0);
          EXPECT_EQ(std::memcmp(a->raw_data(), c->raw_data(), a->ByteSize()),
                    0);
        }
      }
    }
  }
  // A truncated JPEG fails both ways, naming the image.
  auto fused = ImageAugmenter::Create({.channels = 3, .height = 8, .width = 8});
  const std::string cut = files[0].substr(0, files[0].size() - 30);
  auto r = fused->Run({files[0], cut});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("image 1"), std::string::npos)
      << r.status();
}

TEST(ImageAugmenterTest, ErrorsNameTheImage) {
  auto aug = ImageAugmenter::Create({.channels = 1, .height = 28, .width = 28});
  ASSERT_TRUE(aug.ok());
  const std::string a = ReadImage("gray.jpg");
  auto r = aug->Run({a, a.substr(0, 100)});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("image 1"), std::string::npos)
      << r.status();
  auto big =
      ImageAugmenter::Create({.channels = 1, .height = 500, .width = 28});
  EXPECT_TRUE(absl::IsInvalidArgument(big->Run({a}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ImageAugmenter::Create({.channels = 2, .height = 1, .width = 1})
          .status()));
  auto png = AugmentImagesMapFn(
      0, *ImageAugmenter::Create(
             {.channels = 3, .height = 8, .width = 8, .dtype = DType::kUInt8}))(
      {Tensor::StringScalar(ReadImage("palette.png"))});
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ((*png)[0].shape(), (TensorShape{8, 8, 3}));
}

}  // namespace
}  // namespace sluice
