// RandomShuffleQueue conformance: checklist items 53–61 of
// docs/spec/tf1-pipeline-semantics.md §8 (item 61, sharing, goes through
// QueueRegistry), plus items 1/2/11/29/50 on this queue type.
#include "queues/random_shuffle_queue.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "queues/queue_registry.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::BgDequeue;
using ::sluice::testing_util::BgDequeueMany;
using ::sluice::testing_util::DequeueInt64;
using ::sluice::testing_util::EnqueueAll;
using ::sluice::testing_util::Eventually;
using ::sluice::testing_util::Int64Batch;
using ::sluice::testing_util::Int64Element;
using ::sluice::testing_util::Int64Options;
using ::sluice::testing_util::Int64Scalar;
using ::sluice::testing_util::Int64Values;
using ::sluice::testing_util::Msg;
using ::sluice::testing_util::Soon;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

RandomShuffleQueueOptions RsqOptions(int64_t capacity, int64_t min_after_dequeue,
                                     uint64_t seed = 0, uint64_t seed2 = 0,
                                     std::string name = "rsq") {
  RandomShuffleQueueOptions o;
  o.queue = Int64Options(capacity, std::move(name));
  o.min_after_dequeue = min_after_dequeue;
  o.seed = seed;
  o.seed2 = seed2;
  return o;
}

std::shared_ptr<RandomShuffleQueue> Rsq(int64_t capacity, int64_t min_after_dequeue,
                                        uint64_t seed = 0, uint64_t seed2 = 0,
                                        std::string name = "rsq") {
  auto q = RandomShuffleQueue::Create(
      RsqOptions(capacity, min_after_dequeue, seed, seed2, std::move(name)));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

std::vector<int64_t> Iota(int64_t n, int64_t start = 0) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

// Drains a closed queue with single dequeues.
std::vector<int64_t> DrainClosed(QueueInterface& q) {
  std::vector<int64_t> out;
  for (;;) {
    auto r = q.Dequeue(Soon());
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
      return out;
    }
    out.push_back(Int64Scalar(*r));
  }
}

TEST(RandomShuffleQueueTest, Item1And2_CommonOptionErrorsAreInvalidArgument) {
  RandomShuffleQueueOptions none = RsqOptions(10, 0);
  none.queue.dtypes.clear();
  none.queue.shapes.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(RandomShuffleQueue::Create(none).status()));
  RandomShuffleQueueOptions count = RsqOptions(10, 0);
  count.queue.shapes = {TensorShape{}, TensorShape{}};
  EXPECT_TRUE(absl::IsInvalidArgument(RandomShuffleQueue::Create(count).status()));
}

TEST(RandomShuffleQueueTest, Item53_MinAfterDequeueMustBeNonNegativeAndBelowCapacity) {
  auto negative = RandomShuffleQueue::Create(RsqOptions(10, -1));
  EXPECT_TRUE(absl::IsInvalidArgument(negative.status())) << negative.status();
  auto equal = RandomShuffleQueue::Create(RsqOptions(10, 10));
  EXPECT_TRUE(absl::IsInvalidArgument(equal.status())) << equal.status();
  auto above = RandomShuffleQueue::Create(RsqOptions(10, 11));
  EXPECT_TRUE(absl::IsInvalidArgument(above.status())) << above.status();
  EXPECT_TRUE(RandomShuffleQueue::Create(RsqOptions(10, 9)).ok());
  // Unbounded capacity is INT32_MAX for this check.
  auto unbounded = RandomShuffleQueue::Create(RsqOptions(-1, 1000));
  ASSERT_TRUE(unbounded.ok()) << unbounded.status();
  EXPECT_EQ((*unbounded)->capacity(), INT32_MAX);
  EXPECT_EQ((*unbounded)->stats().min_after_dequeue, 1000);
}

TEST(RandomShuffleQueueTest, Item54_DequeueWaitsForMoreThanMinAfterDequeue) {
  auto q = Rsq(10, 2, 1, 2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  auto deq = BgDequeue(*q);
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 2);
  EnqueueAll(*q, {3});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(q->Size(), 2);
  // No dequeue ever leaves fewer than m stored while open.
  std::vector<int64_t> got = {Int64Scalar(*r)};
  for (int64_t v = 4; v < 30; ++v) {
    EnqueueAll(*q, {v});
    got.push_back(DequeueInt64(*q));
    EXPECT_GE(q->Size(), 2);
  }
  SLUICE_EXPECT_CODE(absl::IsDeadlineExceeded,
                     q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(20))));
  EXPECT_EQ(q->Size(), 2);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  for (int64_t v : DrainClosed(*q)) got.push_back(v);
  EXPECT_THAT(got, UnorderedElementsAreArray(Iota(29, 1)));
}

TEST(RandomShuffleQueueTest, Item55_DequeueManyNeedsMPlusNEnqueuedInTotal) {
  const int64_t m = 2, n = 3;
  auto q = Rsq(10, m, 5, 6);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, n);
  for (int64_t v = 0; v < m + n - 1; ++v) {
    EnqueueAll(*q, {v});
    EXPECT_TRUE(deq->StillRunningAfter(absl::Milliseconds(20))) << "after " << v + 1;
  }
  // It takes what exceeds the reserve as it comes, never the reserve itself.
  ASSERT_TRUE(Eventually([&] { return q->Size() == m; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {m + n - 1});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].shape(), TensorShape({n}));
  EXPECT_GE(q->Size(), m);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  std::vector<int64_t> all = Int64Values(*r);
  for (int64_t v : DrainClosed(*q)) all.push_back(v);
  EXPECT_THAT(all, UnorderedElementsAreArray(Iota(m + n)));
}

TEST(RandomShuffleQueueTest, Item56_CloseReleasesTheMinAfterDequeueReserve) {
  auto q = Rsq(20, 10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2, 3});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, UnorderedElementsAre(1, 2, 3));
  auto r = q->Dequeue(Soon());
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
}

TEST(RandomShuffleQueueTest, Item56_BlockedDequeueIsReleasedByClose) {
  auto q = Rsq(20, 10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {7});
  auto deq = BgDequeue(*q);
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Int64Scalar(*r), 7);
}

TEST(RandomShuffleQueueTest, Item57_ClosedShortQueueDequeueManyFailsUpToReturnsAll) {
  auto q = Rsq(20, 5);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2, 3});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto many = q->DequeueMany(4, Soon());
  EXPECT_TRUE(absl::IsOutOfRange(many.status())) << many.status();
  EXPECT_THAT(Msg(many), HasSubstr("is closed and has insufficient elements"));
  EXPECT_EQ(q->Size(), 3);
  auto up_to = q->DequeueUpTo(4, Soon());
  ASSERT_TRUE(up_to.ok()) << up_to.status();
  EXPECT_THAT(Int64Values(*up_to), UnorderedElementsAre(1, 2, 3));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueUpTo(4, Soon()));
}

TEST(RandomShuffleQueueTest, Item57_PartialDequeueManyRowsReturnToPoolOnClose) {
  auto q = Rsq(20, 1, 3, 4);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 5);
  EnqueueAll(*q, {1, 2, 3});
  // Two rows above the reserve have been taken by the pending request.
  ASSERT_TRUE(Eventually([&] { return q->Size() == 1; }));
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, deq->Result());
  EXPECT_EQ(q->Size(), 3);
  auto rest = q->DequeueUpTo(5, Soon());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(Int64Values(*rest), UnorderedElementsAre(1, 2, 3));
}

TEST(RandomShuffleQueueTest, Item58_OutputIsAPermutationOfTheInput) {
  auto q = Rsq(1000, 10);
  ASSERT_NE(q, nullptr);
  std::vector<int64_t> in = Iota(500);
  // A multiset: some values twice.
  for (int64_t v = 0; v < 50; ++v) in.push_back(v);
  ASSERT_TRUE(q->EnqueueMany(Int64Batch(in), Soon()).ok());
  std::vector<int64_t> out;
  for (int i = 0; i < 100; ++i) out.push_back(DequeueInt64(*q));
  auto many = q->DequeueMany(200, Soon());
  ASSERT_TRUE(many.ok()) << many.status();
  for (int64_t v : Int64Values(*many)) out.push_back(v);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto up_to = q->DequeueUpTo(1000, Soon());
  ASSERT_TRUE(up_to.ok()) << up_to.status();
  for (int64_t v : Int64Values(*up_to)) out.push_back(v);
  EXPECT_EQ(q->Size(), 0);
  EXPECT_THAT(out, UnorderedElementsAreArray(in));
  EXPECT_NE(out, in);  // shuffled: 550! orders, only one of them the input's
}

TEST(RandomShuffleQueueTest, Item58_StringAndMultiComponentRowsStayTogether) {
  RandomShuffleQueueOptions o;
  o.queue.name = "rsq_pairs";
  o.queue.dtypes = {DType::kInt64, DType::kString};
  o.queue.shapes = {TensorShape{}, TensorShape{}};
  o.queue.capacity = 100;
  o.min_after_dequeue = 5;
  auto q = RandomShuffleQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  {
    std::vector<int64_t> ids = Iota(40);
    std::vector<std::string> names;
    for (int64_t i : ids) names.push_back("name-" + std::to_string(i) + std::string(i, '.'));
    ASSERT_TRUE((*q)->EnqueueMany(
        TensorTuple{Tensor::FromVector<int64_t>(absl::Span<const int64_t>(ids), {40}),
                    Tensor::FromStrings(names, {40})},
        Soon()).ok());
  }
  ASSERT_TRUE((*q)->Close(false, Soon()).ok());
  std::vector<int64_t> seen;
  for (;;) {
    auto r = (*q)->DequeueUpTo(7, Soon());
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
      break;
    }
    std::vector<int64_t> ids = Int64Values(*r, 0);
    for (size_t k = 0; k < ids.size(); ++k) {
      EXPECT_EQ(std::string((*r)[1].string(k)),
                "name-" + std::to_string(ids[k]) + std::string(ids[k], '.'));
      seen.push_back(ids[k]);
    }
  }
  EXPECT_THAT(seen, UnorderedElementsAreArray(Iota(40)));
}

std::vector<int64_t> ShuffledOrder(uint64_t seed, uint64_t seed2) {
  auto q = Rsq(200, 20, seed, seed2);
  if (q == nullptr) return {};
  std::vector<int64_t> out;
  // Interleave enqueues and dequeues so selection depends on the stream.
  for (int64_t v = 0; v < 100; ++v) {
    EnqueueAll(*q, {v});
    if (v >= 20 && v % 3 == 0) out.push_back(DequeueInt64(*q));
  }
  EXPECT_TRUE(q->Close(false, Soon()).ok());
  for (int64_t v : DrainClosed(*q)) out.push_back(v);
  return out;
}

TEST(RandomShuffleQueueTest, Item59_FixedSeedsGiveTheSameOrder) {
  std::vector<int64_t> a = ShuffledOrder(42, 7);
  std::vector<int64_t> b = ShuffledOrder(42, 7);
  ASSERT_EQ(a.size(), 100u);
  EXPECT_EQ(a, b);
  // Another seed pair gives another order (deterministically so).
  EXPECT_NE(a, ShuffledOrder(43, 7));
  EXPECT_THAT(a, UnorderedElementsAreArray(Iota(100)));
}

TEST(RandomShuffleQueueTest, Item59_ZeroSeedsDrawFreshSeeds) {
  // Two unseeded queues fed the same sequence agree only with probability
  // about 1/(80! ...): a failure means the seeds are not fresh.
  std::vector<int64_t> a = ShuffledOrder(0, 0);
  std::vector<int64_t> b = ShuffledOrder(0, 0);
  ASSERT_EQ(a.size(), 100u);
  EXPECT_NE(a, b);
}

TEST(RandomShuffleQueueTest, Item60_EnqueueOnClosedQueueNamesTheQueue) {
  auto q = Rsq(10, 0, 0, 0, "shuffle_me");
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  absl::Status s = q->Enqueue(Int64Element(1), Soon());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("RandomShuffleQueue 'shuffle_me' is closed."));
  SLUICE_EXPECT_CODE(absl::IsCancelled, q->EnqueueMany(Int64Batch({1, 2}), Soon()));
  EXPECT_EQ(q->Size(), 0);
}

TEST(RandomShuffleQueueTest, Item61_SharedQueueMustMatchMinAfterDequeueAndSeeds) {
  QueueRegistry registry;
  auto first = registry.GetOrCreate("shared", Rsq(10, 2, 11, 12));
  ASSERT_TRUE(first.ok()) << first.status();

  auto other_min = registry.GetOrCreate("shared", Rsq(10, 3, 11, 12));
  EXPECT_TRUE(absl::IsInvalidArgument(other_min.status())) << other_min.status();
  EXPECT_THAT(Msg(other_min), HasSubstr("min_after_dequeue"));

  auto other_seeds = registry.GetOrCreate("shared", Rsq(10, 2, 11, 13));
  EXPECT_TRUE(absl::IsInvalidArgument(other_seeds.status())) << other_seeds.status();

  auto zero_seeds = registry.GetOrCreate("shared", Rsq(10, 2, 0, 0));
  ASSERT_TRUE(zero_seeds.ok()) << zero_seeds.status();
  EXPECT_EQ(zero_seeds->get(), first->get());

  auto same_seeds = registry.GetOrCreate("shared", Rsq(10, 2, 11, 12));
  ASSERT_TRUE(same_seeds.ok()) << same_seeds.status();
  EXPECT_EQ(same_seeds->get(), first->get());
}

TEST(RandomShuffleQueueTest, Item50_StoppedPartialDequeueManyGivesRowsBack) {
  auto q = Rsq(20, 0, 8, 9);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 4);
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  deq->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, deq->Result());
  EXPECT_EQ(q->Size(), 2);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  EXPECT_THAT(DrainClosed(*q), UnorderedElementsAre(1, 2));
}

}  // namespace
}  // namespace sluice
