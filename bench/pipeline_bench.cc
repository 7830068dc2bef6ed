// End-to-end input pipelines on synthetic MNIST-like records:
// 200,000 records of 784-byte images in 8 shards written by the gen
// library into a temporary folder once per compression (warm page cache).
// One benchmark iteration is one full epoch; every run checks that each
// record arrived exactly once (the sum and count of the ids).
//
//   pipeline.queue.shuffle_batch   string_input_producer → 2 TFRecordReader
//       threads (ReadUpTo 256) → RandomShuffleQueue(capacity 20,000,
//       min_after_dequeue 10,000) → 2 parse threads: DequeueUpTo(128) →
//       ParseExample → uint8 [128,784] + int64 labels → batch FIFOQueue →
//       the consumer
//   pipeline.dataset               TFRecordDataset(num_parallel_reads 2)
//       .Shuffle(10,000).Batch(128).Map(parse, 2).Prefetch(2)
//   *.gzip                         the same on GZIP shards
// Both read with map_file (RecordReaderOptions; it maps uncompressed
// shards, so records are copied from the page cache once, not twice);
// SLUICE_BENCH_MAP_FILE=0 reads in chunks instead.
//   pipeline.memory.shuffle_overhead  heap bytes held by a full 10,000-record
//       shuffle buffer per payload byte (glibc mallinfo2), for the Dataset
//       Shuffle (counter dataset_bytes_per_payload_byte) and the
//       RandomShuffleQueue (queue_bytes_per_payload_byte); the target is
//       ≤ 1.25. items/s here is records buffered per second.
//   pipeline.baseline.torch_dataloader  bench/torch_dataloader_peer.py (a
//       Python TFRecord iterator + Example decode in a DataLoader(bs=128))
//       on the same uncompressed files, timed by the script itself
//       (excludes interpreter start); skipped without python3-torch.
//
//   pipeline.dataset.autotune      the same with AUTOTUNE for reads, map calls
//       and prefetch, one dataset iterated epoch after epoch
//   pipeline.dataset.best_hand_tuned  the best of map calls 1..4 x prefetch
//       1 or 4 (the ratio autotune / best_hand_tuned: target >= 0.9)
//
// Set SLUICE_BENCH_STAGES=1 to print one line per stage after each run,
// and the process's CPU time per record and cores used (for the Dataset
// pipelines also where the epoch's wall time went: to the first batch,
// which includes the shuffle buffer's fill, to the rest, to the teardown).
// The Dataset pipeline's shape can be varied for experiments (defaults in
// brackets): SLUICE_BENCH_DATASET_READERS [2] parallel reads,
// SLUICE_BENCH_DATASET_MAP_PARALLEL [2] (0: sequential map),
// SLUICE_BENCH_DATASET_PREFETCH [2] (0: no prefetch thread); the queue
// pipeline's SLUICE_BENCH_QUEUE_PARSE_THREADS [2].

#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/harness.h"
#include "bench/python_peer.h"
#include "coordinator/coordinator.h"
#include "pipeline/batching.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/image_label_parser.h"
#include "pipeline/producers.h"
#include "pipeline/reader_op.h"
#include "pipeline/stage_metrics.h"
#include "pipeline/synthetic_records.h"
#include "queues/random_shuffle_queue.h"

namespace sluice {
namespace {

constexpr int64_t kRecords = 200000;
constexpr int kShards = 8;
constexpr int64_t kImageBytes = 784;
constexpr int64_t kBatch = 128;
constexpr int64_t kShuffleCapacity = 20000;
constexpr int64_t kMinAfterDequeue = 10000;

std::string& TempRoot() {
  static std::string* root = [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/sluice-bench-pipeline-XXXXXX";
    auto* s = new std::string(mkdtemp(tmpl.data()) ? tmpl : "");
    std::atexit([] {
      std::error_code ec;
      if (!TempRoot().empty()) std::filesystem::remove_all(TempRoot(), ec);
    });
    return s;
  }();
  return *root;
}

// The shards for `c`, generated on first use.
absl::StatusOr<Manifest> Shards(Compression c) {
  static std::mutex mu;
  static std::map<Compression, Manifest> made;
  std::lock_guard<std::mutex> lock(mu);
  auto it = made.find(c);
  if (it != made.end()) return it->second;
  SyntheticOptions o;
  o.out_dir = TempRoot() + "/" + CompressionName(c);
  o.records = kRecords;
  o.shards = kShards;
  o.record_bytes = kImageBytes;
  o.compression = c;
  o.seed = 1;
  SLUICE_ASSIGN_OR_RETURN(Manifest m, GenerateSynthetic(o));
  made[c] = m;
  return m;
}

// User + system CPU seconds of the whole process (every thread).
double ProcessCpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int EnvInt(const char* name, int dflt) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? dflt : std::atoi(v);
}

bool PrintStages() {
  const char* v = std::getenv("SLUICE_BENCH_STAGES");
  return v != nullptr && *v == '1';
}

constexpr int64_t kIdSum = kRecords * (kRecords - 1) / 2;

// One epoch through the queue pipeline; returns records delivered and
// checks each id arrived once (by count and sum).
absl::StatusOr<int64_t> QueueEpoch(const Manifest& m, const ImageLabelParser& parser,
                                   PipelineMetrics* metrics) {
  InputCollections c;
  ProducerOptions po;
  po.num_epochs = 1;
  po.seed = 1;
  SLUICE_ASSIGN_OR_RETURN(Producer files, StringInputProducer(m.files(), po, &c));
  TFRecordReaderOptions ro;
  ro.compression = m.compression;
  ro.produce_keys = false;  // the pipeline drops keys; skip building them
  ro.map_file = EnvInt("SLUICE_BENCH_MAP_FILE", 1) != 0;  // records straight from the page cache
  auto r0 = std::make_shared<TFRecordReaderOp>(ro);
  auto r1 = std::make_shared<TFRecordReaderOp>(ro);
  auto read = [q = files.queue](std::shared_ptr<TFRecordReaderOp> r) -> TensorSource {
    return [q, r](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
      SLUICE_ASSIGN_OR_RETURN(TensorTuple kv, r->ReadUpTo(q.get(), 256, w));
      return TensorTuple{std::move(kv[1])};
    };
  };
  BatchOptions so;
  so.batch_size = kBatch;
  so.capacity = kShuffleCapacity;
  so.min_after_dequeue = kMinAfterDequeue;
  so.enqueue_many = true;
  so.dtypes = {DType::kString};
  so.shapes = {TensorShape{}};
  so.seed = 1;
  so.allow_smaller_final_batch = true;
  so.metrics = metrics->Stage("read");
  SLUICE_ASSIGN_OR_RETURN(Batcher shuffled, ShuffleBatchJoin({read(r0), read(r1)}, so, &c));

  BatchOptions bo;
  bo.name = "parsed";
  bo.batch_size = kBatch;
  bo.capacity = 4 * kBatch;
  bo.enqueue_many = true;
  // Two parse threads: with one, parse was ~80% busy (cold shuffled
  // records) and the bottleneck; two gave +10-18% records/s.
  bo.num_threads = EnvInt("SLUICE_BENCH_QUEUE_PARSE_THREADS", 2);
  bo.dtypes = {DType::kUInt8, DType::kInt64, DType::kInt64};
  bo.shapes = {TensorShape{kImageBytes}, TensorShape{}, TensorShape{}};
  bo.allow_smaller_final_batch = true;
  bo.metrics = metrics->Stage("parse");
  SLUICE_ASSIGN_OR_RETURN(
      Batcher parsed,
      Batch(
          [shuffled, &parser](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
            absl::StatusOr<TensorTuple> t;
            {
              ScopedPhase wait(StagePhase::kInputWait);
              t = shuffled.Dequeue(w);
            }
            SLUICE_RETURN_IF_ERROR(t.status());
            return parser.Parse((*t)[0], w);
          },
          bo, &c));

  Coordinator coord;
  SLUICE_RETURN_IF_ERROR(StartQueueRunners(&c.runners, &coord).status());
  StageMetrics* consume = metrics->Stage("consume");
  PhaseClock clock(consume);
  int64_t records = 0, id_sum = 0;
  while (true) {
    clock.Switch(StagePhase::kInputWait);
    absl::StatusOr<TensorTuple> b = parsed.Dequeue(WaitOptions::StopOn(coord.stop_token()));
    clock.Switch(StagePhase::kBusy);
    if (!b.ok()) break;
    const int64_t k = (*b)[0].dim(0);
    for (int64_t id : (*b)[2].flat<int64_t>()) id_sum += id;
    records += k;
    consume->AddItems(k);
  }
  clock.Switch(StagePhase::kIdle);
  (void)coord.RequestStop();
  SLUICE_RETURN_IF_ERROR(coord.Join(absl::Seconds(60)));
  if (records != kRecords || id_sum != kIdSum) {
    return absl::DataLossError(absl::StrCat("delivered ", records, " records, id sum ", id_sum));
  }
  return records;
}

// The Dataset pipeline's tunables (kAutotune allowed in each).
struct DatasetShape {
  int readers = 2;
  int map_parallel = 2;  // 0: sequential map
  int prefetch = 2;      // 0: no prefetch
};

Dataset BuildDataset(const Manifest& m, const ImageLabelParser& parser, DatasetShape shape,
                     PipelineMetrics* metrics) {
  TFRecordDatasetOptions o;
  o.compression = m.compression;
  o.map_file = EnvInt("SLUICE_BENCH_MAP_FILE", 1) != 0;  // as in the queue pipeline
  o.num_parallel_reads = shape.readers;
  o.metrics = metrics->Stage("read");
  MapOptions mo;
  if (shape.map_parallel != 0) mo.num_parallel_calls = shape.map_parallel;
  mo.metrics = metrics->Stage("parse");
  return TFRecordDataset(m.files(), o)
      .Shuffle(kMinAfterDequeue, uint64_t{1})
      .Batch(kBatch)
      .Map([&parser](TensorTuple t) { return parser.Parse(t[0]); }, mo)
      .Prefetch(shape.prefetch, metrics->Stage("prefetch"));
}

// Where the last Dataset epoch's wall time went (SLUICE_BENCH_STAGES):
// from MakeIterator to the first batch (iterator set-up and the shuffle
// buffer's fill), the rest of the batches, and the iterator's teardown.
struct EpochPhases {
  int64_t first_batch_ns = 0, rest_ns = 0, teardown_ns = 0;
};
EpochPhases& LastEpoch() {
  static EpochPhases phases;
  return phases;
}

// One epoch of `ds`; checks that each id arrived once (count and sum).
absl::StatusOr<int64_t> IterateEpoch(const Dataset& ds, PipelineMetrics* metrics) {
  const int64_t t0 = MonotonicNanos();
  SLUICE_ASSIGN_OR_RETURN(auto it, ds.MakeIterator());
  StageMetrics* consume = metrics->Stage("consume");
  PhaseClock clock(consume);
  int64_t records = 0, id_sum = 0, t1 = 0;
  while (true) {
    clock.Switch(StagePhase::kInputWait);
    absl::StatusOr<TensorTuple> b = it->GetNext();
    clock.Switch(StagePhase::kBusy);
    if (t1 == 0) t1 = MonotonicNanos();
    if (absl::IsOutOfRange(b.status())) break;
    SLUICE_RETURN_IF_ERROR(b.status());
    const int64_t k = (*b)[0].dim(0);
    for (int64_t id : (*b)[2].flat<int64_t>()) id_sum += id;
    records += k;
    consume->AddItems(k);
  }
  const int64_t t2 = MonotonicNanos();
  it.reset();
  LastEpoch() = {t1 - t0, t2 - t1, MonotonicNanos() - t2};
  if (records != kRecords || id_sum != kIdSum) {
    return absl::DataLossError(absl::StrCat("delivered ", records, " records, id sum ", id_sum));
  }
  return records;
}

absl::StatusOr<int64_t> DatasetEpoch(const Manifest& m, const ImageLabelParser& parser,
                                     PipelineMetrics* metrics) {
  DatasetShape shape;
  shape.readers = EnvInt("SLUICE_BENCH_DATASET_READERS", 2);
  shape.map_parallel = EnvInt("SLUICE_BENCH_DATASET_MAP_PARALLEL", 2);
  shape.prefetch = EnvInt("SLUICE_BENCH_DATASET_PREFETCH", 2);
  return IterateEpoch(BuildDataset(m, parser, shape, metrics), metrics);
}

template <typename Epoch>
void RunPipeline(benchmark::State& state, Compression c, Epoch epoch) {
  absl::StatusOr<Manifest> m = Shards(c);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  auto parser = ImageLabelParser::Create(kImageBytes);
  int64_t records = 0;
  for (auto _ : state) {
    PipelineMetrics metrics;
    const double cpu0 = ProcessCpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    absl::StatusOr<int64_t> n = epoch(*m, *parser, &metrics);
    if (!n.ok()) {
      state.SkipWithError(std::string(n.status().message()).c_str());
      return;
    }
    records += *n;
    if (PrintStages()) {
      // CPU per record tells compute from hand-off costs and is less
      // sensitive than records/s to other load on a shared machine.
      const double cpu = ProcessCpuSeconds() - cpu0;
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      std::fprintf(stderr, "%s\ncpu: %.0f ns per record, %.2f cores", metrics.Report().c_str(),
                   1e9 * cpu / static_cast<double>(*n), cpu / wall);
      const EpochPhases e = std::exchange(LastEpoch(), EpochPhases{});
      if (e.rest_ns != 0) {  // a Dataset epoch
        std::fprintf(stderr, "; epoch: first batch %.2f ms, rest %.2f ms, teardown %.2f ms",
                     1e-6 * static_cast<double>(e.first_batch_ns),
                     1e-6 * static_cast<double>(e.rest_ns),
                     1e-6 * static_cast<double>(e.teardown_ns));
      }
      std::fprintf(stderr, "\n");
    }
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kImageBytes);
}

void BM_QueueShuffleBatch(benchmark::State& state) {
  RunPipeline(state, Compression::kNone, QueueEpoch);
}
void BM_QueueShuffleBatchGzip(benchmark::State& state) {
  RunPipeline(state, Compression::kGzip, QueueEpoch);
}
void BM_Dataset(benchmark::State& state) { RunPipeline(state, Compression::kNone, DatasetEpoch); }
void BM_DatasetGzip(benchmark::State& state) {
  RunPipeline(state, Compression::kGzip, DatasetEpoch);
}

// AUTOTUNE everywhere (reads, map calls, prefetch): one dataset iterated
// epoch after epoch, as a training loop does (each iterator starts from
// the previous one's choices). Like each best_hand_tuned shape, the dataset
// runs one untimed warm-up epoch first (AUTOTUNE tunes from scratch there;
// the dataset keeps its choices for the next iterators), so both sides are
// timed warm (the cold first epoch used to be timed here and not in the
// baseline). The stage report (SLUICE_BENCH_STAGES=1) shows the
// choices and each timed epoch's rate; counters: the last chosen map
// parallelism / buffer.
void BM_DatasetAutotune(benchmark::State& state) {
  absl::StatusOr<Manifest> m = Shards(Compression::kNone);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  auto parser = ImageLabelParser::Create(kImageBytes);
  PipelineMetrics metrics;
  Dataset ds = BuildDataset(*m, *parser, {kAutotune, kAutotune, kAutotune}, &metrics);
  if (absl::StatusOr<int64_t> n = IterateEpoch(ds, &metrics); !n.ok()) {  // warm-up
    state.SkipWithError(std::string(n.status().message()).c_str());
    return;
  }
  int64_t records = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<int64_t> n = IterateEpoch(ds, &metrics);
    if (!n.ok()) {
      state.SkipWithError(std::string(n.status().message()).c_str());
      return;
    }
    records += *n;
    if (PrintStages()) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "autotune epoch: %.0f records/s\n", static_cast<double>(*n) / s);
    }
  }
  if (PrintStages()) std::fprintf(stderr, "autotune:\n%s\n", metrics.Report().c_str());
  for (const StageSnapshot& s : metrics.Snapshot()) {
    for (const auto& [name, value] : s.parameters) {
      state.counters[s.name + "." + name] = static_cast<double>(value);
    }
  }
  state.SetItemsProcessed(records);
}

// The best hand-tuned shape: map calls 1..4 x prefetch 1 or 4 (2 readers),
// each after a warm-up epoch, timed over 2 epochs; reports the best rate
// (an upward-biased maximum of noisy figures: a strict baseline for
// AUTOTUNE) and prints which shape it was.
void BM_DatasetBestHandTuned(benchmark::State& state) {
  absl::StatusOr<Manifest> m = Shards(Compression::kNone);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  auto parser = ImageLabelParser::Create(kImageBytes);
  int64_t records = 0;
  for (auto _ : state) {
    double best = 0;
    DatasetShape best_shape;
    for (int par : {1, 2, 3, 4}) {
      for (int pre : {1, 4}) {
        PipelineMetrics metrics;
        const DatasetShape shape{2, par, pre};
        Dataset ds = BuildDataset(*m, *parser, shape, &metrics);
        absl::StatusOr<int64_t> n = IterateEpoch(ds, &metrics);  // warm-up
        const auto t0 = std::chrono::steady_clock::now();
        int64_t got = 0;
        for (int e = 0; e < 2 && n.ok(); ++e) {
          n = IterateEpoch(ds, &metrics);
          if (n.ok()) got += *n;
        }
        if (!n.ok()) {
          state.SkipWithError(std::string(n.status().message()).c_str());
          return;
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (got / s > best) best = got / s, best_shape = shape;
      }
    }
    std::fprintf(stderr, "pipeline.dataset.best_hand_tuned: map calls %d, prefetch %d: %.0f records/s\n",
                 best_shape.map_parallel, best_shape.prefetch, best);
    state.SetIterationTime(static_cast<double>(kRecords) / best);
    records += kRecords;
  }
  state.SetItemsProcessed(records);
}

size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Bytes held by a full shuffle buffer per payload byte.
void BM_ShuffleOverhead(benchmark::State& state) {
  absl::StatusOr<Manifest> m = Shards(Compression::kNone);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  // Payload of one record (all synthetic records have the same size).
  const int64_t payload = static_cast<int64_t>(SyntheticExample(1, 0, kImageBytes).size());
  double ds_ratio = 0, q_ratio = 0;
  int64_t buffered = 0;
  for (auto _ : state) {
    {  // Dataset Shuffle: one GetNextMany(1) fills the buffer to 10,000.
      Dataset ds = TFRecordDataset({m->shards[0].file}).Shuffle(kMinAfterDequeue, uint64_t{1});
      malloc_trim(0);
      const size_t before = HeapInUse();
      auto it = ds.MakeIterator();
      auto one = (*it)->GetNextMany(1);
      if (!one.ok()) {
        state.SkipWithError("shuffle read failed");
        return;
      }
      one->clear();
      const size_t held = HeapInUse() - before;
      ds_ratio = static_cast<double>(held) / static_cast<double>((kMinAfterDequeue - 1) * payload);
      buffered += kMinAfterDequeue;
    }
    {  // RandomShuffleQueue holding 10,000 serialized records.
      RandomShuffleQueueOptions ro;
      ro.queue.dtypes = {DType::kString};
      ro.queue.shapes = {TensorShape{}};
      ro.queue.capacity = kShuffleCapacity;
      ro.min_after_dequeue = kMinAfterDequeue;
      ro.seed = 1;
      auto q = RandomShuffleQueue::Create(ro);
      auto records = TFRecordDataset({m->shards[0].file}).MakeIterator();
      malloc_trim(0);
      const size_t before = HeapInUse();
      int64_t n = 0;
      while (n < kMinAfterDequeue) {
        auto b = (*records)->GetNextMany(std::min<int64_t>(256, kMinAfterDequeue - n));
        if (!b.ok()) break;
        n += (*b)[0].dim(0);
        (void)(*q)->EnqueueMany(*std::move(b));
      }
      records->reset();  // drop the reader and its chunks
      const size_t held = HeapInUse() - before;
      q_ratio = static_cast<double>(held) / static_cast<double>(n * payload);
      buffered += n;
    }
  }
  // sluice-bench's table shows items/s only; say the ratios too.
  std::fprintf(stderr,
               "pipeline.memory.shuffle_overhead: Dataset Shuffle %.3f, RandomShuffleQueue %.3f "
               "heap bytes per payload byte (10,000 records of %lld bytes)\n",
               ds_ratio, q_ratio, static_cast<long long>(payload));
  state.counters["dataset_bytes_per_payload_byte"] = ds_ratio;
  state.counters["queue_bytes_per_payload_byte"] = q_ratio;
  state.SetItemsProcessed(buffered);
}

// The parse stage alone: ImageLabelParser on batches of 128 serialized
// records already in memory (one thread).
void BM_ParseStage(benchmark::State& state) {
  absl::StatusOr<Manifest> m = Shards(Compression::kNone);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  auto it = TFRecordDataset({m->shards[0].file}).MakeIterator();
  std::vector<TensorTuple> batches;
  while (true) {
    auto b = (*it)->GetNextMany(kBatch);
    if (!b.ok()) break;
    batches.push_back(*std::move(b));
  }
  auto parser = ImageLabelParser::Create(kImageBytes);
  int64_t records = 0;
  for (auto _ : state) {
    for (const TensorTuple& b : batches) {
      auto parsed = parser->Parse(b[0]);
      if (!parsed.ok()) {
        state.SkipWithError(std::string(parsed.status().message()).c_str());
        return;
      }
      records += (*parsed)[0].dim(0);
      benchmark::DoNotOptimize((*parsed)[0].raw_data());
    }
  }
  state.SetItemsProcessed(records);
}

// The Python peer, run as a subprocess on the uncompressed shards.
void BM_TorchDataLoader(benchmark::State& state) {
  // Debian's python3-torch lives under /usr/bin/python3 (a PATH python3
  // may be another interpreter).
  std::string python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) python = "python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    bench::Skip(state,
                "python3-torch is not installed (apt-get install python3-torch); peer not measured");
    return;
  }
  absl::StatusOr<Manifest> m = Shards(Compression::kNone);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  const std::string script =
      (std::filesystem::path(SLUICE_BENCH_SOURCE_DIR) / "torch_dataloader_peer.py").string();
  std::string cmd = python + " " + script + " --batch-size 128 --num-workers 0 --max-records 50000";
  for (const auto& f : m->files()) cmd += " " + f;
  int64_t records = 0;
  for (auto _ : state) {
    absl::StatusOr<bench::PeerRun> run = bench::RunPythonPeer(cmd, "records");
    if (!run.ok()) {
      state.SkipWithError(std::string(run.status().message()).c_str());
      return;
    }
    state.SetIterationTime(run->seconds);
    records += run->count;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kImageBytes);
}

BENCHMARK(BM_QueueShuffleBatch)->Name("pipeline.queue.shuffle_batch")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QueueShuffleBatchGzip)->Name("pipeline.queue.shuffle_batch.gzip")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dataset)->Name("pipeline.dataset")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DatasetGzip)->Name("pipeline.dataset.gzip")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DatasetAutotune)->Name("pipeline.dataset.autotune")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DatasetBestHandTuned)->Name("pipeline.dataset.best_hand_tuned")->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShuffleOverhead)->Name("pipeline.memory.shuffle_overhead")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseStage)->Name("pipeline.stage.parse")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TorchDataLoader)->Name("pipeline.baseline.torch_dataloader")->UseManualTime()->Unit(benchmark::kMillisecond);

SLUICE_BENCH_BASELINE("pipeline.queue.shuffle_batch", "pipeline.baseline.torch_dataloader");
SLUICE_BENCH_BASELINE("pipeline.dataset", "pipeline.baseline.torch_dataloader");
SLUICE_BENCH_BASELINE("pipeline.dataset.autotune", "pipeline.dataset.best_hand_tuned");

}  // namespace
}  // namespace sluice
