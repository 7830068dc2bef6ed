// DecodeAndCropJpeg (the fused libjpeg window decode of image/jpeg_crop.cc)
// against DecodeJpeg (TurboJPEG's full decode) then crop, byte for byte:
// the real JPEGs of tests/testdata/images (baseline 4:2:0 / 4:2:2 / 4:4:4,
// progressive, grayscale, CMYK) and larger 4:2:0 baseline / progressive
// encodes of rgb.png, over windows at every column and row offset (so at,
// inside and across iMCU boundaries), corners, 1x1 and the full image, for
// every channel count, ratio and DCT method. Restart markers (which
// jpeg_skip_scanlines must step over) come from encodes of rgb.png by
// libjpeg's own compressor (no installed tool or Pillow 9.4 writes them).
// Bad windows, truncated and corrupt streams give InvalidArgument.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gtest/gtest.h>
#include "../support/libjpeg_encode.h"
#include "../support/test_images.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace sluice::image {
namespace {


using ::sluice::test_support::ReadImage;

struct Named {
  std::string name, bytes;
};

// `rgb` (uint8 [H, W, 3]) encoded by libjpeg with restart markers: every
// `restart_rows` MCU rows, or every `restart_mcus` MCUs (mid-row), 4:2:0
// (libjpeg's default) or 4:4:4, baseline or progressive. libjpeg's default
// error handler exits, which fails the test.
std::string EncodeWithRestarts(const Tensor& rgb, int restart_rows,
                               int restart_mcus, bool yuv444,
                               bool progressive) {
  return test_support::EncodeWithLibjpeg(rgb, [&](jpeg_compress_struct& c) {
    if (yuv444) c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
    if (progressive) jpeg_simple_progression(&c);
    c.restart_in_rows = restart_rows;
    c.restart_interval = static_cast<unsigned>(restart_mcus);
  });
}

// The real files, and rgb.png (854x302) encoded as 4:2:0 baseline and
// progressive JPEGs (several iMCU rows and columns of real content) and,
// by libjpeg, with restart markers.
const std::vector<Named>& Jpegs() {
  static const auto* v = [] {
    auto* v = new std::vector<Named>;
    for (const char* f :
         {"baseline_420.jpg", "baseline_422.jpg", "baseline_444.jpg",
          "progressive_rgb.jpg", "gray.jpg", "cmyk.jpg"}) {
      v->push_back({f, ReadImage(f)});
    }
    absl::StatusOr<Tensor> png = DecodePng(ReadImage("rgb.png"));
    if (png.ok()) {
      for (bool progressive : {false, true}) {
        EncodeJpegOptions o;
        o.quality = 90;
        o.progressive = progressive;
        absl::StatusOr<std::string> j = EncodeJpeg(*png, o);
        if (j.ok()) {
          v->push_back(
              {progressive ? "rgb_progressive_420" : "rgb_420", *std::move(j)});
        }
      }
      v->push_back({"rgb_420_restart_every_row",
                    EncodeWithRestarts(*png, 1, 0, false, false)});
      v->push_back({"rgb_444_restart_every_7_mcus",
                    EncodeWithRestarts(*png, 0, 7, true, false)});
      v->push_back({"rgb_progressive_420_restart_every_5_mcus",
                    EncodeWithRestarts(*png, 0, 5, false, true)});
    }
    return v;
  }();
  return *v;
}

// "" when crop equals full's window, else where the first byte differs.
std::string Mismatch(const Tensor& full, const Tensor& crop,
                     const CropWindow& w) {
  const int64_t W = full.dim(1), C = full.dim(2);
  if (crop.shape() != TensorShape{w.height, w.width, C})
    return "shape " + crop.shape().DebugString();
  for (int64_t y = 0; y < w.height; ++y) {
    const uint8_t* got = crop.data<uint8_t>() + y * w.width * C;
    const uint8_t* want = full.data<uint8_t>() + ((w.y + y) * W + w.x) * C;
    if (std::memcmp(got, want, w.width * C) != 0) {
      for (int64_t i = 0; i < w.width * C; ++i) {
        if (got[i] != want[i]) {
          return absl::StrCat("row ", y, " column ", i / C, " channel ", i % C,
                              ": ", got[i], " != ", want[i]);
        }
      }
    }
  }
  return "";
}

// Windows of an H x W image: full, corners (1x1 and small), strips (widths
// 1 and 17, clipped; when `step` > 0) at every column offset and every row
// offset within 48 of an edge and every `step`th one between (all positions
// modulo the 16-pixel iMCU, near and away from the edges), and `random`
// random ones.
std::vector<CropWindow> Windows(int64_t H, int64_t W, int64_t step, int random,
                                uint32_t seed) {
  std::vector<CropWindow> v = {{0, 0, H, W},         {0, 0, 1, 1},
                               {0, W - 1, 1, 1},     {H - 1, 0, 1, 1},
                               {H - 1, W - 1, 1, 1}, {H / 2, W / 2, 1, 1}};
  for (int64_t s : {int64_t{5}, int64_t{16}}) {
    const int64_t h = std::min(s, H), w = std::min(s + 3, W);
    v.push_back({0, 0, h, w});
    v.push_back({0, W - w, h, w});
    v.push_back({H - h, 0, h, w});
    v.push_back({H - h, W - w, h, w});
  }
  auto swept = [step](int64_t at, int64_t size) {
    return step > 0 && (at < 48 || at >= size - 48 || at % step == 0);
  };
  for (int64_t x = 0; x < W; ++x) {
    if (!swept(x, W)) continue;
    for (int64_t w : {int64_t{1}, int64_t{17}})
      v.push_back({0, x, H, std::min(w, W - x)});
  }
  for (int64_t y = 0; y < H; ++y) {
    if (!swept(y, H)) continue;
    for (int64_t h : {int64_t{1}, int64_t{17}})
      v.push_back({y, 0, std::min(h, H - y), W});
  }
  std::mt19937 rng(seed);
  for (int i = 0; i < random; ++i) {
    const int64_t h = 1 + rng() % H, w = 1 + rng() % W;
    v.push_back({static_cast<int64_t>(rng() % (H - h + 1)),
                 static_cast<int64_t>(rng() % (W - w + 1)), h, w});
  }
  return v;
}

TEST(DecodeAndCropJpegTest, EveryWindowEqualsDecodeThenCrop) {
  ASSERT_EQ(Jpegs().size(), 11u) << "a test image is missing";
  int64_t checked = 0;
  for (const Named& jpeg : Jpegs()) {
    absl::StatusOr<JpegHeader> hdr = ReadJpegHeader(jpeg.bytes);
    ASSERT_TRUE(hdr.ok()) << jpeg.name << ": " << hdr.status();
    if (jpeg.name.find("restart") != std::string::npos) {
      ASSERT_NE(jpeg.bytes.find("\xFF\xD0"), std::string::npos)
          << jpeg.name << " has no RST0 marker";
    }
    for (int channels : {0, 1, 3}) {
      if (hdr->cmyk && channels == 1) continue;
      for (int ratio : {1, 2, 4, 8}) {
        for (DctMethod dct : {DctMethod::kDefault, DctMethod::kIntegerFast}) {
          DecodeJpegOptions o;
          o.channels = channels;
          o.ratio = ratio;
          o.dct_method = dct;
          SCOPED_TRACE(absl::StrCat(jpeg.name, " channels ", channels,
                                    " ratio ", ratio, " fast_dct ",
                                    dct == DctMethod::kIntegerFast));
          absl::StatusOr<Tensor> full = DecodeJpeg(jpeg.bytes, o);
          ASSERT_TRUE(full.ok()) << full.status();
          const int64_t H = full->dim(0), W = full->dim(1);
          // The strips for the default DCT at channels 0 (every 5th middle
          // offset, every 23rd in the large encodes); corners and random
          // windows for the other channel counts and the fast DCT.
          const bool sweep = channels == 0 && dct == DctMethod::kDefault;
          const int64_t step = !sweep ? 0 : hdr->width > 500 ? 23 : 5;
          const std::vector<CropWindow> windows =
              Windows(H, W, step, sweep ? 100 : 20, ratio * 7 + channels);
          for (const CropWindow& w : windows) {
            absl::StatusOr<Tensor> crop = DecodeAndCropJpeg(jpeg.bytes, w, o);
            ASSERT_TRUE(crop.ok()) << crop.status();
            const std::string diff = Mismatch(*full, *crop, w);
            ASSERT_EQ(diff, "")
                << "window [y=" << w.y << ", x=" << w.x << ", h=" << w.height
                << ", w=" << w.width << "] of " << H << "x" << W;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(DecodeAndCropJpegTest, IntoWritesRowsStrideApart) {
  const std::string jpeg = ReadImage("baseline_420.jpg");
  absl::StatusOr<Tensor> full = DecodeJpeg(jpeg, {.channels = 3});
  ASSERT_TRUE(full.ok()) << full.status();
  const CropWindow w{11, 21, 40, 50};
  const int64_t stride = 50 * 3 + 7;
  std::vector<uint8_t> buf(stride * 40, 0xAB);
  int channels = 0;
  ASSERT_TRUE(DecodeAndCropJpegInto(jpeg, w, {.channels = 3}, buf.data(),
                                    stride, &channels)
                  .ok());
  EXPECT_EQ(channels, 3);
  Tensor packed(DType::kUInt8, TensorShape{40, 50, 3});
  for (int64_t y = 0; y < 40; ++y) {
    std::memcpy(packed.data<uint8_t>() + y * 150, buf.data() + y * stride, 150);
    for (int64_t i = 150; i < stride && y < 39; ++i)
      ASSERT_EQ(buf[y * stride + i], 0xAB) << "gap byte written, row " << y;
  }
  EXPECT_EQ(Mismatch(*full, packed, w), "");
}

TEST(DecodeAndCropJpegTest, WindowsOutsideTheImageAreInvalidArgument) {
  const std::string jpeg = ReadImage("baseline_420.jpg");  // 157x93
  constexpr int64_t kBig = std::numeric_limits<int64_t>::max();
  for (CropWindow w : std::vector<CropWindow>{{0, 0, 0, 10},
                                              {0, 0, 10, 0},
                                              {-1, 0, 10, 10},
                                              {0, -1, 10, 10},
                                              {84, 0, 10, 10},
                                              {0, 148, 10, 10},
                                              {0, 0, 94, 157},
                                              {0, 0, 93, 158},
                                              {kBig, 0, 1, 1},
                                              {1, 0, kBig, 1},
                                              {0, 1, 1, kBig},
                                              {0, 0, -5, 10}}) {
    absl::StatusOr<Tensor> r = DecodeAndCropJpeg(jpeg, w);
    ASSERT_TRUE(absl::IsInvalidArgument(r.status()))
        << w.y << "," << w.x << "," << w.height << "," << w.width << ": "
        << r.status();
    EXPECT_NE(r.status().message().find(absl::StrCat("[y=", w.y, ", x=", w.x)),
              std::string::npos)
        << r.status();
    EXPECT_NE(r.status().message().find("93x157"), std::string::npos)
        << r.status();
  }
  // The window is in scaled pixels: 157x93 at ratio 4 is 40x24.
  DecodeJpegOptions quarter;
  quarter.ratio = 4;
  EXPECT_TRUE(DecodeAndCropJpeg(jpeg, {0, 0, 24, 40}, quarter).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(jpeg, {0, 0, 24, 41}, quarter).status()));
  // The options and limits of DecodeJpeg apply.
  DecodeJpegOptions bad;
  bad.channels = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(jpeg, {0, 0, 1, 1}, bad).status()));
  bad = {};
  bad.ratio = 3;
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(jpeg, {0, 0, 1, 1}, bad).status()));
  bad = {};
  bad.max_pixels = 1000;
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(jpeg, {0, 0, 1, 1}, bad).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(ReadImage("cmyk.jpg"), {0, 0, 1, 1}, {.channels = 1})
          .status()));
}

TEST(DecodeAndCropJpegTest, TruncatedAndCorruptStreamsAreInvalidArgument) {
  for (const Named& jpeg : Jpegs()) {
    SCOPED_TRACE(jpeg.name);
    const std::string_view bytes = jpeg.bytes;
    absl::StatusOr<JpegHeader> hdr = ReadJpegHeader(bytes);
    ASSERT_TRUE(hdr.ok());
    // A window at the top: decoding stops long before the cut, yet a
    // truncated stream is refused as a full decode refuses it.
    const CropWindow top{0, 0, 1, 1};
    for (size_t cut : {size_t{0}, size_t{2}, size_t{20}, bytes.size() / 3,
                       bytes.size() / 2, bytes.size() - 20, bytes.size() - 1}) {
      absl::StatusOr<Tensor> r = DecodeAndCropJpeg(bytes.substr(0, cut), top);
      EXPECT_TRUE(absl::IsInvalidArgument(r.status()))
          << cut << ": " << r.status();
      EXPECT_FALSE(DecodeJpeg(bytes.substr(0, cut)).ok()) << cut;
    }
    // Garbage over the middle of the entropy-coded data, a window over
    // all rows: an error or (libjpeg resyncs on some damage) the same
    // pixels as the full decode, never a crash.
    std::string bad(bytes);
    for (size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i)
      bad[i] = static_cast<char>(0xFF);
    const CropWindow all{0, 0, hdr->height, hdr->width};
    absl::StatusOr<Tensor> r = DecodeAndCropJpeg(bad, all);
    absl::StatusOr<Tensor> full = DecodeJpeg(bad);
    EXPECT_EQ(r.ok(), full.ok()) << r.status() << " / " << full.status();
    if (r.ok() && full.ok()) {
      EXPECT_EQ(Mismatch(*full, *r, all), "");
    }
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg("not a jpeg at all", {0, 0, 1, 1}).status()));
}

TEST(DecodeAndCropJpegTest, AStreamMissingATableDecodesAlikeAfterAnyImage) {
  // baseline_420.jpg with its first DQT table renumbered 0 -> 2: the frame
  // uses table 0, which the stream no longer defines. A fresh decoder
  // refuses it; DecodeJpeg's reused handle must not use the table of the
  // image decoded before it.
  const std::string good = ReadImage("baseline_420.jpg");
  std::string bad = good;
  const size_t dqt = bad.find("\xFF\xDB");
  ASSERT_NE(dqt, std::string::npos);
  ASSERT_EQ(bad[dqt + 4], 0);
  bad[dqt + 4] = 2;
  ASSERT_TRUE(DecodeJpeg(good).ok());
  absl::StatusOr<Tensor> full = DecodeJpeg(bad);
  EXPECT_TRUE(absl::IsInvalidArgument(full.status())) << full.status();
  ASSERT_TRUE(DecodeJpeg(good).ok());
  absl::StatusOr<Tensor> crop = DecodeAndCropJpeg(bad, {0, 0, 8, 8});
  EXPECT_TRUE(absl::IsInvalidArgument(crop.status())) << crop.status();
  EXPECT_NE(crop.status().message().find("Quantization table"),
            std::string::npos)
      << crop.status();
}

}  // namespace
}  // namespace sluice::image
