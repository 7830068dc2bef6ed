// Example parsing into batches, one thread, on MNIST-like records: an
// Example with "image" (784 bytes) and "label" (int64), 838 bytes framed,
// built with ExampleBuilder and framed in memory by RecordWriter.
//
//   readers.example.parse_to_batch      frame + both CRCs (RecordReader over
//       memory) + ParseExample of 128 records (image as string views, label
//       int64 [128]) + DecodeRaw of the images into a [128,784] uint8 batch
//   readers.example.parse_to_batch_strings   the same without DecodeRaw
//       (images stay a [128] string tensor of views into the records)
//   readers.baseline.protobuf_parse     the same framing, then libprotobuf
//       ParseFromArray of each record into a reused message and the same
//       copies into [128,784] uint8 and [128] int64 (needs the generated
//       code from tests/readers/protobuf: sluice-bench links
//       sluice_test_protos when that target exists)

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "readers/decode_raw.h"
#include "readers/example_builder.h"
#include "readers/parse_example.h"
#include "readers/record_reader.h"
#include "readers/record_writer.h"
#ifdef SLUICE_HAVE_TEST_PROTOS
#include "tf_example.pb.h"
#endif

namespace sluice {
namespace {

constexpr int kBatch = 128;
constexpr int kPixels = 784;
constexpr int kRecords = kBatch * 64;

// The framed stream, built once.
const std::string& MnistLikeStream() {
  static const std::string* stream = [] {
    auto* out = new std::string;
    auto writer = RecordWriter::ToString(out, RecordWriterOptions{});
    std::mt19937 rng(42);
    std::string image(kPixels, '\0');
    for (int i = 0; i < kRecords; ++i) {
      for (char& c : image) c = static_cast<char>(rng() & 0xff);
      ExampleBuilder b;
      b.AddBytes("image", {std::string_view(image)});
      b.AddInt64s("label", {static_cast<int64_t>(rng() % 10)});
      (void)(*writer)->Write(b.Serialize());
    }
    (void)(*writer)->Close();
    return out;
  }();
  return *stream;
}

// Label checksum of the stream, so each benchmark can prove it parsed it.
int64_t ExpectedLabelSum() {
  static const int64_t sum = [] {
    std::mt19937 rng(42);
    int64_t s = 0;
    for (int i = 0; i < kRecords; ++i) {
      for (int p = 0; p < kPixels; ++p) (void)rng();
      s += static_cast<int64_t>(rng() % 10);
    }
    return s;
  }();
  return sum;
}

void ParseToBatch(benchmark::State& state, bool decode_images) {
  const std::string& stream = MnistLikeStream();
  auto spec = ParseSpec::Create({{"image", DType::kString, TensorShape{}, std::nullopt},
                                 {"label", DType::kInt64, TensorShape{}, std::nullopt}});
  Tensor pixels(DType::kUInt8, TensorShape{kBatch, kPixels});
  RecordBatch batch;
  int64_t records = 0, label_sum = 0;
  for (auto _ : state) {
    auto reader = RecordReader::FromMemory(stream, RecordReaderOptions{});
    label_sum = 0;
    while ((*reader)->ReadMany(kBatch, &batch).ok()) {
      ParseResult result;
      ParseOptions options;
      options.owners = batch.owners();
      absl::Status s = ParseExample(batch.records(), *spec, &result, options);
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
      const Tensor& images = result.dense[0];
      if (decode_images) {
        uint8_t* dst = pixels.data<uint8_t>();
        for (int64_t i = 0; i < images.NumElements(); ++i) {
          (void)DecodeRawInto(images.string(i), DType::kUInt8, true, dst + i * kPixels);
        }
      }
      for (int64_t l : result.dense[1].flat<int64_t>()) label_sum += l;
      records += static_cast<int64_t>(batch.size());
      benchmark::DoNotOptimize(pixels.raw_data());
    }
  }
  if (label_sum != ExpectedLabelSum()) state.SkipWithError("label checksum differs");
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * stream.size());
}

void BM_ParseToBatch(benchmark::State& state) { ParseToBatch(state, true); }
void BM_ParseToBatchStrings(benchmark::State& state) { ParseToBatch(state, false); }

BENCHMARK(BM_ParseToBatch)->Name("readers.example.parse_to_batch");
BENCHMARK(BM_ParseToBatchStrings)->Name("readers.example.parse_to_batch_strings");

#ifdef SLUICE_HAVE_TEST_PROTOS
void BM_ProtobufParse(benchmark::State& state) {
  const std::string& stream = MnistLikeStream();
  Tensor pixels(DType::kUInt8, TensorShape{kBatch, kPixels});
  Tensor labels(DType::kInt64, TensorShape{kBatch});
  RecordBatch batch;
  testproto::Example ex;  // reused, as a careful user would
  int64_t records = 0, label_sum = 0;
  for (auto _ : state) {
    auto reader = RecordReader::FromMemory(stream, RecordReaderOptions{});
    label_sum = 0;
    while ((*reader)->ReadMany(kBatch, &batch).ok()) {
      for (size_t i = 0; i < batch.size(); ++i) {
        std::string_view rec = batch.record(i);
        if (!ex.ParseFromArray(rec.data(), static_cast<int>(rec.size()))) {
          state.SkipWithError("ParseFromArray failed");
          return;
        }
        const auto& map = ex.features().feature();
        auto image = map.find("image");
        auto label = map.find("label");
        if (image == map.end() || label == map.end() ||
            image->second.bytes_list().value_size() != 1 ||
            image->second.bytes_list().value(0).size() != kPixels ||
            label->second.int64_list().value_size() != 1) {
          state.SkipWithError("unexpected record");
          return;
        }
        std::memcpy(pixels.data<uint8_t>() + i * kPixels,
                    image->second.bytes_list().value(0).data(), kPixels);
        labels.data<int64_t>()[i] = label->second.int64_list().value(0);
        label_sum += labels.data<int64_t>()[i];
      }
      records += static_cast<int64_t>(batch.size());
      benchmark::DoNotOptimize(pixels.raw_data());
    }
  }
  if (label_sum != ExpectedLabelSum()) state.SkipWithError("label checksum differs");
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * stream.size());
}

BENCHMARK(BM_ProtobufParse)->Name("readers.baseline.protobuf_parse");
SLUICE_BENCH_BASELINE("readers.example.parse_to_batch", "readers.baseline.protobuf_parse");
SLUICE_BENCH_BASELINE("readers.example.parse_to_batch_strings", "readers.baseline.protobuf_parse");
#endif

}  // namespace
}  // namespace sluice
