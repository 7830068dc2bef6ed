// Resizing against torch (an independent implementation of the same
// half-pixel and antialiased kernels) and hand-worked cases; crops, pads,
// flips, rotations and colour functions against TensorFlow's formulas;
// random forms are deterministic for a seed.

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "image/color.h"
#include "image/geometry.h"
#include "image/resize.h"

namespace sluice::image {
namespace {

std::string TestData() {
  const char* d = std::getenv("SLUICE_TESTDATA");
  return d != nullptr ? d : "tests/testdata";
}

// [H, W, C] uint8 whose value at (y, x, c) is (y * 16 + x * 3 + c * 5) % 256.
Tensor Ramp(int64_t h, int64_t w, int64_t c) {
  Tensor t(DType::kUInt8, TensorShape{h, w, c});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k)
        t.data<uint8_t>()[(y * w + x) * c + k] = (y * 16 + x * 3 + k * 5) % 256;
  return t;
}

uint8_t At(const Tensor& t, int64_t y, int64_t x, int64_t c) {
  return t.data<uint8_t>()[(y * t.dim(1) + x) * t.dim(2) + c];
}

TEST(ResizeTest, MatchesTorchBilinearAntialiasAndNearestExact) {
  char tmpl[] = "/tmp/sluice-torch-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string cmd = "/usr/bin/python3 " + TestData() +
                          "/../image/torch_resize_reference.py " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  Tensor input(DType::kUInt8, TensorShape{17, 23, 3});
  {
    std::ifstream f(dir + "/input.raw", std::ios::binary);
    f.read(static_cast<char*>(input.raw_data()), input.ByteSize());
    ASSERT_TRUE(f.good());
  }
  std::ifstream cases(dir + "/cases.txt");
  std::string method, raw;
  int aa = 0, n = 0;
  int64_t h = 0, w = 0;
  while (cases >> method >> aa >> h >> w >> raw) {
    SCOPED_TRACE(method + " antialias " + std::to_string(aa) + " " +
                 std::to_string(h) + "x" + std::to_string(w));
    ResizeOptions o;
    o.method = *ParseResizeMethod(method);
    o.antialias = aa != 0;
    auto got = Resize(input, h, w, o);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->shape(), (TensorShape{h, w, 3}));
    std::vector<float> want(h * w * 3);
    std::ifstream f(raw, std::ios::binary);
    f.read(reinterpret_cast<char*>(want.data()), want.size() * 4);
    ASSERT_TRUE(f.good());
    for (size_t i = 0; i < want.size(); ++i) {
      const float g =
          method == "nearest" ? got->data<uint8_t>()[i] : got->data<float>()[i];
      ASSERT_NEAR(g, want[i], 2e-3) << "element " << i;
    }
    ++n;
  }
  EXPECT_EQ(n, 15);
  std::filesystem::remove_all(dir);
}

TEST(ResizeTest, HandWorkedCases) {
  // 1x2 -> 1x4 half-pixel bilinear: sample points -0.25, 0.25, 0.75, 1.25.
  Tensor t = Tensor::FromVector<float>({0, 8}, TensorShape{1, 2, 1});
  auto r = Resize(t, 1, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ(r->data<float>()[0], 0);
  EXPECT_FLOAT_EQ(r->data<float>()[1], 2);
  EXPECT_FLOAT_EQ(r->data<float>()[2], 6);
  EXPECT_FLOAT_EQ(r->data<float>()[3], 8);
  // align_corners: end points map exactly: 0, 8/3, 16/3, 8.
  auto ac = ResizeBilinear(t, 1, 4, true, false);
  ASSERT_TRUE(ac.ok());
  EXPECT_FLOAT_EQ(ac->data<float>()[1], 8.0f / 3);
  EXPECT_TRUE(
      absl::IsInvalidArgument(ResizeBilinear(t, 1, 4, true, true).status()));
  // Area 4x4 -> 2x2 averages 2x2 blocks; 3 -> 2 weights 1 and 1/2.
  Tensor sq(DType::kFloat32, TensorShape{4, 4, 1});
  for (int i = 0; i < 16; ++i) sq.data<float>()[i] = i;
  auto area = Resize(sq, 2, 2, {.method = ResizeMethod::kArea});
  ASSERT_TRUE(area.ok());
  EXPECT_FLOAT_EQ(area->data<float>()[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(area->data<float>()[3], (10 + 11 + 14 + 15) / 4.0f);
  Tensor row = Tensor::FromVector<float>({3, 6, 9}, TensorShape{1, 3, 1});
  auto a2 = Resize(row, 1, 2, {.method = ResizeMethod::kArea});
  ASSERT_TRUE(a2.ok());
  EXPECT_FLOAT_EQ(a2->data<float>()[0], (3 + 6 * 0.5f) / 1.5f);
  // Bicubic keeps constants and reproduces an input of the same size.
  Tensor flat(DType::kFloat32, TensorShape{5, 6, 2});
  for (int64_t i = 0; i < flat.NumElements(); ++i) flat.data<float>()[i] = 7;
  for (bool aa : {false, true}) {
    auto b =
        Resize(flat, 9, 4, {.method = ResizeMethod::kBicubic, .antialias = aa});
    ASSERT_TRUE(b.ok());
    for (int64_t i = 0; i < b->NumElements(); ++i)
      ASSERT_NEAR(b->data<float>()[i], 7, 1e-5);
  }
  Tensor ramp = Ramp(6, 7, 3);
  auto same = Resize(ramp, 6, 7, {.method = ResizeMethod::kBicubic});
  ASSERT_TRUE(same.ok());
  for (int64_t i = 0; i < ramp.NumElements(); ++i) {
    ASSERT_NEAR(same->data<float>()[i], ramp.data<uint8_t>()[i], 1e-3);
  }
  // Batched input resizes each image alike.
  Tensor batch(DType::kUInt8, TensorShape{2, 6, 7, 3});
  std::memcpy(batch.data<uint8_t>(), ramp.data<uint8_t>(), ramp.ByteSize());
  std::memcpy(batch.data<uint8_t>() + ramp.ByteSize(), ramp.data<uint8_t>(),
              ramp.ByteSize());
  auto bb = Resize(batch, 3, 4);
  auto one = Resize(ramp, 3, 4);
  ASSERT_TRUE(bb.ok() && one.ok());
  ASSERT_EQ(bb->shape(), (TensorShape{2, 3, 4, 3}));
  for (int64_t i = 0; i < one->NumElements(); ++i) {
    ASSERT_EQ(bb->data<float>()[i + one->NumElements()], one->data<float>()[i]);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(Resize(ramp, 0, 4).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseResizeMethod("lanczos7").status()));
}

TEST(GeometryTest, CropPadAndResizeWithCropOrPad) {
  Tensor t = Ramp(5, 6, 2);
  auto c = CropToBoundingBox(t, 1, 2, 3, 4);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(At(*c, 0, 0, 1), At(t, 1, 2, 1));
  EXPECT_EQ(At(*c, 2, 3, 0), At(t, 3, 5, 0));
  EXPECT_TRUE(
      absl::IsInvalidArgument(CropToBoundingBox(t, 3, 0, 3, 1).status()));
  auto p = PadToBoundingBox(t, 1, 2, 8, 9);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(At(*p, 0, 0, 0), 0);
  EXPECT_EQ(At(*p, 1, 2, 1), At(t, 0, 0, 1));
  EXPECT_EQ(At(*p, 5, 7, 0), At(t, 4, 5, 0));
  EXPECT_EQ(At(*p, 6, 8, 0), 0);
  // 5x6 -> 3x8: crop rows from (5-3)/2 = 1; pad columns by (8-6)/2 = 1.
  auto r = ResizeWithCropOrPad(t, 3, 8);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->shape(), (TensorShape{3, 8, 2}));
  EXPECT_EQ(At(*r, 0, 0, 0), 0);
  EXPECT_EQ(At(*r, 0, 1, 0), At(t, 1, 0, 0));
  EXPECT_EQ(At(*r, 2, 6, 1), At(t, 3, 5, 1));
  // central_crop(0.5) of 5x6: start int((5 - 2.5) / 2) = 1, int((6 - 3) / 2)
  // = 1.
  auto cc = CentralCrop(t, 0.5);
  ASSERT_TRUE(cc.ok());
  EXPECT_EQ(cc->shape(), (TensorShape{3, 4, 2}));
  EXPECT_EQ(At(*cc, 0, 0, 0), At(t, 1, 1, 0));
}

TEST(GeometryTest, FlipsTransposeAndRot90) {
  Tensor t = Ramp(3, 4, 1);
  auto lr = FlipLeftRight(t);
  auto ud = FlipUpDown(t);
  auto tr = Transpose(t);
  ASSERT_TRUE(lr.ok() && ud.ok() && tr.ok());
  EXPECT_EQ(At(*lr, 1, 0, 0), At(t, 1, 3, 0));
  EXPECT_EQ(At(*ud, 0, 2, 0), At(t, 2, 2, 0));
  EXPECT_EQ(tr->shape(), (TensorShape{4, 3, 1}));
  EXPECT_EQ(At(*tr, 3, 1, 0), At(t, 1, 3, 0));
  // rot90 (counter-clockwise): the top-right corner goes to the top-left.
  auto r1 = Rot90(t, 1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->shape(), (TensorShape{4, 3, 1}));
  EXPECT_EQ(At(*r1, 0, 0, 0), At(t, 0, 3, 0));
  EXPECT_EQ(At(*r1, 3, 0, 0), At(t, 0, 0, 0));
  // Four quarter turns, and k = -1 equals k = 3.
  Tensor x = t;
  for (int i = 0; i < 4; ++i) x = *Rot90(x, 1);
  EXPECT_TRUE(x.ContentEquals(t));
  EXPECT_TRUE(Rot90(t, -1)->ContentEquals(*Rot90(t, 3)));
  EXPECT_TRUE(Rot90(t, 2)->ContentEquals(*FlipUpDown(*FlipLeftRight(t))));
}

TEST(GeometryTest, RandomFormsAreDeterministicPerSeedAndVary) {
  Tensor batch(DType::kUInt8, TensorShape{16, 8, 9, 3});
  for (int64_t i = 0; i < batch.NumElements(); ++i)
    batch.data<uint8_t>()[i] = i * 7 % 251;
  Random a(42), b(42);
  auto fa = RandomFlipLeftRight(batch, &a);
  auto fb = RandomFlipLeftRight(batch, &b);
  ASSERT_TRUE(fa.ok() && fb.ok());
  EXPECT_TRUE(fa->ContentEquals(*fb));
  auto flipped = FlipLeftRight(batch);
  int flips = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const bool same = fa->Row(i).ContentEquals(batch.Row(i));
    const bool mirrored = fa->Row(i).ContentEquals(flipped->Row(i));
    ASSERT_TRUE(same || mirrored);
    flips += mirrored;
  }
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, 16);
  std::set<std::pair<int, int>> offsets;
  Random r(7), r2(7);
  Tensor img = Ramp(10, 12, 1);
  for (int i = 0; i < 50; ++i) {
    auto c = RandomCrop(img, 4, 5, &r);
    auto c2 = RandomCrop(img, 4, 5, &r2);
    ASSERT_TRUE(c.ok() && c2.ok());
    ASSERT_TRUE(c->ContentEquals(*c2));
    bool found = false;
    for (int oy = 0; oy <= 6 && !found; ++oy) {
      for (int ox = 0; ox <= 7 && !found; ++ox) {
        if (CropToBoundingBox(img, oy, ox, 4, 5)->ContentEquals(*c)) {
          offsets.insert({oy, ox});
          found = true;
        }
      }
    }
    ASSERT_TRUE(found);
  }
  EXPECT_GT(offsets.size(), 10u);
  EXPECT_TRUE(absl::IsInvalidArgument(RandomCrop(img, 11, 5, &r).status()));
}

TEST(ColorTest, ConvertImageDtypeFollowsTensorFlow) {
  Tensor u = Tensor::FromVector<uint8_t>({0, 1, 128, 255}, TensorShape{4});
  auto f = ConvertImageDtype(u, DType::kFloat32);
  ASSERT_TRUE(f.ok());
  EXPECT_FLOAT_EQ(f->data<float>()[2], 128 * (1.0f / 255));
  auto back = ConvertImageDtype(*f, DType::kUInt8);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->ContentEquals(u));
  // trunc(x * 255.5), saturating.
  Tensor g =
      Tensor::FromVector<float>({0.5f, -0.2f, 1.7f, 0.999f}, TensorShape{4});
  auto q = ConvertImageDtype(g, DType::kUInt8, true);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->data<uint8_t>()[0], 127);
  EXPECT_EQ(q->data<uint8_t>()[1], 0);
  EXPECT_EQ(q->data<uint8_t>()[2], 255);
  EXPECT_EQ(q->data<uint8_t>()[3], 255);
  auto w = ConvertImageDtype(u, DType::kUInt16);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->data<uint16_t>()[3], 65535);
  EXPECT_TRUE(ConvertImageDtype(*w, DType::kUInt8)->ContentEquals(u));
}

TEST(ColorTest, AdjustmentsFollowTheFormulas) {
  Tensor img(DType::kFloat32, TensorShape{2, 2, 3});
  const float px[12] = {0.1f, 0.2f, 0.3f, 0.9f, 0.5f, 0.1f,
                        0.4f, 0.4f, 0.4f, 0.0f, 1.0f, 0.5f};
  std::memcpy(img.data<float>(), px, sizeof(px));
  auto br = AdjustBrightness(img, 0.25f);
  ASSERT_TRUE(br.ok());
  EXPECT_FLOAT_EQ(br->data<float>()[0], 0.35f);
  auto ct = AdjustContrast(img, 2.0f);
  ASSERT_TRUE(ct.ok());
  const float mean_r = (0.1f + 0.9f + 0.4f + 0.0f) / 4;
  EXPECT_NEAR(ct->data<float>()[3], (0.9f - mean_r) * 2 + mean_r, 1e-6);
  auto gm = AdjustGamma(img, 2.0f, 1.5f);
  ASSERT_TRUE(gm.ok());
  EXPECT_NEAR(gm->data<float>()[4], 1.5f * 0.25f, 1e-6);
  // HSV round trip, and hue / saturation against the HSV definition.
  auto hsv = RgbToHsv(img);
  ASSERT_TRUE(hsv.ok());
  EXPECT_NEAR(hsv->data<float>()[5], 0.9f, 1e-6);  // v of pixel 1
  EXPECT_NEAR(hsv->data<float>()[4], (0.9f - 0.1f) / 0.9f, 1e-6);  // s
  EXPECT_NEAR(hsv->data<float>()[3], (0.5f - 0.1f) / (6 * 0.8f),
              1e-6);  // h (red max)
  auto rgb = HsvToRgb(*hsv);
  ASSERT_TRUE(rgb.ok());
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(rgb->data<float>()[i], px[i], 1e-5);
  auto sat0 = AdjustSaturation(img, 0.0f);
  ASSERT_TRUE(sat0.ok());
  for (int p = 0; p < 4; ++p) {  // saturation 0: gray at v = max
    const float v = std::max({px[p * 3], px[p * 3 + 1], px[p * 3 + 2]});
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(sat0->data<float>()[p * 3 + c], v, 1e-6);
  }
  auto hue = AdjustHue(img, 1.0f / 3);  // a third of a turn: R->G->B
  ASSERT_TRUE(hue.ok());
  EXPECT_NEAR(hue->data<float>()[3 + 1], 0.9f, 1e-5);
  EXPECT_NEAR(hue->data<float>()[3 + 2], 0.5f, 1e-5);
  EXPECT_NEAR(hue->data<float>()[3 + 0], 0.1f, 1e-5);
  auto gray = RgbToGrayscale(img);
  ASSERT_TRUE(gray.ok());
  EXPECT_EQ(gray->shape(), (TensorShape{2, 2, 1}));
  EXPECT_NEAR(gray->data<float>()[1],
              0.2989f * 0.9f + 0.587f * 0.5f + 0.114f * 0.1f, 1e-6);
  // uint8 in, uint8 out, saturating.
  Tensor u = Tensor::FromVector<uint8_t>({10, 200, 250}, TensorShape{1, 1, 3});
  auto ub = AdjustBrightness(u, 0.1f);
  ASSERT_TRUE(ub.ok());
  ASSERT_EQ(ub->dtype(), DType::kUInt8);
  EXPECT_EQ(ub->data<uint8_t>()[0],
            static_cast<uint8_t>((10 / 255.0f + 0.1f) * 255.5f));
  EXPECT_EQ(ub->data<uint8_t>()[2], 255);
  EXPECT_TRUE(absl::IsInvalidArgument(AdjustHue(Ramp(2, 2, 1), 0.1f).status()));
}

TEST(ColorTest, PerImageStandardizationHasZeroMeanUnitVariance) {
  Tensor batch = Tensor(DType::kUInt8, TensorShape{2, 4, 5, 3});
  for (int64_t i = 0; i < batch.NumElements(); ++i)
    batch.data<uint8_t>()[i] = (i * 37) % 256;
  auto s = PerImageStandardization(batch);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->dtype(), DType::kFloat32);
  for (int b = 0; b < 2; ++b) {
    double sum = 0, sq = 0;
    for (int i = 0; i < 60; ++i) sum += s->data<float>()[b * 60 + i];
    for (int i = 0; i < 60; ++i)
      sq += std::pow(s->data<float>()[b * 60 + i] - sum / 60, 2);
    EXPECT_NEAR(sum / 60, 0, 1e-5);
    EXPECT_NEAR(sq / 60, 1, 1e-4);
  }
  // A constant image: stddev 0 is replaced by 1/sqrt(N): all zeros.
  Tensor flat = Tensor::Zeros(DType::kFloat32, TensorShape{2, 2, 1});
  auto z = PerImageStandardization(flat);
  ASSERT_TRUE(z.ok());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(z->data<float>()[i], 0);
}

TEST(ColorTest, RandomAdjustmentsAreDeterministicAndBounded) {
  Tensor img = Ramp(4, 4, 3);
  Random a(3), b(3);
  auto x = RandomBrightness(img, 0.2f, &a);
  auto y = RandomBrightness(img, 0.2f, &b);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_TRUE(x->ContentEquals(*y));
  auto h1 = RandomHue(img, 0.3f, &a);
  auto h2 = RandomHue(img, 0.3f, &b);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_TRUE(h1->ContentEquals(*h2));
  EXPECT_TRUE(RandomContrast(img, 0.5f, 1.5f, &a)
                  ->ContentEquals(*RandomContrast(img, 0.5f, 1.5f, &b)));
  EXPECT_TRUE(RandomSaturation(img, 0.5f, 1.5f, &a)
                  ->ContentEquals(*RandomSaturation(img, 0.5f, 1.5f, &b)));
  EXPECT_TRUE(absl::IsInvalidArgument(RandomHue(img, 0.6f, &a).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(RandomContrast(img, 1.5f, 0.5f, &a).status()));
}

}  // namespace
}  // namespace sluice::image
