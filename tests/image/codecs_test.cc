// JPEG and PNG decoding against Pillow (same libjpeg-turbo and libpng) on
// the real files of tests/testdata/images, encoding round trips, and
// hostile bytes (truncated, corrupted) that must give InvalidArgument.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "image/decode_image.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace sluice::image {
namespace {

std::string TestData() {
  const char* d = std::getenv("SLUICE_TESTDATA");
  return d != nullptr ? d : "tests/testdata";
}
std::string ImagePath(const std::string& name) {
  return TestData() + "/images/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Case {
  std::string name, file, kind, dtype, raw;
  int channels = 0, ratio = 1;
  int64_t h = 0, w = 0, c = 0;
};

// Runs pillow_reference.py once into a fresh temporary folder.
class PillowReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/sluice-pillow-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    const std::string cmd = "/usr/bin/python3 " + TestData() +
                            "/../image/pillow_reference.py " + TestData() +
                            "/images " + *dir_;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(*dir_ + "/cases.txt");
    cases_ = new std::vector<Case>();
    Case c;
    while (f >> c.name >> c.file >> c.kind >> c.channels >> c.ratio >>
           c.dtype >> c.h >> c.w >> c.c >> c.raw) {
      cases_->push_back(c);
    }
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    delete cases_;
    dir_ = nullptr;
    cases_ = nullptr;
  }
  static std::string* dir_;
  static std::vector<Case>* cases_;
};
std::string* PillowReference::dir_ = nullptr;
std::vector<Case>* PillowReference::cases_ = nullptr;

TEST_F(PillowReference, DecodedPixelsEqualPillows) {
  ASSERT_NE(cases_, nullptr);
  ASSERT_GE(cases_->size(), 50u);
  int jpeg = 0, png = 0;
  for (const Case& c : *cases_) {
    SCOPED_TRACE(c.name);
    const std::string contents = ReadFile(ImagePath(c.file));
    absl::StatusOr<Tensor> got;
    if (c.kind == "jpeg") {
      DecodeJpegOptions o;
      o.channels = c.channels;
      o.ratio = c.ratio;
      got = DecodeJpeg(contents, o);
      ++jpeg;
    } else {
      DecodePngOptions o;
      o.channels = c.channels;
      o.dtype = c.dtype == "uint16" ? DType::kUInt16 : DType::kUInt8;
      got = DecodePng(contents, o);
      ++png;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->shape(), (TensorShape{c.h, c.w, c.c}));
    ASSERT_EQ(got->dtype(),
              c.dtype == "uint16" ? DType::kUInt16 : DType::kUInt8);
    const std::string want = ReadFile(c.raw);
    ASSERT_EQ(want.size(), got->ByteSize());
    int64_t diffs = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      diffs += static_cast<const char*>(got->raw_data())[i] != want[i];
    }
    EXPECT_EQ(diffs, 0) << "bytes differing from Pillow's decode";
    // decode_image sniffs the same decoder.
    if (c.ratio == 1 && c.dtype == "uint8" && c.channels != 4) {
      DecodeImageOptions io;
      io.channels = c.channels;
      absl::StatusOr<Tensor> sniffed = DecodeImage(contents, io);
      ASSERT_TRUE(sniffed.ok()) << sniffed.status();
      EXPECT_TRUE(sniffed->ContentEquals(*got));
    }
  }
  EXPECT_GE(jpeg, 20);
  EXPECT_GE(png, 20);
}

TEST(JpegHeaderTest, ReportsProgressiveCmykAndGray) {
  auto prog = ReadJpegHeader(ReadFile(ImagePath("progressive_rgb.jpg")));
  ASSERT_TRUE(prog.ok()) << prog.status();
  EXPECT_TRUE(prog->progressive);
  EXPECT_EQ(prog->height, 58);
  EXPECT_EQ(prog->width, 493);
  auto cmyk = ReadJpegHeader(ReadFile(ImagePath("cmyk.jpg")));
  ASSERT_TRUE(cmyk.ok());
  EXPECT_TRUE(cmyk->cmyk);
  EXPECT_FALSE(cmyk->progressive);
  auto gray = ReadJpegHeader(ReadFile(ImagePath("gray.jpg")));
  ASSERT_TRUE(gray.ok());
  EXPECT_EQ(gray->channels, 1);
  auto png16 = ReadPngHeader(ReadFile(ImagePath("gray16.png")));
  ASSERT_TRUE(png16.ok());
  EXPECT_EQ(png16->bit_depth, 16);
  auto pal = ReadPngHeader(ReadFile(ImagePath("palette_trns.png")));
  ASSERT_TRUE(pal.ok());
  EXPECT_TRUE(pal->palette);
  EXPECT_EQ(pal->channels, 4);
}

TEST(DecodeJpegTest, FastDctIsCloseToAccurate) {
  const std::string contents = ReadFile(ImagePath("baseline_420.jpg"));
  DecodeJpegOptions fast;
  fast.dct_method = DctMethod::kIntegerFast;
  auto a = DecodeJpeg(contents);
  auto f = DecodeJpeg(contents, fast);
  ASSERT_TRUE(a.ok() && f.ok());
  ASSERT_EQ(a->shape(), f->shape());
  double total = 0;
  for (int64_t i = 0; i < a->NumElements(); ++i) {
    total += std::abs(a->data<uint8_t>()[i] - f->data<uint8_t>()[i]);
  }
  EXPECT_LT(total / a->NumElements(), 2.0);
}

TEST(DecodeJpegTest, BadOptionsAreInvalidArgument) {
  const std::string contents = ReadFile(ImagePath("baseline_420.jpg"));
  DecodeJpegOptions o;
  o.channels = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeJpeg(contents, o).status()));
  o = {};
  o.ratio = 3;
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeJpeg(contents, o).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseDctMethod("INTEGER_SLOW").status()));
  EXPECT_EQ(*ParseDctMethod("INTEGER_FAST"), DctMethod::kIntegerFast);
  o = {};
  o.channels = 1;
  auto cmyk = DecodeJpeg(ReadFile(ImagePath("cmyk.jpg")), o);
  EXPECT_TRUE(absl::IsInvalidArgument(cmyk.status()));
  o = {};
  o.max_pixels = 1000;
  auto big = DecodeJpeg(contents, o);
  EXPECT_TRUE(absl::IsInvalidArgument(big.status()));
  EXPECT_NE(big.status().message().find("exceeds"), std::string::npos);
}

TEST(DecodeJpegTest, TruncatedAndCorruptStreamsAreInvalidArgument) {
  for (const char* name :
       {"baseline_420.jpg", "progressive_rgb.jpg", "cmyk.jpg"}) {
    SCOPED_TRACE(name);
    const std::string contents = ReadFile(ImagePath(name));
    for (size_t cut : {size_t{0}, size_t{2}, size_t{20}, contents.size() / 3,
                       contents.size() / 2, contents.size() - 20}) {
      auto r = DecodeJpeg(std::string_view(contents).substr(0, cut));
      EXPECT_TRUE(absl::IsInvalidArgument(r.status()))
          << cut << ": " << r.status();
    }
    // Garbage in the entropy-coded data: an error or (libjpeg resyncs on
    // some damage) pixels, but never a crash.
    std::string bad = contents;
    for (size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i)
      bad[i] = static_cast<char>(0xFF);
    auto r = DecodeJpeg(bad);
    EXPECT_TRUE(r.ok() || absl::IsInvalidArgument(r.status())) << r.status();
  }
  auto r = DecodeJpeg("not a jpeg at all");
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
}

TEST(DecodeAndCropJpegTest, EqualsDecodeThenCrop) {
  const std::string contents = ReadFile(ImagePath("progressive_rgb.jpg"));
  auto full = DecodeJpeg(contents, {.channels = 3});
  ASSERT_TRUE(full.ok()) << full.status();
  auto crop = DecodeAndCropJpeg(contents, {10, 100, 30, 200}, {.channels = 3});
  ASSERT_TRUE(crop.ok()) << crop.status();
  ASSERT_EQ(crop->shape(), (TensorShape{30, 200, 3}));
  for (int64_t y = 0; y < 30; ++y) {
    for (int64_t x = 0; x < 200; ++x) {
      for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(crop->data<uint8_t>()[(y * 200 + x) * 3 + c],
                  full->data<uint8_t>()[((10 + y) * 493 + 100 + x) * 3 + c]);
      }
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(contents, {50, 0, 10, 10}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeAndCropJpeg(contents, {0, -1, 10, 10}).status()));
}

TEST(EncodeJpegTest, RoundTripIsClose) {
  auto img =
      DecodeJpeg(ReadFile(ImagePath("baseline_444.jpg")), {.channels = 3});
  ASSERT_TRUE(img.ok()) << img.status();
  // Baseline after progressive on the same thread too.
  for (int quality : {50, 95, 75}) {
    for (bool progressive : {false, true}) {
      EncodeJpegOptions o;
      o.quality = quality;
      o.progressive = progressive;
      auto bytes = EncodeJpeg(*img, o);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      auto hdr = ReadJpegHeader(*bytes);
      ASSERT_TRUE(hdr.ok());
      EXPECT_EQ(hdr->progressive, progressive);
      auto back = DecodeJpeg(*bytes);
      ASSERT_TRUE(back.ok()) << back.status();
      ASSERT_EQ(back->shape(), img->shape());
      double se = 0;
      for (int64_t i = 0; i < img->NumElements(); ++i) {
        const double d = img->data<uint8_t>()[i] - back->data<uint8_t>()[i];
        se += d * d;
      }
      const double psnr =
          10 * std::log10(255.0 * 255.0 / (se / img->NumElements() + 1e-9));
      EXPECT_GT(psnr, quality == 95 ? 35 : 28) << quality;
    }
  }
  EncodeJpegOptions o;
  o.quality = 101;
  EXPECT_TRUE(absl::IsInvalidArgument(EncodeJpeg(*img, o).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      EncodeJpeg(Tensor(DType::kFloat32, {2, 2, 3})).status()));
}

TEST(PngTest, EncodeDecodeRoundTripIsExact) {
  for (const char* name :
       {"rgba_interlaced.png", "gray_alpha.png", "palette.png", "gray16.png"}) {
    SCOPED_TRACE(name);
    DecodePngOptions o;
    if (std::string(name) == "gray16.png") o.dtype = DType::kUInt16;
    auto img = DecodePng(ReadFile(ImagePath(name)), o);
    ASSERT_TRUE(img.ok()) << img.status();
    for (int level : {-1, 0, 9}) {
      auto bytes = EncodePng(*img, {.compression = level});
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      auto back = DecodePng(*bytes, o);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(back->ContentEquals(*img));
    }
  }
}

TEST(PngTest, TruncatedAndCorruptStreamsAreInvalidArgument) {
  const std::string contents = ReadFile(ImagePath("rgba_interlaced.png"));
  for (size_t cut : {size_t{0}, size_t{8}, size_t{30}, contents.size() / 2,
                     contents.size() - 13}) {
    auto r = DecodePng(std::string_view(contents).substr(0, cut));
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()))
        << cut << ": " << r.status();
  }
  std::string bad = contents;
  bad[40] ^= 0x55;  // inside IHDR / early chunks: a CRC error
  auto r = DecodePng(bad);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("Invalid PNG data"), std::string::npos);
  DecodePngOptions o;
  o.channels = 5;
  EXPECT_TRUE(absl::IsInvalidArgument(DecodePng(contents, o).status()));
}

// Found by image_decode_fuzz: a 449-byte PNG whose chunk lengths made
// libpng allocate about 2 GB before reading them.
TEST(PngTest, HugeChunkLengthsAreNotAllocated) {
  const std::string bad =
      ReadFile(ImagePath("hostile/png_huge_chunk_length.png.bin"));
  ASSERT_EQ(bad.size(), 449u);
  for (int channels : {0, 4}) {
    auto r = DecodePng(bad, {.channels = channels});
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_NE(r.status().message().find(
                  "'pCAL' at offset 279 claims 2046820396 bytes"),
              std::string::npos)
        << r.status();
  }
}

TEST(DecodeImageTest, SniffsAndRefusesUnknownFormats) {
  EXPECT_EQ(SniffImageFormat(ReadFile(ImagePath("cmyk.jpg"))),
            ImageFormat::kJpeg);
  EXPECT_EQ(SniffImageFormat(ReadFile(ImagePath("palette.png"))),
            ImageFormat::kPng);
  EXPECT_TRUE(absl::IsUnimplemented(DecodeImage("GIF89a....").status()));
  auto r = DecodeImage("hello");
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("Unknown image file format"),
            std::string::npos);
  auto f = DecodeImage(ReadFile(ImagePath("gray.png")),
                       {.channels = 0, .dtype = DType::kFloat32});
  auto u = DecodeImage(ReadFile(ImagePath("gray.png")));
  ASSERT_TRUE(f.ok() && u.ok());
  ASSERT_EQ(f->dtype(), DType::kFloat32);
  for (int64_t i = 0; i < u->NumElements(); ++i) {
    EXPECT_FLOAT_EQ(f->data<float>()[i], u->data<uint8_t>()[i] / 255.0f);
  }
}

}  // namespace
}  // namespace sluice::image
