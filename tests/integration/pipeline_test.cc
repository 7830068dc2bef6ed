// The input pipeline end to end on synthetic shards (sluice gen's library):
// exactly-once delivery per epoch through shuffle_batch and through the
// Dataset path for every compression, measured shuffle quality,
// reproducible runs, corrupt-data policies with counts, and prompt stops
// mid-epoch (run under ASan and TSan by the sanitizer passes).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "coordinator/coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/batching.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/image_label_parser.h"
#include "pipeline/producers.h"
#include "pipeline/reader_op.h"
#include "pipeline/synthetic_records.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::TempDir;

#ifdef SLUICE_SANITIZER_BUILD
constexpr int64_t kRecords = 3000;  // sanitizers are 5-20x slower
#else
constexpr int64_t kRecords = 12000;
#endif
constexpr int kShards = 8;
constexpr int64_t kImage = 32;
constexpr int64_t kBatch = 128;

WaitOptions Wait(const Coordinator& coord) {
  return WaitOptions::Timeout(absl::Seconds(120), coord.stop_token());
}

Manifest Generate(const TempDir& dir, Compression c, int64_t records = kRecords,
                  const std::string& corrupt = "") {
  SyntheticOptions o;
  o.out_dir = dir.path();
  o.records = records;
  o.shards = kShards;
  o.record_bytes = kImage;
  o.compression = c;
  o.seed = 7;
  o.corrupt = *ParseCorruptionSpecs(corrupt);
  auto m = GenerateSynthetic(o);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

// The queue pipeline: producer (num_epochs, shuffled files) → `readers`
// TFRecordReaders → shuffle_batch_join → 2 parser threads → batches.
struct QueuePipeline {
  InputCollections c;
  Coordinator coord;
  std::optional<Batcher> parsed;
};

void BuildQueuePipeline(const Manifest& m, int epochs, int readers, int64_t capacity,
                        int64_t min_after, QueuePipeline* p,
                        std::shared_ptr<const ImageLabelParser> parser) {
  ProducerOptions po;
  po.num_epochs = epochs;
  po.seed = 3;
  auto files = StringInputProducer(m.files(), po, &p->c);
  ASSERT_TRUE(files.ok());
  TFRecordReaderOptions ro;
  ro.compression = m.compression;
  std::vector<TensorSource> sources;
  for (int r = 0; r < readers; ++r) {
    auto reader = std::make_shared<TFRecordReaderOp>(ro);
    sources.push_back([q = files->queue, reader](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
      SLUICE_ASSIGN_OR_RETURN(TensorTuple kv, reader->ReadUpTo(q.get(), 100, w));
      return TensorTuple{std::move(kv[1])};
    });
  }
  BatchOptions so;
  so.batch_size = kBatch;
  so.capacity = capacity;
  so.min_after_dequeue = min_after;
  so.enqueue_many = true;
  so.dtypes = {DType::kString};
  so.shapes = {TensorShape{}};
  so.seed = 5;
  so.allow_smaller_final_batch = true;
  auto shuffled = ShuffleBatchJoin(std::move(sources), so, &p->c);
  ASSERT_TRUE(shuffled.ok()) << shuffled.status();
  BatchOptions bo;
  bo.name = "parsed";
  bo.batch_size = kBatch;
  bo.capacity = 4 * kBatch;
  bo.num_threads = 2;
  bo.enqueue_many = true;
  bo.dtypes = {DType::kUInt8, DType::kInt64, DType::kInt64};
  bo.shapes = {TensorShape{kImage}, TensorShape{}, TensorShape{}};
  bo.allow_smaller_final_batch = true;
  auto parsed = Batch(
      [s = *shuffled, parser](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
        SLUICE_ASSIGN_OR_RETURN(TensorTuple t, s.Dequeue(w));
        return parser->Parse(t[0], w);
      },
      bo, &p->c);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  p->parsed = *parsed;
  ASSERT_TRUE(StartQueueRunners(&p->c.runners, &p->coord).ok());
}

// Checks a parsed batch's images and labels against the generator.
void CheckBatch(const TensorTuple& b, const Manifest& m) {
  const int64_t k = b[0].dim(0);
  for (int64_t i = 0; i < k; i += 17) {
    const int64_t id = b[2].flat<int64_t>()[i];
    ASSERT_GE(id, 0);
    ASSERT_LT(id, m.records);
    EXPECT_EQ(b[1].flat<int64_t>()[i], SyntheticLabel(m.seed, id));
    int64_t head;
    std::memcpy(&head, b[0].data<uint8_t>() + i * kImage, 8);
    EXPECT_EQ(head, id);  // the image carries its id
  }
}

class PipelineByCompression : public ::testing::TestWithParam<Compression> {};

TEST_P(PipelineByCompression, ShuffleBatchDeliversEveryRecordOncePerEpoch) {
  TempDir dir;
  Manifest m = Generate(dir, GetParam());
  auto parser = std::make_shared<const ImageLabelParser>(*ImageLabelParser::Create(kImage));
  QueuePipeline p;
  constexpr int kEpochs = 3;
  BuildQueuePipeline(m, kEpochs, 3, 2000, 1000, &p, parser);
  std::vector<int> seen(m.records, 0);
  int64_t total = 0;
  while (true) {
    auto b = p.parsed->Dequeue(Wait(p.coord));
    if (absl::IsOutOfRange(b.status())) break;
    ASSERT_TRUE(b.ok()) << b.status();
    CheckBatch(*b, m);
    for (int64_t id : (*b)[2].flat<int64_t>()) ++seen[id];
    total += (*b)[0].dim(0);
  }
  EXPECT_EQ(total, kEpochs * m.records);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), kEpochs), m.records);
  (void)p.coord.RequestStop();
  EXPECT_TRUE(p.coord.Join(absl::Seconds(60)).ok());
}

TEST_P(PipelineByCompression, DatasetDeliversEveryRecordOncePerEpoch) {
  TempDir dir;
  Manifest m = Generate(dir, GetParam());
  auto parser = *ImageLabelParser::Create(kImage);
  TFRecordDatasetOptions o;
  o.compression = GetParam();
  o.num_parallel_reads = 3;
  constexpr int kEpochs = 3;
  Dataset ds = TFRecordDataset(m.files(), o)
                   .Shuffle(1000, uint64_t{9})
                   .Repeat(kEpochs)
                   .Batch(kBatch)
                   .Map([&parser](TensorTuple t) { return parser.Parse(t[0]); }, 2)
                   .Prefetch(2);
  auto it = ds.MakeIterator();
  ASSERT_TRUE(it.ok());
  std::vector<int64_t> ids;
  while (true) {
    auto b = (*it)->GetNext();
    if (absl::IsOutOfRange(b.status())) break;
    ASSERT_TRUE(b.ok()) << b.status();
    CheckBatch(*b, m);
    for (int64_t id : (*b)[2].flat<int64_t>()) ids.push_back(id);
  }
  ASSERT_EQ(static_cast<int64_t>(ids.size()), kEpochs * m.records);
  // shuffle().repeat() keeps epoch boundaries: each epoch is a permutation.
  for (int e = 0; e < kEpochs; ++e) {
    std::vector<int64_t> epoch(ids.begin() + e * m.records, ids.begin() + (e + 1) * m.records);
    std::sort(epoch.begin(), epoch.end());
    for (int64_t i = 0; i < m.records; ++i) ASSERT_EQ(epoch[i], i) << "epoch " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, PipelineByCompression,
                         ::testing::Values(Compression::kNone, Compression::kZlib,
                                           Compression::kGzip),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

// Pearson correlation of output position with input position (the id).
double PositionCorrelation(const std::vector<int64_t>& ids) {
  const double n = static_cast<double>(ids.size());
  double mx = (n - 1) / 2, sxy = 0, sxx = 0, syy = 0;
  for (size_t pos = 0; pos < ids.size(); ++pos) {
    const double dx = static_cast<double>(pos) - mx, dy = static_cast<double>(ids[pos]) - mx;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / std::sqrt(sxx * syy);
}

// Chi-square of a 10x10 table: input decile × output decile.
double LandingChiSquare(const std::vector<int64_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<double> cells(100, 0);
  for (int64_t pos = 0; pos < n; ++pos) cells[(ids[pos] * 10 / n) * 10 + pos * 10 / n] += 1;
  const double expected = static_cast<double>(n) / 100;
  double chi = 0;
  for (double c : cells) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

// 81 degrees of freedom: P(chi2 > 124) ~ 0.001.
constexpr double kChiCritical = 124.0;

TEST(ShuffleQualityTest, FullBufferDatasetShuffleIsUniform) {
  TempDir dir;
  Manifest m = Generate(dir, Compression::kNone);
  for (uint64_t seed : {1u, 2u, 3u}) {
    Dataset ds = TFRecordDataset(m.files()).Shuffle(m.records, seed);
    auto it = ds.MakeIterator();
    std::vector<int64_t> ids;
    while (true) {
      auto b = (*it)->GetNextMany(256);
      if (!b.ok()) break;
      for (int64_t i = 0; i < (*b)[0].dim(0); ++i) ids.push_back(testing::RecordId((*b)[0].string(i)));
    }
    ASSERT_EQ(static_cast<int64_t>(ids.size()), m.records);
    EXPECT_LT(std::abs(PositionCorrelation(ids)), 0.05) << "seed " << seed;
    EXPECT_LT(LandingChiSquare(ids), kChiCritical) << "seed " << seed;
  }
  // The measure can fail: a small buffer keeps records near their place.
  auto it = TFRecordDataset(m.files()).Shuffle(50, uint64_t{1}).MakeIterator();
  std::vector<int64_t> ids;
  while (true) {
    auto b = (*it)->GetNextMany(256);
    if (!b.ok()) break;
    for (int64_t i = 0; i < (*b)[0].dim(0); ++i) ids.push_back(testing::RecordId((*b)[0].string(i)));
  }
  EXPECT_GT(PositionCorrelation(ids), 0.9);
  EXPECT_GT(LandingChiSquare(ids), kChiCritical);
}

TEST(ShuffleQualityTest, ShuffleBatchWithAReserveAsLargeAsTheDataIsUniform) {
  TempDir dir;
  Manifest m = Generate(dir, Compression::kNone);
  auto parser = std::make_shared<const ImageLabelParser>(*ImageLabelParser::Create(kImage));
  QueuePipeline p;
  // A reserve that holds everything: the queue releases records only after
  // the reader closes it, so the output should be a uniform permutation.
  BuildQueuePipeline(m, 1, 1, m.records + 1000, m.records, &p, parser);
  std::vector<int64_t> ids;
  while (true) {
    auto b = p.parsed->Dequeue(Wait(p.coord));
    if (!b.ok()) break;
    for (int64_t id : (*b)[2].flat<int64_t>()) ids.push_back(id);
  }
  ASSERT_EQ(static_cast<int64_t>(ids.size()), m.records);
  EXPECT_LT(std::abs(PositionCorrelation(ids)), 0.05);
  EXPECT_LT(LandingChiSquare(ids), kChiCritical);
  (void)p.coord.RequestStop();
  EXPECT_TRUE(p.coord.Join(absl::Seconds(60)).ok());
}

TEST(DeterminismTest, SameSeedAndConfigurationReproduceTheDatasetRun) {
  TempDir dir;
  Manifest m = Generate(dir, Compression::kZlib);
  auto parser = *ImageLabelParser::Create(kImage);
  auto run = [&](uint64_t seed) {
    TFRecordDatasetOptions o;
    o.compression = Compression::kZlib;
    o.num_parallel_reads = 3;
    Dataset ds = TFRecordDataset(m.files(), o)
                     .Shuffle(2000, seed)
                     .Repeat(2)
                     .Batch(kBatch)
                     .Map([&parser](TensorTuple t) { return parser.Parse(t[0]); }, 3)
                     .Prefetch(3);
    auto it = ds.MakeIterator();
    std::vector<int64_t> ids;
    while (true) {
      auto b = (*it)->GetNext();
      if (!b.ok()) break;
      for (int64_t id : (*b)[2].flat<int64_t>()) ids.push_back(id);
    }
    return ids;
  };
  std::vector<int64_t> a = run(11), b = run(11), c = run(12);
  ASSERT_EQ(static_cast<int64_t>(a.size()), 2 * m.records);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(CorruptDataTest, PoliciesBehaveAsDocumentedWithCounts) {
  TempDir dir;
  const int64_t per_shard = kRecords / kShards;
  // Shard 0: bad data CRC at record 10; shard 1: bad length CRC at 20;
  // shard 2: truncated at record 30.
  Manifest m = Generate(dir, Compression::kGzip, kRecords,
                        "data_crc:0:10,length_crc:1:20,truncate:2:30");
  struct Case {
    CorruptRecordPolicy policy;
    int64_t records;
    int64_t errors;
    int64_t skipped;
  };
  const int64_t clean = kRecords - 3 * per_shard;
  for (const Case& c :
       {Case{CorruptRecordPolicy::kFail, clean + 10 + 20 + 30, 3, 0},
        Case{CorruptRecordPolicy::kSkipRecord, clean + (per_shard - 1) + 20 + 30, 0, 1},
        Case{CorruptRecordPolicy::kSkipFile, clean + 10 + 20 + 30, 0, 0}}) {
    for (int par : {0, 3}) {
      TFRecordDatasetOptions o;
      o.compression = Compression::kGzip;
      o.corrupt_policy = c.policy;
      if (par) o.num_parallel_reads = par;
      o.stats = std::make_shared<TFRecordDatasetStats>();
      auto it = TFRecordDataset(m.files(), o).MakeIterator();
      int64_t records = 0, errors = 0;
      for (int guard = 0; guard < 100000; ++guard) {
        auto b = (*it)->GetNextMany(64);
        if (absl::IsOutOfRange(b.status())) break;
        if (!b.ok()) {
          EXPECT_TRUE(absl::IsDataLoss(b.status())) << b.status();
          ++errors;
          continue;
        }
        records += (*b)[0].dim(0);
      }
      const char* name = CorruptRecordPolicyName(c.policy);
      EXPECT_EQ(records, c.records) << name << " parallel " << par;
      EXPECT_EQ(errors, c.errors) << name << " parallel " << par;
      EXPECT_EQ(o.stats->records_skipped.load(), c.skipped) << name;
      EXPECT_EQ(o.stats->records.load(), c.records) << name;
    }
  }
}

TEST(StopTest, StoppingTheQueuePipelineMidEpochFinishesPromptly) {
  TempDir dir;
  Manifest m = Generate(dir, Compression::kNone);
  auto parser = std::make_shared<const ImageLabelParser>(*ImageLabelParser::Create(kImage));
  for (int trial = 0; trial < 3; ++trial) {
    QueuePipeline p;
    BuildQueuePipeline(m, 5, 3, 2000, 1000, &p, parser);
    for (int i = 0; i < 3 + trial * 5; ++i) ASSERT_TRUE(p.parsed->Dequeue(Wait(p.coord)).ok());
    const absl::Time start = absl::Now();
    (void)p.coord.RequestStop();
    EXPECT_TRUE(p.coord.Join(absl::Seconds(60)).ok());
    EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  }
}

TEST(StopTest, DestroyingADatasetIteratorMidEpochFinishesPromptly) {
  TempDir dir;
  Manifest m = Generate(dir, Compression::kGzip);
  auto parser = *ImageLabelParser::Create(kImage);
  for (int trial = 0; trial < 3; ++trial) {
    TFRecordDatasetOptions o;
    o.compression = Compression::kGzip;
    o.num_parallel_reads = 4;
    auto it = TFRecordDataset(m.files(), o)
                  .Shuffle(500, uint64_t{1})
                  .Repeat()
                  .Batch(kBatch)
                  .Map([&parser](TensorTuple t) { return parser.Parse(t[0]); }, 2)
                  .Prefetch(4)
                  .MakeIterator();
    ASSERT_TRUE(it.ok());
    for (int i = 0; i < 2 + trial * 7; ++i) ASSERT_TRUE((*it)->GetNext().ok());
    it->reset();  // joins every internal thread; the test timeout catches a hang
  }
}

}  // namespace
}  // namespace sluice
