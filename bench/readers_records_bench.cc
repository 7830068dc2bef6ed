// TFRecord reading: framing + both CRCs from a warm page cache, GZIP through
// ISA-L against the same file through zlib, and CRC32C by implementation.
// One thread; 838-byte MNIST-like records (784 "pixels", mostly zero, plus
// 54 bytes of Example-like framing) in temp files written once per process.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "benchmark/benchmark.h"
#include "core/crc32c.h"
#include "core/random.h"
#include "readers/record_reader.h"
#include "readers/record_writer.h"

namespace sluice {
namespace {

constexpr size_t kRecordSize = 838;
constexpr int kRecords = 40000;  // ~34 MB uncompressed: larger than L2/L3

struct Files {
  std::string plain, gzip;
  uint64_t plain_bytes = 0, gzip_records = 0;
  Files() {
    const std::string base = "/tmp/sluice_bench_" + std::to_string(::getpid());
    plain = base + ".tfrecord";
    gzip = base + ".tfrecord.gz";
    Random rng(2024);
    std::string record(kRecordSize, '\0');
    RecordWriterOptions none;
    RecordWriterOptions gz;
    gz.compression = Compression::kGzip;
    auto w1 = RecordWriter::Open(plain, none);
    auto w2 = RecordWriter::Open(gzip, gz);
    if (!w1.ok() || !w2.ok()) return;
    for (int i = 0; i < kRecords; ++i) {
      for (size_t k = 0; k < kRecordSize; ++k) {
        const bool pixel = k >= 54;
        record[k] = (pixel && rng.Uniform(100) < 81) ? 0 : static_cast<char>(rng.Uniform(256));
      }
      (void)(*w1)->Write(record);
      (void)(*w2)->Write(record);
    }
    plain_bytes = (*w1)->offset();
    (void)(*w1)->Close();
    (void)(*w2)->Close();
  }
  ~Files() {
    std::remove(plain.c_str());
    std::remove(gzip.c_str());
  }
};

const Files& GetFiles() {
  static Files files;
  return files;
}

// Reads a whole file with ReadMany (the amortised path a reader stage uses).
void ReadFile(benchmark::State& state, const std::string& path, RecordReaderOptions o) {
  const Files& files = GetFiles();
  int64_t records = 0;
  for (auto _ : state) {
    auto reader = RecordReader::Open(path, o);
    if (!reader.ok()) {
      state.SkipWithError(std::string(reader.status().message()).c_str());
      return;
    }
    RecordBatch batch;
    int64_t n = 0;
    absl::Status s;
    while ((s = (*reader)->ReadMany(256, &batch)).ok()) n += batch.size();
    if (!absl::IsOutOfRange(s) || n != kRecords) {
      state.SkipWithError("wrong record count or read error");
      return;
    }
    records += n;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records / kRecords * static_cast<int64_t>(files.plain_bytes));
}

void BM_ReadCrc(benchmark::State& state) {
  ReadFile(state, GetFiles().plain, RecordReaderOptions{});
}
BENCHMARK(BM_ReadCrc)->Name("readers.tfrecord.read_crc")->Unit(benchmark::kMillisecond);

void BM_GzipRead(benchmark::State& state) {
  RecordReaderOptions o;
  o.compression = Compression::kGzip;
  o.inflater = Inflater::kIsal;
  ReadFile(state, GetFiles().gzip, o);
}
BENCHMARK(BM_GzipRead)->Name("readers.gzip.read")->Unit(benchmark::kMillisecond);

void BM_ZlibGzipRead(benchmark::State& state) {
  RecordReaderOptions o;
  o.compression = Compression::kGzip;
  o.inflater = Inflater::kZlib;
  ReadFile(state, GetFiles().gzip, o);
}
BENCHMARK(BM_ZlibGzipRead)->Name("readers.baseline.zlib_gzip_read")->Unit(benchmark::kMillisecond);
SLUICE_BENCH_BASELINE("readers.gzip.read", "readers.baseline.zlib_gzip_read");

// CRC32C over one 64 KiB buffer (L2-resident), by implementation; items are
// 838-byte records' worth of bytes.
void Crc(benchmark::State& state, crc32c::Impl impl) {
  if (!crc32c::ImplAvailable(impl)) {
    state.SkipWithError("implementation not available on this build or CPU");
    return;
  }
  std::string data(64 << 10, '\0');
  Random rng(5);
  for (char& c : data) c = static_cast<char>(rng.Uniform(256));
  const uint32_t expected = crc32c::ExtendWith(crc32c::Impl::kSoftware, 0, data.data(), data.size());
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c::ExtendWith(impl, 0, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  if (crc != expected) state.SkipWithError("CRC mismatch");
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.size() / kRecordSize));
}
void BM_CrcSoftware(benchmark::State& s) { Crc(s, crc32c::Impl::kSoftware); }
void BM_CrcOne(benchmark::State& s) { Crc(s, crc32c::Impl::kSse42OneStream); }
void BM_CrcThree(benchmark::State& s) { Crc(s, crc32c::Impl::kSse42ThreeStreams); }
void BM_CrcIsal(benchmark::State& s) { Crc(s, crc32c::Impl::kIsal); }
BENCHMARK(BM_CrcIsal)->Name("core.crc32c.isal");
BENCHMARK(BM_CrcThree)->Name("core.crc32c.sse42_three_streams");
BENCHMARK(BM_CrcOne)->Name("core.crc32c.sse42_one_stream");
BENCHMARK(BM_CrcSoftware)->Name("core.crc32c.software");
SLUICE_BENCH_BASELINE("core.crc32c.sse42_three_streams", "core.crc32c.software");
SLUICE_BENCH_BASELINE("core.crc32c.isal", "core.crc32c.software");

}  // namespace
}  // namespace sluice
