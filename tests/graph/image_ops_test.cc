// tf.image graph ops: each node gives what the src/image kernel it wraps
// gives, shapes are inferred as TensorFlow's, RandomCrop is deterministic
// for a seed, and a corrupt image is a kernel error, not a crash.
#include "graph/ops/image_ops.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "../support/test_images.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "image/color.h"
#include "image/jpeg.h"
#include "image/png.h"
#include "image/resize.h"

namespace sluice {
namespace {

using ::sluice::test_support::ReadImage;

TEST(ImageOpsTest, DecodeResizeEncodeMatchTheKernels) {
  const std::string jpeg = ReadImage("baseline_420.jpg");
  Graph g;
  Scope root = Scope::Root(&g);
  Output contents = ops::Placeholder(root, DType::kString, TensorShape{});
  Output decoded = ops::DecodeJpeg(root, contents, {.channels = 3});
  Output shape = ops::ExtractJpegShape(root, contents);
  Output resized = ops::Resize(root, decoded, 40, 50);
  Output aa =
      ops::Resize(root, decoded, 20, 30, image::ResizeMethod::kBilinear, true);
  Output nearest =
      ops::Resize(root, decoded, 20, 30, image::ResizeMethod::kNearest);
  Output hsv = ops::RgbToHsv(root, resized);
  Output png = ops::EncodePng(root, decoded);
  Output back = ops::DecodeImage(root, png, 3);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(decoded.shape(), (TensorShape{-1, -1, 3}));
  EXPECT_EQ(resized.shape(), (TensorShape{40, 50, 3}));
  EXPECT_EQ(resized.dtype(), DType::kFloat32);
  EXPECT_EQ(nearest.dtype(), DType::kUInt8);
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{contents, Tensor::StringScalar(jpeg)}},
                    {decoded, shape, resized, aa, nearest, hsv, back}, &out)
                  .ok());
  auto want = image::DecodeJpeg(jpeg, {.channels = 3});
  ASSERT_TRUE(want.ok());
  EXPECT_TRUE(out[0].ContentEquals(*want));
  EXPECT_EQ(out[1].data<int32_t>()[0], 93);
  EXPECT_EQ(out[1].data<int32_t>()[1], 157);
  EXPECT_TRUE(
      out[2].ContentEquals(*image::ResizeBilinear(*want, 40, 50, false, true)));
  EXPECT_TRUE(
      out[3].ContentEquals(*image::Resize(*want, 20, 30, {.antialias = true})));
  EXPECT_TRUE(out[4].ContentEquals(
      *image::ResizeNearestNeighbor(*want, 20, 30, false, true)));
  EXPECT_TRUE(out[5].ContentEquals(*image::RgbToHsv(out[2])));
  EXPECT_TRUE(out[6].ContentEquals(*want));  // PNG is lossless
}

TEST(ImageOpsTest, RandomCropIsDeterministicForASeed) {
  auto run = [](int64_t seed) {
    Graph g;
    Scope root = Scope::Root(&g);
    Tensor img(DType::kUInt8, TensorShape{12, 10, 1});
    for (int i = 0; i < 120; ++i) img.data<uint8_t>()[i] = i;
    Output crop = ops::RandomCrop(
        root, ops::Const(root, img),
        ops::Const(root, Tensor::FromVector<int64_t>({4, 3}, {2})), seed);
    EXPECT_EQ(crop.shape(), (TensorShape{4, 3, 1}));
    Session s(&g);
    std::vector<uint8_t> firsts;
    for (int i = 0; i < 8; ++i) {
      std::vector<Tensor> out;
      EXPECT_TRUE(s.Run({}, {crop}, &out).ok());
      firsts.push_back(out[0].data<uint8_t>()[0]);
    }
    return firsts;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(ImageOpsTest, AdjustmentsAndBadInputsAreKernelErrors) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output contents = ops::Placeholder(root, DType::kString, TensorShape{});
  Output decoded = ops::DecodeImage(root, contents, 3);
  Output contrast = ops::AdjustContrast(root, decoded, 1.5f);
  Output hue = ops::AdjustHue(root, decoded, 0.2f);
  Output sat = ops::AdjustSaturation(root, decoded, 0.5f);
  Output crop = ops::DecodeAndCropJpeg(
      root, contents,
      ops::Const(root, Tensor::FromVector<int32_t>({1, 2, 3, 4}, {4})));
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  const std::string jpeg = ReadImage("baseline_444.jpg");
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{contents, Tensor::StringScalar(jpeg)}},
                    {decoded, contrast, hue, sat, crop}, &out)
                  .ok());
  EXPECT_TRUE(out[1].ContentEquals(*image::AdjustContrast(out[0], 1.5f)));
  EXPECT_TRUE(out[2].ContentEquals(*image::AdjustHue(out[0], 0.2f)));
  EXPECT_TRUE(out[3].ContentEquals(*image::AdjustSaturation(out[0], 0.5f)));
  EXPECT_EQ(out[4].shape(), (TensorShape{3, 4, 3}));
  absl::Status bad =
      s.Run({{contents, Tensor::StringScalar(jpeg.substr(0, jpeg.size() / 2))}},
            {decoded}, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_NE(bad.message().find("JPEG"), std::string::npos) << bad;
}

}  // namespace
}  // namespace sluice
