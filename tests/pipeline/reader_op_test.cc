#include "pipeline/reader_op.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/producers.h"
#include "pipeline/synthetic_records.h"
#include "queues/fifo_queue.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using testing::RecordId;
using testing::TempDir;

std::shared_ptr<FIFOQueue> Filenames(const std::vector<std::string>& files) {
  QueueOptions qo;
  qo.dtypes = {DType::kString};
  qo.shapes = {TensorShape{}};
  auto q = FIFOQueue::Create(qo);
  EXPECT_TRUE(q.ok());
  for (const auto& f : files) EXPECT_TRUE((*q)->Enqueue({Tensor::StringScalar(f)}).ok());
  EXPECT_TRUE((*q)->Close().ok());
  return *q;
}

Manifest Gen(const TempDir& dir, int64_t records, int shards, Compression c,
             const std::string& corrupt = "") {
  SyntheticOptions o;
  o.out_dir = dir.path();
  o.records = records;
  o.shards = shards;
  o.record_bytes = 64;
  o.compression = c;
  o.corrupt = *ParseCorruptionSpecs(corrupt);
  auto m = GenerateSynthetic(o);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(TFRecordReaderOpTest, ReadsEveryFileInOrderWithFileOffsetKeys) {
  for (Compression c : {Compression::kNone, Compression::kZlib, Compression::kGzip}) {
    TempDir dir;
    Manifest m = Gen(dir, 50, 3, c);
    auto q = Filenames(m.files());
    TFRecordReaderOptions o;
    o.compression = c;
    TFRecordReaderOp reader(o);
    std::vector<int64_t> ids;
    std::string first_key;
    while (true) {
      auto kv = reader.Read(q.get());
      if (absl::IsOutOfRange(kv.status())) break;
      ASSERT_TRUE(kv.ok()) << kv.status();
      ASSERT_EQ((*kv)[0].rank(), 0);
      if (first_key.empty()) first_key = std::string((*kv)[0].string(0));
      ids.push_back(RecordId((*kv)[1].string(0)));
    }
    EXPECT_EQ(first_key, m.shards[0].file + ":0");
    ASSERT_EQ(ids.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(ids[i], i);
    EXPECT_EQ(reader.stats().records_produced, 50);
    EXPECT_EQ(reader.stats().work_units_completed, 3);
  }
}

TEST(TFRecordReaderOpTest, ReadUpToNeverSpansFiles) {
  TempDir dir;
  Manifest m = Gen(dir, 30, 3, Compression::kNone);  // 10 per file
  auto q = Filenames(m.files());
  TFRecordReaderOp reader;
  std::vector<int64_t> sizes;
  while (true) {
    auto kv = reader.ReadUpTo(q.get(), 4);
    if (absl::IsOutOfRange(kv.status())) break;
    ASSERT_TRUE(kv.ok());
    ASSERT_EQ((*kv)[0].dim(0), (*kv)[1].dim(0));
    sizes.push_back((*kv)[1].dim(0));
  }
  EXPECT_THAT(sizes, ::testing::ElementsAre(4, 4, 2, 4, 4, 2, 4, 4, 2));
  EXPECT_TRUE(absl::IsInvalidArgument(reader.ReadUpTo(q.get(), 0).status()));
}

TEST(TFRecordReaderOpTest, CorruptPoliciesFailSkipRecordOrSkipFile) {
  TempDir dir;
  // 3 shards of 10: a bad data CRC in shard 0 record 3, a bad length CRC in
  // shard 1 record 5.
  Manifest m = Gen(dir, 30, 3, Compression::kNone, "data_crc:0:3,length_crc:1:5");
  struct Case {
    CorruptRecordPolicy policy;
    int64_t records;
    int64_t errors;
    int64_t skipped;
  };
  for (const Case& c : {Case{CorruptRecordPolicy::kFail, 3 + 5 + 10, 2, 0},
                        Case{CorruptRecordPolicy::kSkipRecord, 9 + 5 + 10, 0, 1},
                        Case{CorruptRecordPolicy::kSkipFile, 3 + 5 + 10, 0, 0}}) {
    auto q = Filenames(m.files());
    TFRecordReaderOptions o;
    o.corrupt_policy = c.policy;
    TFRecordReaderOp reader(o);
    int64_t records = 0, errors = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      auto kv = reader.ReadUpTo(q.get(), 100);
      if (absl::IsOutOfRange(kv.status())) break;
      if (!kv.ok()) {
        EXPECT_TRUE(absl::IsDataLoss(kv.status())) << kv.status();
        EXPECT_THAT(kv.status().message(), HasSubstr("shard-0000"));
        ++errors;
        continue;
      }
      records += (*kv)[1].dim(0);
    }
    EXPECT_EQ(records, c.records) << CorruptRecordPolicyName(c.policy);
    EXPECT_EQ(errors, c.errors) << CorruptRecordPolicyName(c.policy);
    EXPECT_EQ(reader.stats().records_skipped, c.skipped);
  }
}

TEST(TFRecordReaderOpTest, MissingFileIsNotFoundAndTheNextFileIsRead) {
  TempDir dir;
  Manifest m = Gen(dir, 10, 1, Compression::kNone);
  auto q = Filenames({dir.Sub("nope.tfrecord"), m.shards[0].file});
  TFRecordReaderOp reader;
  EXPECT_TRUE(absl::IsNotFound(reader.ReadUpTo(q.get(), 100).status()));
  auto kv = reader.ReadUpTo(q.get(), 100);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ((*kv)[1].dim(0), 10);
}

}  // namespace
}  // namespace sluice
