// Writes GZIP TFRecord files of tf.train.Example records with the writer,
// then reads them back through the Dataset API (TFRecordDataset, two files
// in parallel, Shuffle, Map parsing the Examples, Batch, Prefetch), and
// checks that every record arrived exactly once.
//
//   read_tfrecords [--records N] [--dir D]
// Exit status 0 when every check passed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "readers/example_builder.h"
#include "readers/parse_example.h"
#include "readers/record_writer.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "read_tfrecords: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 1000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("sluice_example_" + std::to_string(getpid()));
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: read_tfrecords [--records N] [--dir D]\n"
          "Writes N Example records (label = i, value = 0.5 * i) into two GZIP\n"
          "TFRecord files under D (default: a fresh temporary folder), reads them\n"
          "back with TFRecordDataset -> Shuffle -> Map(ParseExample) -> Batch ->\n"
          "Prefetch and checks that each record arrives exactly once.\n");
      return 0;
    } else if (!std::strcmp(argv[i], "--records") && i + 1 < argc) {
      records = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else {
      return Fail(std::string("unknown argument ") + argv[i] + " (see --help)");
    }
  }
  if (records < 1) return Fail("--records must be at least 1");
  std::filesystem::create_directories(dir);

  // Write: record i goes to file i % 2.
  std::vector<std::string> files = {(dir / "part-0.tfrecord.gz").string(),
                                    (dir / "part-1.tfrecord.gz").string()};
  {
    std::vector<std::unique_ptr<sluice::RecordWriter>> writers;
    for (const std::string& f : files) {
      auto w = sluice::RecordWriter::Open(f, {.compression = sluice::Compression::kGzip});
      if (!w.ok()) return Fail(w.status().ToString());
      writers.push_back(std::move(*w));
    }
    for (int64_t i = 0; i < records; ++i) {
      sluice::ExampleBuilder ex;
      ex.AddInt64s("label", {i});
      ex.AddFloats("value", {0.5f * static_cast<float>(i)});
      absl::Status s = writers[i % 2]->Write(ex.Serialize());
      if (!s.ok()) return Fail(s.ToString());
    }
    for (auto& w : writers) {
      if (absl::Status s = w->Close(); !s.ok()) return Fail(s.ToString());
    }
  }

  // Read: the parse function turns a batch of serialized records (a string
  // vector) into a label and a value tensor.
  auto spec = sluice::ParseSpec::Create(
      {{.key = "label", .dtype = sluice::DType::kInt64, .shape = sluice::TensorShape{}},
       {.key = "value", .dtype = sluice::DType::kFloat32, .shape = sluice::TensorShape{}}});
  if (!spec.ok()) return Fail(spec.status().ToString());
  auto parse = [spec = *spec](sluice::TensorTuple batch) -> absl::StatusOr<sluice::TensorTuple> {
    const sluice::Tensor& serialized = batch[0];
    std::vector<std::string_view> views(serialized.NumElements());
    for (int64_t i = 0; i < serialized.NumElements(); ++i) views[i] = serialized.string(i);
    sluice::ParseResult result;
    absl::Status s = sluice::ParseExample(views, spec, &result);
    if (!s.ok()) return s;
    return sluice::TensorTuple{result.dense[0], result.dense[1]};
  };
  sluice::TFRecordDatasetOptions options;
  options.compression = sluice::Compression::kGzip;
  options.num_parallel_reads = 2;
  sluice::Dataset ds = sluice::TFRecordDataset(files, options)
                           .Shuffle(256, /*seed=*/7)
                           .Batch(64)
                           .Map(parse, /*num_parallel_calls=*/2)
                           .Prefetch(2);
  auto it = ds.MakeIterator();
  if (!it.ok()) return Fail(it.status().ToString());

  std::vector<int> seen(records, 0);
  int64_t batches = 0, total = 0;
  bool in_order = true;
  while (true) {
    auto batch = (*it)->GetNext();
    if (absl::IsOutOfRange(batch.status())) break;
    if (!batch.ok()) return Fail(batch.status().ToString());
    const sluice::Tensor& labels = (*batch)[0];
    const sluice::Tensor& values = (*batch)[1];
    for (int64_t i = 0; i < labels.NumElements(); ++i) {
      const int64_t label = labels.flat<int64_t>()[i];
      if (label < 0 || label >= records) return Fail("label out of range: " + std::to_string(label));
      if (values.flat<float>()[i] != 0.5f * static_cast<float>(label)) {
        return Fail("value of record " + std::to_string(label) + " does not match its label");
      }
      if (label != total) in_order = false;
      ++seen[label];
      ++total;
    }
    ++batches;
  }
  for (int64_t i = 0; i < records; ++i) {
    if (seen[i] != 1) {
      return Fail("record " + std::to_string(i) + " seen " + std::to_string(seen[i]) + " times");
    }
  }
  if (in_order && records > 64) return Fail("the shuffle left the records in file order");
  std::filesystem::remove_all(dir);
  std::printf("read_tfrecords: %lld records in %lld batches from %zu GZIP files, each once: OK\n",
              static_cast<long long>(total), static_cast<long long>(batches), files.size());
  return 0;
}
