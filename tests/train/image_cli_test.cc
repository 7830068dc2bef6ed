// `sluice convert idx --encode`, `sluice convert images` and `sluice train
// --encoding jpeg --augment`: encoded records decode back to the images
// (real files read by the image decoders), the converted-data cache is keyed
// by its source, and a missing --idx-dir is an error naming it.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cli/convert.h"
#include "cli/convert_images.h"
#include "cli/train.h"
#include "graph_training/test_tmpdir.h"
#include "image/jpeg.h"
#include "image/png.h"
#include "readers/parse_example.h"
#include "readers/record_reader.h"
#include "support/synthetic_idx.h"

namespace sluice::cli {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int status;
  std::string out, err;
};

Outcome Invoke(int (*fn)(int, char**, std::ostream&, std::ostream&),
               std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  const int status = fn(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

// Every record of `files`, parsed with `spec`.
std::vector<ParseResult> ReadAll(const std::vector<std::string>& files,
                                 const ParseSpec& spec) {
  std::vector<ParseResult> out;
  for (const std::string& f : files) {
    auto r = RecordReader::Open(f, {});
    EXPECT_TRUE(r.ok()) << r.status();
    while (true) {
      auto rec = (*r)->Next();
      if (!rec.ok()) break;
      std::string_view v = rec->data;
      ParseResult p;
      EXPECT_TRUE(ParseExample({v}, spec, &p).ok());
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ImageCliTest, ConvertIdxEncodeJpegAndPngDecodeBackToThePixels) {
  testing::TempDir tmp;
  const testing::IdxPair idx =
      testing::WriteBarIdx(tmp.Join("idx"), "train", 20, 3);
  const IdxArray raw = *ReadIdxFile(idx.images);
  for (const char* enc : {"png", "jpeg"}) {
    SCOPED_TRACE(enc);
    const std::string out = tmp.Join(std::string("out-") + enc);
    Outcome o =
        Invoke(RunConvert, {"convert", "idx", "--images", idx.images,
                            "--labels", idx.labels, "--out", out, "--shards",
                            "2", "--encode", enc, "--compression", "none"});
    ASSERT_EQ(o.status, 0) << o.err;
    auto m = ReadConvertManifest(out);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(ImageEncodingName(m->encoding), std::string(enc));
    EXPECT_THAT(m->source, HasSubstr("train-images-idx3-ubyte"));
    auto spec =
        ParseSpec::Create({{"image", DType::kString, {}, std::nullopt},
                           {"id", DType::kInt64, {}, std::nullopt},
                           {"format", DType::kString, {}, std::nullopt}});
    ASSERT_TRUE(spec.ok());
    std::vector<ParseResult> recs = ReadAll(m->files, *spec);
    ASSERT_EQ(recs.size(), 20u);
    for (const ParseResult& p : recs) {
      const std::string_view bytes = p.dense[0].string(0);
      const int64_t id = p.dense[1].data<int64_t>()[0];
      EXPECT_EQ(p.dense[2].string(0), enc);
      auto img = std::string(enc) == "png" ? image::DecodePng(bytes)
                                           : image::DecodeJpeg(bytes);
      ASSERT_TRUE(img.ok()) << img.status();
      ASSERT_EQ(img->shape(), (TensorShape{28, 28, 1}));
      double err = 0;
      for (int i = 0; i < 784; ++i) {
        err += std::abs(img->data<uint8_t>()[i] -
                        static_cast<uint8_t>(raw.data[id * 784 + i]));
      }
      if (std::string(enc) == "png") {
        EXPECT_EQ(err, 0) << "PNG is lossless";
      } else {
        EXPECT_LT(err / 784, 4.0) << "JPEG at quality 95";
      }
    }
  }
  Outcome bad = Invoke(RunConvert, {"convert", "idx", "--encode", "gif"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.err, HasSubstr("--encode"));
}

TEST(ImageCliTest, ConvertImagesWritesTheImageNetLayout) {
  testing::TempDir tmp;
  const char* data = std::getenv("SLUICE_TESTDATA");
  const std::string images =
      std::string(data != nullptr ? data : "tests/testdata") + "/images/";
  const std::string root = tmp.Join("root");
  std::filesystem::create_directories(root + "/cats");
  std::filesystem::create_directories(root + "/dogs");
  std::filesystem::copy_file(images + "baseline_420.jpg", root + "/cats/a.jpg");
  std::filesystem::copy_file(images + "cmyk.jpg", root + "/cats/b.JPG");
  std::filesystem::copy_file(images + "palette.png", root + "/dogs/c.png");
  std::filesystem::copy_file(images + "progressive_rgb.jpg",
                             root + "/dogs/d.jpeg");
  std::ofstream(root + "/dogs/notes.txt") << "not an image";
  Outcome o = Invoke(RunConvert, {"convert", "images", "--root", root, "--out",
                                  tmp.Join("out"), "--shards", "2"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("converted 4 images of 2 classes"));
  EXPECT_EQ(ReadFile(tmp.Join("out/data.labels")), "cats\ndogs\n");
  auto spec =
      ParseSpec::Create({{"image/encoded", DType::kString, {}, std::nullopt},
                         {"image/class/label", DType::kInt64, {}, std::nullopt},
                         {"image/height", DType::kInt64, {}, std::nullopt},
                         {"image/width", DType::kInt64, {}, std::nullopt},
                         {"image/format", DType::kString, {}, std::nullopt},
                         {"image/filename", DType::kString, {}, std::nullopt}});
  ASSERT_TRUE(spec.ok());
  std::vector<std::string> files = {
      tmp.Join("out/data-00000-of-00002.tfrecord"),
      tmp.Join("out/data-00001-of-00002.tfrecord")};
  std::vector<ParseResult> recs = ReadAll(files, *spec);
  ASSERT_EQ(recs.size(), 4u);
  std::set<std::string> names;
  for (const ParseResult& p : recs) {
    const std::string name(p.dense[5].string(0));
    names.insert(name);
    EXPECT_EQ(p.dense[0].string(0), ReadFile(root + "/" + name)) << name;
    EXPECT_EQ(p.dense[1].data<int64_t>()[0],
              name.rfind("cats/", 0) == 0 ? 0 : 1);
    EXPECT_EQ(p.dense[4].string(0),
              name.find(".png") != std::string::npos ? "PNG" : "JPEG");
    if (name == "dogs/d.jpeg") {
      EXPECT_EQ(p.dense[2].data<int64_t>()[0], 58);
      EXPECT_EQ(p.dense[3].data<int64_t>()[0], 493);
    }
  }
  EXPECT_EQ(names.size(), 4u);
  // A broken image is an error naming the file.
  std::ofstream(root + "/dogs/e.jpg") << "\xff\xd8\xff garbage";
  Outcome broken = Invoke(RunConvert, {"convert", "images", "--root", root,
                                       "--out", tmp.Join("o2")});
  EXPECT_EQ(broken.status, 1);
  EXPECT_THAT(broken.err, HasSubstr("e.jpg"));
  Outcome missing =
      Invoke(RunConvert, {"convert", "images", "--root", tmp.Join("nope"),
                          "--out", tmp.Join("o3")});
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope"));
}

TEST(ImageCliTest, CacheIsKeyedByItsSourceAndAMissingIdxDirIsAnError) {
  testing::TempDir tmp;
  const std::string a = tmp.Join("a"), b = tmp.Join("b");
  testing::WriteBarIdx(a, "train", 256, 1);
  testing::WriteBarIdx(a, "t10k", 64, 2);
  testing::WriteBarIdx(b, "train", 256, 7);
  testing::WriteBarIdx(b, "t10k", 64, 8);
  auto train = [&](const std::string& idx,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "train",           "--model",   "softmax",  "--epochs", "1",
        "--batch-size",    "64",        "--device", "cpu",      "--data",
        tmp.Join("cache"), "--idx-dir", idx,        "--logdir", "",
        "--deterministic"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Invoke(RunTrain, args);
  };
  Outcome first = train(a);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("converting"));
  Outcome same = train(a);
  ASSERT_EQ(same.status, 0) << same.err;
  EXPECT_THAT(same.out, ::testing::Not(HasSubstr("converting")));
  Outcome other = train(b);
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_THAT(other.out,
              HasSubstr("converted from other files; converting again"));
  // What a new user tried: the cache is full, the given source is not there.
  Outcome missing = train("/nonexistent");
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent"));
  EXPECT_THAT(missing.out, ::testing::Not(HasSubstr("epoch")));
  // JPEG-encoded records with augmentation train (a separate cached split).
  Outcome jpeg = train(b, {"--encoding", "jpeg", "--augment", "--json"});
  ASSERT_EQ(jpeg.status, 0) << jpeg.err;
  EXPECT_THAT(jpeg.out, HasSubstr("converting"));
  EXPECT_TRUE(std::filesystem::exists(tmp.Join("cache/train-jpeg.manifest")));
  EXPECT_THAT(jpeg.out, HasSubstr("\"test_accuracy\""));
  Outcome raw_aug = train(b, {"--augment"});
  EXPECT_EQ(raw_aug.status, 2);
  EXPECT_THAT(raw_aug.err, HasSubstr("--augment"));
}

}  // namespace
}  // namespace sluice::cli
