// Tests run under mpirun (see CMakeLists.txt: -np 2 and -np 4): every rank
// runs every test; results are checked on every rank and compared across
// ranks with collectives. Single-process references run on each rank.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coordinator/coordinator.h"
#include "device/device_communicator.h"
#include "distributed/gradient_allreducer.h"
#include "distributed/nccl_allreducer.h"
#include "distributed/queue_sharding.h"
#include "distributed/sharding.h"
#include "distributed/variable_sync.h"
#include "distributed/world.h"
#include "gmock/gmock.h"
#include "graph/ops/ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/session.h"
#include "gtest/gtest.h"
#include "pipeline/batching.h"
#include "pipeline/input_collections.h"
#include "pipeline/producers.h"
#include "pipeline/reader_op.h"
#include "readers/record_writer.h"
#include "train/data_parallel.h"
#include "../support/simulated_device.h"

namespace sluice::distributed {
namespace {

World* W() {
  static World* w = [] {
    auto r = World::Init({.stall_timeout = absl::Seconds(60)});
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }();
  return w;
}

// A directory every rank sees: rank 0 makes it, broadcasts its name.
std::string SharedTempDir() {
  char path[256] = {};
  if (W()->rank() == 0) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_mpi_XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    std::strncpy(path, tmpl.c_str(), sizeof(path) - 1);
  }
  EXPECT_TRUE(W()->Broadcast(path, sizeof(path), "temp dir").ok());
  return path;
}

// Files of records "id:N" with uneven counts; written by rank 0.
std::vector<std::string> WriteIdFiles(const std::string& dir, const std::vector<int>& counts) {
  std::vector<std::string> files;
  int id = 0;
  for (size_t f = 0; f < counts.size(); ++f) {
    files.push_back(absl::StrCat(dir, "/ids-", f, ".tfrecord"));
    if (W()->rank() == 0) {
      auto w = RecordWriter::Open(files.back(), {});
      EXPECT_TRUE(w.ok()) << w.status();
      for (int i = 0; i < counts[f]; ++i) EXPECT_TRUE((*w)->Write(absl::StrCat("id:", id++)).ok());
      EXPECT_TRUE((*w)->Close().ok());
    } else {
      id += counts[f];
    }
  }
  EXPECT_TRUE(W()->Barrier("files written").ok());
  return files;
}

int64_t IdOf(std::string_view rec) {
  int64_t id = -1;
  EXPECT_TRUE(absl::SimpleAtoi(std::string(rec.substr(3)), &id)) << rec;
  return id;
}

TEST(GradientAllreducerTest, AveragesWeightedBySamplesAndAgreesOnStop) {
  World* w = W();
  const int r = w->rank(), n = w->size();
  // Rank r brings gradient value (r+1) from r samples (rank 0: none).
  std::vector<Tensor> g{Tensor::FromVector<float>({float(r + 1), float(-(r + 1))}, {2}),
                        Tensor::FromVector<float>({float(10 * (r + 1))}, {1})};
  GradientAllreducer ar(w, {.bucket_bytes = 4});  // one float per bucket
  auto a = ar.Average(&g, r, /*stop=*/r == n - 1, "test");
  ASSERT_TRUE(a.ok()) << a.status();
  double num = 0, den = 0;
  for (int k = 0; k < n; ++k) {
    num += double(k) * (k + 1);
    den += k;
  }
  EXPECT_EQ(a->total_samples, static_cast<int64_t>(den));
  EXPECT_TRUE(a->stop);
  EXPECT_NEAR(g[0].data<float>()[0], num / den, 1e-5);
  EXPECT_NEAR(g[0].data<float>()[1], -num / den, 1e-5);
  EXPECT_NEAR(g[1].data<float>()[0], 10 * num / den, 1e-4);
}

TEST(GradientAllreducerTest, NoSamplesAnywhereMeansTheEpochEnded) {
  std::vector<Tensor> g{Tensor::FromVector<float>({1.0f}, {1})};
  GradientAllreducer ar(W());
  auto a = ar.Average(&g, 0, false, "test");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->total_samples, 0);
  EXPECT_FALSE(a->stop);
}

// The fast path: gradients pre-weighted by samples / expected total,
// written into the arena's slots, summed in place; an uneven total is
// rescaled; results still held by the caller are never overwritten.
TEST(GradientAllreducerTest, SumWeightedReducesTheSlotsInPlace) {
  World* w = W();
  const int r = w->rank(), n = w->size();
  GradientAllreducer ar(w, {.bucket_bytes = 64});  // several buckets
  auto slots = ar.Prepare({TensorShape{3}, TensorShape{20}});
  ASSERT_TRUE(slots.ok()) << slots.status();
  // Every rank 2 samples, expected 2n: weights 1/n.
  for (int64_t i = 0; i < 3; ++i) (*slots)[0].data<float>()[i] = float(r + 1) / n;
  for (int64_t i = 0; i < 20; ++i) (*slots)[1].data<float>()[i] = float(i * (r + 1)) / n;
  std::vector<Tensor> g = *slots;
  auto a = ar.SumWeighted(&g, 2, false, 2 * n, "even");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->total_samples, 2 * n);
  EXPECT_EQ(g[0].raw_data(), (*slots)[0].raw_data()) << "not reduced in place";
  const double mean = (n + 1) / 2.0;  // of r + 1
  EXPECT_NEAR(g[0].data<float>()[2], mean, 1e-5);
  EXPECT_NEAR(g[1].data<float>()[19], 19 * mean, 1e-4);

  // The results are held: the next step gets another arena.
  const std::vector<Tensor> held = g;
  auto next = ar.Prepare({TensorShape{3}, TensorShape{20}});
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE((*next)[0].SharesBufferWith(held[0]));
  // Rank 0 has no samples (zeros); the others 2 each, weighted 2 / 2n.
  std::vector<Tensor> h{Tensor::Zeros(DType::kFloat32, TensorShape{3}),
                        Tensor::Zeros(DType::kFloat32, TensorShape{20})};
  if (r > 0) {
    for (int64_t i = 0; i < 3; ++i) h[0].data<float>()[i] = float(r + 1) / n;
  }
  auto b = ar.SumWeighted(&h, r > 0 ? 2 : 0, false, 2 * n, "uneven");  // staged by copy
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->total_samples, 2 * (n - 1));
  double want = 0;
  for (int k = 1; k < n; ++k) want += k + 1;
  EXPECT_NEAR(h[0].data<float>()[0], want / (n - 1), 1e-5);
  EXPECT_NEAR(held[0].data<float>()[0], mean, 1e-5) << "a held result was overwritten";
}

// Softmax regression on 8 features, 3 classes, plain SGD.
struct Model {
  Graph g{"m"};
  Output x, y, loss;
  Variable w, b;
  std::unique_ptr<GradientDescentOptimizer> opt = std::make_unique<GradientDescentOptimizer>(0.5);
  Model() {
    Scope s = Scope::Root(&g);
    x = ops::Placeholder(s.WithOpName("x"), DType::kFloat32, TensorShape{-1, 8});
    y = ops::Placeholder(s.WithOpName("y"), DType::kInt64, TensorShape{-1});
    std::vector<float> w0(24), b0(3);
    for (int i = 0; i < 24; ++i) w0[i] = 0.05f * static_cast<float>((i * 7) % 11) - 0.25f;
    VariableOptions vw, vb;
    vw.name = "w";
    vb.name = "b";
    w = NewVariable(s, Tensor::FromVector<float>(absl::MakeConstSpan(w0), {8, 3}), vw);
    b = NewVariable(s, Tensor::FromVector<float>(absl::MakeConstSpan(b0), {3}), vb);
    Output logits = ops::Add(s, ops::MatMul(s, x, w.value()), b.value());
    loss = ops::ReduceMean(s, ops::SparseSoftmaxCrossEntropyWithLogits(s, y, logits).loss);
  }
};

// Record i: features sin(i*k), label i % 3 shifted by a feature.
void Records(int64_t begin, int64_t end, int stride, int offset, Tensor* x, Tensor* y) {
  std::vector<int64_t> ids;
  for (int64_t i = begin; i < end; ++i) {
    if ((i - begin) % stride == offset) ids.push_back(i);
  }
  *x = Tensor(DType::kFloat32, TensorShape{static_cast<int64_t>(ids.size()), 8});
  *y = Tensor(DType::kInt64, TensorShape{static_cast<int64_t>(ids.size())});
  for (size_t r = 0; r < ids.size(); ++r) {
    for (int k = 0; k < 8; ++k) x->data<float>()[r * 8 + k] = std::sin(0.37f * ids[r] * (k + 1));
    y->data<int64_t>()[r] = (ids[r] + (x->data<float>()[r * 8] > 0)) % 3;
  }
}

// N ranks with batch B (rank r takes rows r, r+N, ... of each global
// batch of N*B) end with the parameters of one process trained on
// batches of N*B: the proof that the average is right, uneven final
// batches (some ranks with no rows) included. Every rank ends with the
// same bytes.
// The NCCL path's communicator with NCCL replaced by MPI on host memory:
// a simulated GPU's "device memory" is host memory, so the step logic of
// NcclGradientAllreducer (agreement first, weight samples/total, the
// device arena, buckets, zeros for a rank without a batch, the arena's
// views fed to the update, variables broadcast through the communicator)
// runs on CPUs. Each call is checked to come in stream order: the stream
// is inline, so queued work has run when the call is made.
class MpiHostCommunicator final : public DeviceCommunicator {
 public:
  explicit MpiHostCommunicator(World* w) : w_(w) {}
  int rank() const override { return w_->rank(); }
  int size() const override { return w_->size(); }
  absl::Status AllReduceSum(float* data, int64_t n) override {
    ++sums;
    return w_->AllreduceSum(data, n, "host communicator sum");
  }
  absl::Status Broadcast(void* data, int64_t bytes, int root) override {
    if (root != 0) return absl::InvalidArgumentError("root 0 only");
    ++broadcasts;
    return w_->Broadcast(data, bytes, "host communicator broadcast");
  }
  absl::Status Wait(absl::Duration, std::string_view, const std::function<bool()>&) override {
    ++waits;
    return absl::OkStatus();
  }
  void Abort() override { aborted_ = true; }
  bool aborted() const override { return aborted_; }
  int sums = 0, broadcasts = 0, waits = 0;

 private:
  World* w_;
  bool aborted_ = false;
};

void ExpectNRanksWithBatchBEqualOneRankWithBatchNB(train::DataParallelOptions options,
                                                   bool device_path = false) {
  World* w = W();
  const int n = w->size(), r = w->rank();
  constexpr int64_t kB = 4;
  const int64_t records = 10 * n * kB + n / 2;  // the last global batch is short
  const int64_t global = n * kB;

  Model ref;
  Session rs(&ref.g);
  auto ref_train = ref.opt->Minimize(Scope::Root(&ref.g), ref.loss);
  ASSERT_TRUE(ref_train.ok()) << ref_train.status();
  ASSERT_TRUE(rs.Run({}, {}, {GlobalVariablesInitializer(Scope::Root(&ref.g))}, nullptr).ok());

  Model dp;
  Session ds(&dp.g);
  auto dg = train::BuildDataParallelGraph(Scope::Root(&dp.g), dp.opt.get(), dp.loss, {dp.w, dp.b},
                                          std::nullopt);
  ASSERT_TRUE(dg.ok()) << dg.status();
  ASSERT_TRUE(ds.Run({}, {}, {GlobalVariablesInitializer(Scope::Root(&dp.g))}, nullptr).ok());
  testing_sim::SimDevice gpu(/*threaded=*/false);
  auto comm = std::make_unique<MpiHostCommunicator>(w);
  MpiHostCommunicator* host_comm = comm.get();
  std::unique_ptr<NcclGradientAllreducer> device_reducer;
  if (device_path) {
    device_reducer = NcclGradientAllreducer::CreateWithCommunicator(w, &gpu, {.bucket_bytes = 40},
                                                                    std::move(comm));
    if (r != 0) {  // rank 0's values must arrive
      ASSERT_TRUE(ds.AssignVariable(dp.w, Tensor::Zeros(DType::kFloat32, {8, 3})).ok());
    }
    ASSERT_TRUE(device_reducer->BroadcastVariables(&ds, {dp.w, dp.b}).ok());
    EXPECT_EQ(host_comm->broadcasts, 1);
  } else {
    ASSERT_TRUE(BroadcastVariables(w, &ds, {dp.w, dp.b}).ok());
  }
  if (options.batch_size > 0) options.batch_size = kB;
  train::DataParallelStep step(w, &ds, *dg, {.bucket_bytes = 40}, options);
  if (device_path) step.UseNccl(std::move(device_reducer));

  int64_t rank_rows = 0, steps = 0;
  for (int64_t begin = 0;; begin += global) {
    const int64_t end = std::min(records, begin + global);
    Tensor x, y;
    if (begin < records) Records(begin, end, n, r, &x, &y);
    const bool has = begin < records && x.dim(0) > 0;
    FeedList feeds;
    if (has) feeds = {{dp.x, x}, {dp.y, y}};
    std::vector<Tensor> out;
    auto a = step.Step(has ? &feeds : nullptr, has ? x.dim(0) : 0, {}, false, &out);
    ASSERT_TRUE(a.ok()) << a.status();
    if (a->total_samples == 0) break;
    EXPECT_EQ(a->total_samples, end - begin);
    rank_rows += has ? x.dim(0) : 0;
    ++steps;
    Tensor fx, fy;
    Records(begin, end, 1, 0, &fx, &fy);
    ASSERT_TRUE(rs.Run({{ref.x, fx}, {ref.y, fy}}, {}, {*ref_train}, nullptr).ok());
  }
  EXPECT_EQ(steps, (records + global - 1) / global);
  if (device_path) {
    // 8x3 + 3 floats in 64-byte slots: 48 floats, 40-byte buckets of 16
    // (the least): 3 sums per step, every rank every step, one wait each.
    EXPECT_EQ(host_comm->sums, 3 * steps);
    EXPECT_EQ(host_comm->waits, steps + 1);  // + the variables' broadcast
  }
  if (options.overlap && options.batch_size > 0) {
    // Rank r's steps with a batch, each staging both gradients as the
    // session produced them.
    EXPECT_GE(step.gradients_staged_early(), 2 * ((rank_rows + kB - 1) / kB));
  }
  int64_t total = rank_rows;
  ASSERT_TRUE(w->AllreduceSum(&total, 1, "rows").ok());
  EXPECT_EQ(total, records);
  for (auto [a, b] : {std::pair{dp.w, ref.w}, std::pair{dp.b, ref.b}}) {
    Tensor got = *ds.ReadVariable(a), want = *rs.ReadVariable(b);
    float max_diff = 0;
    for (int64_t i = 0; i < got.NumElements(); ++i) {
      max_diff = std::max(max_diff, std::abs(got.data<float>()[i] - want.data<float>()[i]));
    }
    EXPECT_LT(max_diff, 2e-5) << a.op_name();
    EXPECT_GT(std::abs(want.data<float>()[0] - (a.op_name() == "w" ? -0.25f : 0.0f)), 1e-3)
        << "training moved nothing";
  }
  auto sha = VariablesSha256(&ds, {dp.w, dp.b});
  ASSERT_TRUE(sha.ok());
  char root_sha[65] = {};
  std::strncpy(root_sha, sha->c_str(), 64);
  ASSERT_TRUE(w->Broadcast(root_sha, sizeof(root_sha), "sha").ok());
  EXPECT_EQ(*sha, std::string(root_sha)) << "rank " << r << " differs from rank 0";
}

// Averaged after the run (Average: copy in weighted, scale after).
TEST(DataParallelTest, NRanksWithBatchBEqualOneRankWithBatchNB) {
  ExpectNRanksWithBatchBEqualOneRankWithBatchNB({.batch_size = 0});
}

// Weighted in the graph, summed in the arena after the backward pass.
TEST(DataParallelTest, WeightedInTheGraphEqualsOneRankWithBatchNB) {
  ExpectNRanksWithBatchBEqualOneRankWithBatchNB({.batch_size = 1, .overlap = false});
}

// Weighted in the graph, staged and reduced during the backward pass.
TEST(DataParallelTest, OverlappedWithTheBackwardPassEqualsOneRankWithBatchNB) {
  ExpectNRanksWithBatchBEqualOneRankWithBatchNB({.batch_size = 1, .overlap = true});
}

// The NCCL path's step logic (MpiHostCommunicator above in place of NCCL,
// a simulated GPU's arena): exact weights samples/total agreed before the
// backward pass, uneven final batch and idle ranks included.
TEST(DataParallelTest, DevicePathStepLogicEqualsOneRankWithBatchNB) {
  ExpectNRanksWithBatchBEqualOneRankWithBatchNB({.batch_size = 1, .overlap = false},
                                                /*device_path=*/true);
}

// Counts, over all ranks, how often each id was seen; every count must be
// `times`.
void ExpectEachIdSeen(std::vector<int64_t> seen, int64_t times, const std::string& what) {
  ASSERT_TRUE(W()->AllreduceSum(seen.data(), seen.size(), "counts").ok());
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], times) << what << ": record " << i;
  }
}

// The Dataset path: each epoch every record once across ranks, uneven
// files, shares from (rank, size, epoch, seed), order changing per epoch;
// a single file falls back to record sharding.
TEST(ShardedInputTest, DatasetPathSeesEveryRecordOncePerEpoch) {
  const std::string dir = SharedTempDir();
  const std::vector<int> counts{3, 17, 8, 1, 11, 6};  // 46 records, uneven
  for (bool one_file : {false, true}) {
    const std::string sub = dir + (one_file ? "/one" : "/many");
    if (W()->rank() == 0) std::filesystem::create_directories(sub);
    ASSERT_TRUE(W()->Barrier("dir").ok());
    const std::vector<std::string> files =
        WriteIdFiles(sub, one_file ? std::vector<int>{46} : counts);
    std::set<std::vector<int64_t>> orders;
    for (int epoch = 0; epoch < 3; ++epoch) {
      ShardPlan plan = PlanEpochShard(files, W()->rank(), W()->size(), epoch, 9);
      EXPECT_EQ(plan.record_sharding, one_file && W()->size() > 1);
      Dataset ds = ShardedRecords(plan, {}).Shuffle(16, ShuffleSeed(9, epoch, W()->rank())).Batch(5);
      auto it = ds.MakeIterator();
      ASSERT_TRUE(it.ok()) << it.status();
      std::vector<int64_t> seen(46, 0), order;
      while (true) {
        auto b = (*it)->GetNext();
        if (absl::IsOutOfRange(b.status())) break;
        ASSERT_TRUE(b.ok()) << b.status();
        for (int64_t i = 0; i < (*b)[0].NumElements(); ++i) {
          const int64_t id = IdOf((*b)[0].string(i));
          ++seen[id];
          order.push_back(id);
        }
      }
      orders.insert(order);
      ExpectEachIdSeen(seen, 1, absl::StrCat("epoch ", epoch, one_file ? " (one file)" : ""));
    }
    EXPECT_EQ(orders.size(), 3u) << "the order must change every epoch";
  }
}

// The queue path: string_input_producer sharded by rank (or, with fewer
// files than ranks, every file read and every N-th record kept, with a
// note saying so), TFRecordReader, shuffle_batch with a short final batch:
// over E epochs every record is seen E times across ranks (a shuffle
// queue mixes neighbouring epochs, as TensorFlow's does).
void ExpectQueuePathSeesEveryRecordOncePerEpoch(const std::vector<int>& counts,
                                                bool want_record_sharding) {
  const std::string dir = SharedTempDir();
  const std::vector<std::string> files = WriteIdFiles(dir, counts);
  int64_t records = 0;
  for (int c : counts) records += c;
  constexpr int kEpochs = 3;
  const QueueShardPlan plan = PlanQueueShard(files.size(), W()->rank(), W()->size());
  EXPECT_EQ(plan.record_sharding, want_record_sharding);
  if (want_record_sharding) {
    EXPECT_THAT(plan.note, testing::HasSubstr("shards by record")) << "never silently";
  }
  InputCollections c;
  Coordinator coord;
  ProducerOptions po;
  po.num_epochs = kEpochs;
  po.seed = 3;  // the same on every rank: one order of files everywhere
  plan.Apply(&po);
  auto producer = StringInputProducer(files, po, &c);
  ASSERT_TRUE(producer.ok()) << producer.status();
  auto reader = std::make_shared<TFRecordReaderOp>(TFRecordReaderOptions{});
  auto sharder = std::make_shared<RecordSharder>(plan.num_shards, plan.index);
  const bool by_record = plan.record_sharding;
  BatchOptions bo;
  bo.batch_size = 4;
  bo.capacity = 64;
  bo.min_after_dequeue = 8;
  bo.enqueue_many = true;
  bo.dtypes = {DType::kString};
  bo.shapes = {TensorShape{}};
  bo.seed = 11 + W()->rank();
  bo.allow_smaller_final_batch = true;
  auto batches = ShuffleBatch(
      [q = producer->queue, reader, sharder,
       by_record](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
        while (true) {
          SLUICE_ASSIGN_OR_RETURN(TensorTuple kv, reader->ReadUpTo(q.get(), 3, w));
          if (!by_record) return TensorTuple{std::move(kv[1])};
          Tensor mine = sharder->Keep(kv[1]);
          if (mine.dim(0) > 0) return TensorTuple{std::move(mine)};
        }
      },
      bo, &c);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<int64_t> seen(records, 0);
  while (true) {
    auto b = batches->Dequeue(WaitOptions::Timeout(absl::Seconds(60), coord.stop_token()));
    if (absl::IsOutOfRange(b.status())) break;
    ASSERT_TRUE(b.ok()) << b.status();
    for (int64_t i = 0; i < (*b)[0].NumElements(); ++i) ++seen[IdOf((*b)[0].string(i))];
  }
  coord.RequestStop();
  ASSERT_TRUE(coord.Join(absl::Seconds(30)).ok());
  ExpectEachIdSeen(seen, kEpochs, "queue path");
}

TEST(ShardedInputTest, QueuePathSeesEveryRecordOncePerEpoch) {
  ExpectQueuePathSeesEveryRecordOncePerEpoch({5, 9, 2, 13, 7, 1, 4, 6}, false);  // 47 records
}

// Fewer files than ranks (uneven): record sharding, said in the plan.
TEST(ShardedInputTest, QueuePathWithFewerFilesThanRanksShardsByRecord) {
  if (W()->size() < 2) GTEST_SKIP() << "needs 2 ranks";
  std::vector<int> counts{29};
  if (W()->size() > 2) counts = {12, 5, 30};
  ExpectQueuePathSeesEveryRecordOncePerEpoch(counts, true);
}

// A stop asked on the last rank reaches every rank at the same step.
TEST(DataParallelTest, StopOnOneRankStopsEveryRankAtTheSameStep) {
  World* w = W();
  GradientAllreducer ar(w);
  int stopped_at = -1;
  for (int s = 0; s < 10; ++s) {
    std::vector<Tensor> g{Tensor::FromVector<float>({1.0f}, {1})};
    auto a = ar.Average(&g, 1, /*stop=*/w->rank() == w->size() - 1 && s == 3, "stop test");
    ASSERT_TRUE(a.ok()) << a.status();
    if (a->stop) {
      stopped_at = s;
      break;
    }
  }
  EXPECT_EQ(stopped_at, 3);
  int64_t sum = stopped_at;
  ASSERT_TRUE(w->AllreduceSum(&sum, 1, "stop step").ok());
  EXPECT_EQ(sum, 3 * w->size());
}

}  // namespace
}  // namespace sluice::distributed
