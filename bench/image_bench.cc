// Image pipelines (tf.image in sluice) against what users run today.
//
//   pipeline.image.jpeg      512 256x256 JPEG records (ImageNet layout, one
//       TFRecord file) -> TFRecordDataset -> Batch(64) -> Map(parse Example,
//       decode, random crop 224, random flip, float32 NHWC; 2 parallel
//       calls) -> Prefetch(2); images/s over one epoch per iteration.
//   pipeline.image.jpeg.peer_torch   bench/python/image_pipeline_peer.py:
//       Pillow + torchvision RandomCrop(224) / RandomHorizontalFlip /
//       ToTensor in a torch DataLoader(num_workers=2, batch 64) over the
//       same 512 images as JPEG files in class folders (timed by the script
//       after a warm-up epoch; skipped without python3-torch/-torchvision).
//   image.decode.jpeg        sluice::image::DecodeJpeg of the same images,
//       one thread (allocating each output tensor, as a Map does).
//   image.decode.jpeg.turbojpeg   the floor: tjDecompress2 called directly
//       in a loop on one handle into one reused buffer, one thread.
//   pipeline.image.decode_and_crop   image::DecodeAndCropJpeg of a 224x224
//       window (offsets drawn in [0, 32]) of the same 256x256 images: the
//       fused decode (libjpeg's scanline crop / skip), one thread.
//   pipeline.image.decode_then_crop  the same windows by DecodeJpeg of the
//       whole image, then a copy of the window (the unfused way).
//
//   pipeline.image.jpeg.unfused   the same pipeline with the augmenter
//       decoding whole JPEGs, then cropping (before DecodeAndCropJpeg was
//       fused in: the A/B of the fusion).
//   pipeline.image.jpeg.autotune   the same pipeline with Map(AUTOTUNE) and
//       Prefetch(AUTOTUNE), one dataset iterated epoch after epoch after an
//       untimed warm-up epoch (as each best_hand_tuned shape gets).
//   pipeline.image.jpeg.best_hand_tuned   the best of map calls 1..4 x
//       prefetch 1 or 4 (each timed over 3 epochs after a warm-up).
//
// Ratios: pipeline.image.jpeg vs the torch peer (target >= 3),
// image.decode.jpeg vs the TurboJPEG floor (target >= 0.9), and
// autotune vs best_hand_tuned (target >= 0.9), decode_and_crop vs
// decode_then_crop (the fusion's speed-up). SLUICE_BENCH_STAGES=1
// prints the stage report (with AUTOTUNE's choices) after each result.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include <turbojpeg.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "bench/harness.h"
#include "bench/python_peer.h"
#include "core/random.h"
#include "image/jpeg.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/image_map_fns.h"
#include "pipeline/stage_metrics.h"
#include "readers/example_builder.h"
#include "readers/parse_example.h"
#include "readers/record_writer.h"

namespace sluice {
namespace {

constexpr int kImages = 512;
constexpr int kSide = 256;
constexpr int kCrop = 224;
constexpr int kBatch = 64;
constexpr int kClasses = 4;

// 512 photo-like JPEGs (smooth colour fields, edges and noise; quality 90,
// about 20 KB each) as one TFRecord file and as class folders of files.
struct ImageSet {
  std::string dir, records;
  std::vector<std::string> jpegs;
  ImageSet() {
    dir = "/tmp/sluice_bench_images_" + std::to_string(::getpid());
    records = dir + "/images.tfrecord";
    std::filesystem::create_directories(dir);
    Random rng(42);
    Tensor img(DType::kUInt8, TensorShape{kSide, kSide, 3});
    auto writer = RecordWriter::Open(records, {});
    for (int i = 0; i < kImages; ++i) {
      const double f[3] = {0.01 + rng.UniformDouble() * 0.05,
                           0.01 + rng.UniformDouble() * 0.05,
                           0.01 + rng.UniformDouble() * 0.05};
      const int cut = static_cast<int>(rng.Uniform(kSide));
      uint8_t* p = img.data<uint8_t>();
      for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
          for (int c = 0; c < 3; ++c) {
            double v = 128 + 80 * std::sin(f[c] * x + f[(c + 1) % 3] * y + c) +
                       (x > cut ? 30 : -30) +
                       static_cast<double>(rng.Uniform(24)) - 12;
            *p++ = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
          }
        }
      }
      image::EncodeJpegOptions jo;
      jo.quality = 90;
      std::string jpeg = *image::EncodeJpeg(img, jo);
      const int label = i % kClasses;
      const std::string class_dir =
          dir + "/files/class" + std::to_string(label);
      std::filesystem::create_directories(class_dir);
      std::ofstream(class_dir + "/" + std::to_string(i) + ".jpg",
                    std::ios::binary)
          << jpeg;
      ExampleBuilder b;
      b.AddBytes("image/encoded", {jpeg});
      b.AddBytes("image/format", {"JPEG"});
      b.AddInt64s("image/class/label", {label});
      b.AddInt64s("image/height", {kSide});
      b.AddInt64s("image/width", {kSide});
      if (writer.ok()) (void)(*writer)->Write(b.Serialize());
      jpegs.push_back(std::move(jpeg));
    }
    if (writer.ok()) (void)(*writer)->Close();
  }
  ~ImageSet() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const ImageSet& Images() {
  static ImageSet set;
  return set;
}

Dataset BuildImageDataset(const ImageSet& set, const ParseSpec& spec,
                          const ImageAugmenter& augment, int map_parallel, int prefetch,
                          PipelineMetrics* metrics = nullptr) {
  MapOptions mo;
  mo.num_parallel_calls = map_parallel;
  if (metrics != nullptr) mo.metrics = metrics->Stage("parse+augment");
  auto parse = [&spec, &augment](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    const Tensor& serialized = t[0];
    const int64_t k = serialized.dim(0);
    ParseResult r;
    ParseOptions po;
    const RefPtr owner = serialized.buffer();
    po.owners = absl::Span<const RefPtr>(&owner, 1);
    SLUICE_RETURN_IF_ERROR(
        ParseExample(absl::Span<const std::string_view>(
                         serialized.data<std::string_view>(), k),
                     spec, &r, po));
    SLUICE_ASSIGN_OR_RETURN(Tensor images,
                            augment.Run(absl::Span<const std::string_view>(
                                r.dense[0].data<std::string_view>(), k)));
    return TensorTuple{std::move(images), std::move(r.dense[1])};
  };
  return TFRecordDataset({set.records}, {})
      .Shuffle(kImages, uint64_t{1})
      .Batch(kBatch, /*drop_remainder=*/true)
      .Map(parse, mo)
      .Prefetch(prefetch, metrics != nullptr ? metrics->Stage("prefetch") : nullptr);
}

absl::StatusOr<int64_t> IterateEpoch(const Dataset& ds) {
  SLUICE_ASSIGN_OR_RETURN(auto it, ds.MakeIterator());
  int64_t images = 0;
  while (true) {
    absl::StatusOr<TensorTuple> b = it->GetNext();
    if (absl::IsOutOfRange(b.status())) break;
    SLUICE_RETURN_IF_ERROR(b.status());
    const Tensor& x = (*b)[0];
    if (x.dtype() != DType::kFloat32 ||
        x.shape() != TensorShape{kBatch, kCrop, kCrop, 3}) {
      return absl::InternalError("unexpected batch " + x.DebugString(0));
    }
    benchmark::DoNotOptimize(x.data<float>()[x.NumElements() - 1]);
    images += x.dim(0);
  }
  if (images != kImages) {
    return absl::DataLossError(absl::StrCat("an epoch gave ", images, " images, not ", kImages));
  }
  return images;
}

absl::StatusOr<ParseSpec> ImageSpec() {
  return ParseSpec::Create(
      {{"image/encoded", DType::kString, {}, std::nullopt},
       {"image/class/label", DType::kInt64, {}, std::nullopt}});
}
absl::StatusOr<ImageAugmenter> Augmenter(bool fused = true) {
  return ImageAugmenter::Create({.channels = 3,
                                 .height = kCrop,
                                 .width = kCrop,
                                 .random_crop = true,
                                 .random_flip = true,
                                 .dtype = DType::kFloat32,
                                 .seed = 7,
                                 .fused_jpeg_crop = fused});
}

// `map_parallel` / `prefetch` 0: the hand-set 2 / 2 of pipeline.image.jpeg.
// `fused` false: the augmenter decodes whole images, then crops.
// `warm_up`: one untimed epoch first (AUTOTUNE tunes from scratch there and
// the dataset keeps its choices), as best_hand_tuned warms up each shape.
void RunImagePipeline(benchmark::State& state, int map_parallel, int prefetch,
                      bool fused = true, bool warm_up = false) {
  const ImageSet& set = Images();
  auto spec = ImageSpec();
  auto augment = Augmenter(fused);
  if (!spec.ok() || !augment.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  PipelineMetrics metrics;
  const Dataset ds = BuildImageDataset(set, *spec, *augment, map_parallel, prefetch, &metrics);
  if (warm_up) {
    if (absl::StatusOr<int64_t> n = IterateEpoch(ds); !n.ok()) {
      state.SkipWithError(std::string(n.status().message()).c_str());
      return;
    }
  }
  int64_t images = 0;
  for (auto _ : state) {
    absl::StatusOr<int64_t> n = IterateEpoch(ds);
    if (!n.ok()) {
      state.SkipWithError(std::string(n.status().message()).c_str());
      return;
    }
    images += *n;
  }
  const char* v = std::getenv("SLUICE_BENCH_STAGES");
  if (v != nullptr && *v == '1') std::fprintf(stderr, "%s\n", metrics.Report().c_str());
  for (const StageSnapshot& s : metrics.Snapshot()) {
    for (const auto& [name, value] : s.parameters) {
      state.counters[s.name + "." + name] = static_cast<double>(value);
    }
  }
  state.SetItemsProcessed(images);
}

void BM_ImagePipeline(benchmark::State& state) { RunImagePipeline(state, 2, 2); }
void BM_ImagePipelineUnfused(benchmark::State& state) {
  RunImagePipeline(state, 2, 2, /*fused=*/false);
}
void BM_ImagePipelineAutotune(benchmark::State& state) {
  RunImagePipeline(state, kAutotune, kAutotune, /*fused=*/true, /*warm_up=*/true);
}

// Map calls 1..4 x prefetch 1 or 4, each after a warm-up epoch, timed over
// 3 epochs; reports the best rate and prints its shape.
void BM_ImageBestHandTuned(benchmark::State& state) {
  const ImageSet& set = Images();
  auto spec = ImageSpec();
  auto augment = Augmenter();
  if (!spec.ok() || !augment.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  int64_t images = 0;
  for (auto _ : state) {
    double best = 0;
    int best_par = 0, best_pre = 0;
    for (int par : {1, 2, 3, 4}) {
      for (int pre : {1, 4}) {
        const Dataset ds = BuildImageDataset(set, *spec, *augment, par, pre);
        absl::StatusOr<int64_t> n = IterateEpoch(ds);  // warm-up
        const auto t0 = std::chrono::steady_clock::now();
        int64_t got = 0;
        for (int e = 0; e < 3 && n.ok(); ++e) {
          n = IterateEpoch(ds);
          if (n.ok()) got += *n;
        }
        if (!n.ok()) {
          state.SkipWithError(std::string(n.status().message()).c_str());
          return;
        }
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (got / s > best) best = got / s, best_par = par, best_pre = pre;
      }
    }
    std::fprintf(stderr,
                 "pipeline.image.jpeg.best_hand_tuned: map calls %d, prefetch %d: %.0f "
                 "images/s\n",
                 best_par, best_pre, best);
    state.SetIterationTime(static_cast<double>(kImages) / best);
    images += kImages;
  }
  state.SetItemsProcessed(images);
}

void BM_TorchPeer(benchmark::State& state) {
  const std::string python = "/usr/bin/python3";
  if (std::system(
          (python + " -c 'import torch, torchvision, PIL' >/dev/null 2>&1")
              .c_str()) != 0) {
    bench::Skip(
        state,
        "python3-torch / python3-torchvision / python3-pil not installed");
    return;
  }
  const ImageSet& set = Images();
  const std::string script = (std::filesystem::path(SLUICE_BENCH_SOURCE_DIR) /
                              "python" / "image_pipeline_peer.py")
                                 .string();
  const std::string cmd =
      python + " " + script + " " + set.dir + "/files --epochs 1";
  int64_t images = 0;
  for (auto _ : state) {
    absl::StatusOr<bench::PeerRun> run = bench::RunPythonPeer(cmd, "images");
    if (!run.ok()) {
      state.SkipWithError(std::string(run.status().message()).c_str());
      return;
    }
    state.SetIterationTime(run->seconds);
    images += run->count;
  }
  state.SetItemsProcessed(images);
}

// Times `decode(k)` for k = 0, 1, ... (one image each), keeping each
// result alive until it is checked.
template <typename Decode>
void RunDecodeLoop(benchmark::State& state, Decode decode) {
  int64_t images = 0;
  uint64_t k = 0;
  for (auto _ : state) {
    absl::StatusOr<Tensor> t = decode(k++);
    if (!t.ok()) {
      state.SkipWithError(std::string(t.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(t->data<uint8_t>()[0]);
    ++images;
  }
  state.SetItemsProcessed(images);
}

void BM_DecodeJpeg(benchmark::State& state) {
  const ImageSet& set = Images();
  RunDecodeLoop(state, [&set](uint64_t k) {
    return image::DecodeJpeg(set.jpegs[k % set.jpegs.size()], {.channels = 3});
  });
}

void BM_TurboJpegFloor(benchmark::State& state) {
  const ImageSet& set = Images();
  tjhandle h = tjInitDecompress();
  std::vector<unsigned char> out(kSide * kSide * 3);
  int64_t images = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& j = set.jpegs[i++ % set.jpegs.size()];
    if (tjDecompress2(h, reinterpret_cast<const unsigned char*>(j.data()),
                      j.size(), out.data(), kSide, 0, kSide, TJPF_RGB,
                      0) != 0) {
      state.SkipWithError(tjGetErrorStr2(h));
      break;
    }
    benchmark::DoNotOptimize(out[0]);
    ++images;
  }
  tjDestroy(h);
  state.SetItemsProcessed(images);
}

// The k-th window of the crop benchmarks: offsets in [0, kSide - kCrop].
image::CropWindow CropAt(uint64_t k) {
  const uint64_t r = k * 0x9E3779B97F4A7C15ull;
  return {static_cast<int64_t>((r >> 20) % (kSide - kCrop + 1)),
          static_cast<int64_t>((r >> 40) % (kSide - kCrop + 1)), kCrop, kCrop};
}

void BM_DecodeAndCrop(benchmark::State& state) {
  const ImageSet& set = Images();
  RunDecodeLoop(state, [&set](uint64_t k) {
    return image::DecodeAndCropJpeg(set.jpegs[k % set.jpegs.size()], CropAt(k),
                                    {.channels = 3});
  });
}

void BM_DecodeThenCrop(benchmark::State& state) {
  const ImageSet& set = Images();
  RunDecodeLoop(state, [&set](uint64_t k) -> absl::StatusOr<Tensor> {
    const image::CropWindow w = CropAt(k);
    SLUICE_ASSIGN_OR_RETURN(
        Tensor full, image::DecodeJpeg(set.jpegs[k % set.jpegs.size()], {.channels = 3}));
    Tensor t(DType::kUInt8, TensorShape{kCrop, kCrop, 3});
    for (int64_t y = 0; y < kCrop; ++y) {
      std::memcpy(t.data<uint8_t>() + y * kCrop * 3,
                  full.data<uint8_t>() + ((w.y + y) * kSide + w.x) * 3, kCrop * 3);
    }
    return t;
  });
}

BENCHMARK(BM_ImagePipeline)
    ->Name("pipeline.image.jpeg")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImagePipelineUnfused)
    ->Name("pipeline.image.jpeg.unfused")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImagePipelineAutotune)
    ->Name("pipeline.image.jpeg.autotune")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImageBestHandTuned)
    ->Name("pipeline.image.jpeg.best_hand_tuned")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TorchPeer)
    ->Name("pipeline.image.jpeg.peer_torch")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeJpeg)
    ->Name("image.decode.jpeg")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TurboJpegFloor)
    ->Name("image.decode.jpeg.turbojpeg")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeAndCrop)
    ->Name("pipeline.image.decode_and_crop")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeThenCrop)
    ->Name("pipeline.image.decode_then_crop")
    ->Unit(benchmark::kMicrosecond);

SLUICE_BENCH_BASELINE("pipeline.image.jpeg", "pipeline.image.jpeg.peer_torch");
SLUICE_BENCH_BASELINE("image.decode.jpeg", "image.decode.jpeg.turbojpeg");
SLUICE_BENCH_BASELINE("pipeline.image.decode_and_crop", "pipeline.image.decode_then_crop");
SLUICE_BENCH_BASELINE("pipeline.image.jpeg.autotune", "pipeline.image.jpeg.best_hand_tuned");

}  // namespace
}  // namespace sluice
