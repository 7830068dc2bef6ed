// tf.train producers and batchers: spec §4 and checklist items 99–108,
// run through real QueueRunners and a Coordinator.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "coordinator/coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/batching.h"
#include "pipeline/producers.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

const WaitOptions kWait() { return WaitOptions::Timeout(absl::Seconds(30)); }

std::string Str(const Tensor& t, int64_t i = 0) { return std::string(t.string(i)); }

// shuffle_batch options for scalar elements of `dtype`.
BatchOptions ShuffleOptions(DType dtype, int64_t batch_size, int64_t capacity,
                            int64_t min_after_dequeue) {
  BatchOptions bo;
  bo.batch_size = batch_size;
  bo.capacity = capacity;
  bo.min_after_dequeue = min_after_dequeue;
  bo.dtypes = {dtype};
  bo.shapes = {TensorShape{}};
  return bo;
}

TEST(ProducerTest, NonPositiveEpochsAndEmptyListAreInvalidArgument) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(StringInputProducer({"a"}, o, &c).status()));
  o.num_epochs = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(StringInputProducer({"a"}, o, &c).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(StringInputProducer({}, {}, &c).status()));
  EXPECT_TRUE(c.runners.runners().empty());
}

TEST(ProducerTest, TwoEpochsInOrderThenOutOfRangeAndTheQueueIsClosed) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 2;
  o.shuffle = false;
  auto p = StringInputProducer({"a", "b", "c"}, o, &c);
  ASSERT_TRUE(p.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<std::string> got;
  while (true) {
    auto e = p->queue->Dequeue(kWait());
    if (absl::IsOutOfRange(e.status())) break;
    ASSERT_TRUE(e.ok()) << e.status();
    got.push_back(Str((*e)[0]));
  }
  EXPECT_THAT(got, ElementsAre("a", "b", "c", "a", "b", "c"));
  EXPECT_TRUE(p->queue->IsClosed());
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(ProducerTest, ShuffledEpochsArePermutationsThatNeverInterleave) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 5;
  o.seed = 11;
  std::vector<std::string> files;
  for (int i = 0; i < 20; ++i) files.push_back("f" + std::to_string(i));
  auto p = StringInputProducer(files, o, &c);
  ASSERT_TRUE(p.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<std::string> got;
  while (true) {
    auto e = p->queue->Dequeue(kWait());
    if (!e.ok()) break;
    got.push_back(Str((*e)[0]));
  }
  ASSERT_EQ(got.size(), 100u);
  std::set<std::vector<std::string>> orders;
  for (int e = 0; e < 5; ++e) {
    std::vector<std::string> epoch(got.begin() + 20 * e, got.begin() + 20 * (e + 1));
    EXPECT_THAT(epoch, UnorderedElementsAreArray(files));
    orders.insert(epoch);
  }
  EXPECT_GT(orders.size(), 1u);  // fresh permutations
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(ProducerTest, EmptyTensorFailsInTheRunnerWithInvalidArgument) {
  InputCollections c;
  auto p = InputProducer(Tensor(DType::kString, TensorShape{0}), {}, &c);
  ASSERT_TRUE(p.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  EXPECT_TRUE(coord.WaitForStop(absl::Seconds(30)));
  absl::Status s = coord.Join(absl::Seconds(30));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

TEST(ProducerTest, RangeAndSliceProducersAndSharding) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 1;
  o.shuffle = false;
  o.num_shards = 3;
  o.shard_index = 1;
  auto r = RangeInputProducer(10, o, &c);
  ASSERT_TRUE(r.ok());
  ProducerOptions so;
  so.num_epochs = 1;
  so.shuffle = false;
  auto s = SliceInputProducer({Tensor::FromVector<int64_t>({10, 20, 30}, TensorShape{3}),
                               Tensor::FromStrings({"x", "y", "z"}, TensorShape{3})},
                              so, &c);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      SliceInputProducer({Tensor::FromVector<int64_t>({1, 2}, TensorShape{2}),
                          Tensor::FromVector<int64_t>({1}, TensorShape{1})},
                         so, &c)
          .status()));
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<int32_t> got;
  while (true) {
    auto e = r->queue->Dequeue(kWait());
    if (!e.ok()) break;
    got.push_back((*e)[0].scalar<int32_t>());
  }
  EXPECT_THAT(got, ElementsAre(1, 4, 7));
  std::vector<std::string> pairs;
  while (true) {
    auto e = s->queue->Dequeue(kWait());
    if (!e.ok()) break;
    pairs.push_back(std::to_string((*e)[0].scalar<int64_t>()) + Str((*e)[1]));
  }
  EXPECT_THAT(pairs, ElementsAre("10x", "20y", "30z"));
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

// A source of the rows of a producer queue.
TensorSource FromQueue(std::shared_ptr<QueueInterface> q) {
  return [q](const WaitOptions& w) { return q->Dequeue(w); };
}

std::vector<int64_t> BatchSizesFromTenRows(bool allow_smaller, int64_t* left_in_queue) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 1;
  o.shuffle = false;
  auto p = RangeInputProducer(10, o, &c);
  EXPECT_TRUE(p.ok());
  BatchOptions bo;
  bo.batch_size = 4;
  bo.dtypes = {DType::kInt32};
  bo.shapes = {TensorShape{}};
  bo.allow_smaller_final_batch = allow_smaller;
  auto b = Batch(FromQueue(p->queue), bo, &c);
  EXPECT_TRUE(b.ok());
  Coordinator coord;
  EXPECT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<int64_t> sizes;
  while (true) {
    auto e = b->Dequeue(kWait());
    if (absl::IsOutOfRange(e.status())) break;
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) break;
    sizes.push_back((*e)[0].dim(0));
  }
  *left_in_queue = b->queue()->Size();
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  return sizes;
}

TEST(BatchTest, FinalSmallerBatchOnlyWhenAllowed) {
  int64_t left = -1;
  EXPECT_THAT(BatchSizesFromTenRows(true, &left), ElementsAre(4, 4, 2));
  EXPECT_EQ(left, 0);
  EXPECT_THAT(BatchSizesFromTenRows(false, &left), ElementsAre(4, 4));
  EXPECT_EQ(left, 2);
}

TEST(BatchTest, RegistersOneRunnerWithOneStepPerThreadOrSource) {
  InputCollections c;
  BatchOptions bo;
  bo.batch_size = 2;
  bo.num_threads = 3;
  bo.dtypes = {DType::kInt64};
  bo.shapes = {TensorShape{}};
  auto src = [](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    return absl::OutOfRangeError("none");
  };
  ASSERT_TRUE(Batch(src, bo, &c).ok());
  ASSERT_TRUE(BatchJoin({src, src}, bo, &c).ok());
  auto runners = c.runners.runners();
  ASSERT_EQ(runners.size(), 2u);
  EXPECT_EQ(runners[0]->num_steps(), 3u);
  EXPECT_EQ(runners[1]->num_steps(), 2u);
}

TEST(BatchTest, SummaryTags) {
  InputCollections c;
  auto src = [](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    return absl::OutOfRangeError("none");
  };
  BatchOptions bo;
  bo.batch_size = 2;
  bo.capacity = 32;
  bo.dtypes = {DType::kInt64};
  bo.shapes = {TensorShape{}};
  auto b = Batch(src, bo, &c);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->summary_tag(), "batch/fraction_of_32_full");
  bo.min_after_dequeue = 10;
  auto s = ShuffleBatch(src, bo, &c);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->summary_tag(), "shuffle_batch/fraction_over_10_of_22_full");
  ASSERT_TRUE(s->queue()->EnqueueMany({Tensor::FromVector<int64_t>(
                                          {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                          TensorShape{16})},
                                      kWait())
                  .ok());
  auto values = c.summaries.Collect();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].tag, "batch/fraction_of_32_full");
  EXPECT_DOUBLE_EQ(values[0].value, 0.0);
  EXPECT_EQ(values[1].tag, "shuffle_batch/fraction_over_10_of_22_full");
  EXPECT_DOUBLE_EQ(values[1].value, 6.0 / 22.0);
}

TEST(ShuffleBatchTest, CapacityBytesCapsTheQueueBesideItsElementCap) {
  // A producer of 100-byte strings that never ends; the shuffle queue may
  // hold 1,000 elements but only 2,500 payload bytes (25 elements, more
  // than min_after_dequeue's 10, so batches still flow).
  InputCollections c;
  auto src = [](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    return TensorTuple{Tensor::StringScalar(std::string(100, 'r'))};
  };
  BatchOptions bo = ShuffleOptions(DType::kString, 4, 1000, 10);
  bo.capacity_bytes = 2500;
  auto b = ShuffleBatch(src, bo, &c);
  ASSERT_TRUE(b.ok()) << b.status();
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  for (int i = 0; i < 20; ++i) {
    auto e = b->Dequeue(kWait());
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ((*e)[0].dim(0), 4);
    const QueueStats s = b->queue()->stats();
    EXPECT_LE(s.bytes_stored, 2500);
    EXPECT_LE(s.size, 25);
  }
  EXPECT_EQ(b->queue()->stats().byte_capacity, 2500);
  EXPECT_TRUE(coord.RequestStop().ok());
  (void)b->queue()->Close(/*cancel_pending_enqueues=*/true);
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  bo.capacity_bytes = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ShuffleBatch(src, bo, &c).status()));
}

TEST(BatchTest, ConstructionErrors) {
  InputCollections c;
  auto src = [](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    return absl::OutOfRangeError("none");
  };
  BatchOptions bo;
  bo.batch_size = 2;
  bo.dtypes = {DType::kFloat32};
  bo.shapes = {TensorShape{-1}};
  EXPECT_TRUE(absl::IsInvalidArgument(Batch(src, bo, &c).status()));  // item 107
  bo.dynamic_pad = true;
  auto padded = Batch(src, bo, &c);
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->queue()->kind(), "PaddingFIFOQueue");
  bo.dynamic_pad = false;
  bo.shapes = {TensorShape{}};
  bo.capacity = 10;
  bo.min_after_dequeue = 10;
  EXPECT_TRUE(absl::IsInvalidArgument(ShuffleBatch(src, bo, &c).status()));  // item 103
  bo.min_after_dequeue = 2;
  KeepInput vec{1, [](const TensorTuple&) -> absl::StatusOr<Tensor> { return Tensor(); }};
  EXPECT_TRUE(absl::IsInvalidArgument(MaybeBatch(src, vec, bo, &c).status()));  // item 108
  KeepInput mat{2, vec.fn};
  bo.enqueue_many = true;
  EXPECT_TRUE(absl::IsInvalidArgument(MaybeBatch(src, mat, bo, &c).status()));
  EXPECT_TRUE(MaybeBatch(src, vec, bo, &c).ok());
}

TEST(BatchTest, MaybeBatchKeepsSelectedRows) {
  InputCollections c;
  int calls = 0;
  auto src = [&calls](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    if (calls++ > 0) return absl::OutOfRangeError("done");
    return TensorTuple{Tensor::FromVector<int64_t>({0, 1, 2, 3, 4, 5}, TensorShape{6})};
  };
  KeepInput even{1, [](const TensorTuple& t) -> absl::StatusOr<Tensor> {
                   Tensor k(DType::kBool, TensorShape{t[0].dim(0)});
                   for (int64_t i = 0; i < t[0].dim(0); ++i) {
                     k.data<bool>()[i] = t[0].data<int64_t>()[i] % 2 == 0;
                   }
                   return k;
                 }};
  BatchOptions bo;
  bo.batch_size = 3;
  bo.enqueue_many = true;
  bo.dtypes = {DType::kInt64};
  bo.shapes = {TensorShape{}};
  auto b = MaybeBatch(src, even, bo, &c);
  ASSERT_TRUE(b.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  auto e = b->Dequeue(kWait());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT((*e)[0].flat<int64_t>(), ElementsAre(0, 2, 4));
  EXPECT_TRUE(absl::IsOutOfRange(b->Dequeue(kWait()).status()));
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(ShuffleBatchTest, DeliversEveryElementOnceAndFinalSmallBatch) {
  InputCollections c;
  ProducerOptions o;
  o.num_epochs = 1;
  o.shuffle = false;
  auto p = RangeInputProducer(1000, o, &c);
  ASSERT_TRUE(p.ok());
  BatchOptions bo = ShuffleOptions(DType::kInt32, 64, 300, 200);
  bo.num_threads = 2;
  bo.seed = 5;
  bo.allow_smaller_final_batch = true;
  auto b = ShuffleBatch(FromQueue(p->queue), bo, &c);
  ASSERT_TRUE(b.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  std::vector<int32_t> got;
  bool in_order = true;
  while (true) {
    auto e = b->Dequeue(kWait());
    if (absl::IsOutOfRange(e.status())) break;
    ASSERT_TRUE(e.ok()) << e.status();
    for (int32_t v : (*e)[0].flat<int32_t>()) {
      if (!got.empty() && v < got.back()) in_order = false;
      got.push_back(v);
    }
  }
  EXPECT_FALSE(in_order);
  std::sort(got.begin(), got.end());
  std::vector<int32_t> want(1000);
  for (int i = 0; i < 1000; ++i) want[i] = i;
  EXPECT_EQ(got, want);
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(ShuffleBatchTest, RunnerErrorReachesJoinAndStopsPromptly) {
  InputCollections c;
  auto src = [](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    return absl::NotFoundError("missing file");
  };
  BatchOptions bo = ShuffleOptions(DType::kInt64, 4, 20, 5);
  auto b = ShuffleBatch(src, bo, &c);
  ASSERT_TRUE(b.ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&c.runners, &coord).ok());
  // The main loop blocks in Dequeue with the coordinator's stop token.
  auto e = b->Dequeue(WaitOptions::Timeout(absl::Seconds(30), coord.stop_token()));
  EXPECT_FALSE(e.ok());
  absl::Status s = coord.Join(absl::Seconds(30));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

}  // namespace
}  // namespace sluice
