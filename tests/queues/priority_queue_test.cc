// PriorityQueue conformance: checklist items 68–71 of
// docs/spec/tf1-pipeline-semantics.md §8. Component 0 is the int64 priority,
// declared by the caller.
#include "queues/priority_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::BgDequeueMany;
using ::sluice::testing_util::BgDequeueUpTo;
using ::sluice::testing_util::Int64Values;
using ::sluice::testing_util::Soon;
using ::testing::ElementsAre;

// (priority int64 [], payload string [])
QueueOptions PrioOptions(int64_t capacity = 10) {
  QueueOptions o;
  o.name = "prio";
  o.dtypes = {DType::kInt64, DType::kString};
  o.shapes = {TensorShape{}, TensorShape{}};
  o.capacity = capacity;
  return o;
}

std::shared_ptr<PriorityQueue> Prio(int64_t capacity = 10) {
  auto q = PriorityQueue::Create(PrioOptions(capacity));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

TensorTuple Item(int64_t priority, std::string payload) {
  return TensorTuple{Tensor::Scalar<int64_t>(priority), Tensor::StringScalar(payload)};
}

std::vector<std::string> Strings(const Tensor& t) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.emplace_back(t.string(i));
  return out;
}

TEST(PriorityQueueTest, Item68_PriorityComponentMustBeInt64Scalar) {
  QueueOptions not_int64 = PrioOptions();
  not_int64.dtypes[0] = DType::kInt32;
  EXPECT_TRUE(absl::IsInvalidArgument(PriorityQueue::Create(not_int64).status()));

  QueueOptions not_scalar = PrioOptions();
  not_scalar.shapes[0] = TensorShape{2};
  EXPECT_TRUE(absl::IsInvalidArgument(PriorityQueue::Create(not_scalar).status()));

  QueueOptions none;
  EXPECT_TRUE(absl::IsInvalidArgument(PriorityQueue::Create(none).status()));

  QueueOptions count = PrioOptions();
  count.shapes.pop_back();
  EXPECT_TRUE(absl::IsInvalidArgument(PriorityQueue::Create(count).status()));
}

TEST(PriorityQueueTest, Item68_NonScalarPriorityOnEnqueueIsInvalidArgument) {
  // Without declared shapes only the enqueue-time check can catch it.
  QueueOptions o;
  o.dtypes = {DType::kInt64, DType::kString};
  auto q = PriorityQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  TensorTuple bad{Tensor::FromVector<int64_t>({1, 2}, {2}), Tensor::StringScalar("a")};
  absl::Status s = (*q)->Enqueue(bad, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  // EnqueueMany slices priorities per row: rows must be scalars too.
  TensorTuple bad_batch{Tensor::FromVector<int64_t>({1, 2, 3, 4}, {2, 2}),
                        Tensor::FromStrings({"a", "b"}, {2})};
  EXPECT_TRUE(absl::IsInvalidArgument((*q)->EnqueueMany(bad_batch, Soon())));
  EXPECT_EQ((*q)->Size(), 0);
  EXPECT_TRUE((*q)->Enqueue(TensorTuple{Tensor::Scalar<int64_t>(1),
                                        Tensor::StringScalar("ok")},
                            Soon())
                  .ok());
  EXPECT_EQ((*q)->Size(), 1);
}

TEST(PriorityQueueTest, Item69_SmallestPriorityComesOutFirstWithItsPayload) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Item(7, "seven"), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Item(-5, "minus five"), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Item(0, "zero"), Soon()).ok());
  std::vector<int64_t> prios;
  std::vector<std::string> payloads;
  for (int i = 0; i < 3; ++i) {
    auto r = q->Dequeue(Soon());
    ASSERT_TRUE(r.ok()) << r.status();
    prios.push_back((*r)[0].scalar<int64_t>());
    payloads.emplace_back((*r)[1].string(0));
  }
  EXPECT_THAT(prios, ElementsAre(-5, 0, 7));
  EXPECT_THAT(payloads, ElementsAre("minus five", "zero", "seven"));
}

TEST(PriorityQueueTest, Item69_EnqueueManyRowsAreOrderedByTheirOwnPriority) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  TensorTuple batch{Tensor::FromVector<int64_t>({30, 10, 20}, {3}),
                    Tensor::FromStrings({"c", "a", "b"}, {3})};
  ASSERT_TRUE(q->EnqueueMany(batch, Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Item(15, "ab"), Soon()).ok());
  auto r = q->DequeueMany(4, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r, 0), ElementsAre(10, 15, 20, 30));
  EXPECT_THAT(Strings((*r)[1]), ElementsAre("a", "ab", "b", "c"));
}

TEST(PriorityQueueTest, Item70_OpenDequeueManyTakesNothingUntilNAreStored) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Item(5, "e"), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Item(3, "c"), Soon()).ok());
  auto deq = BgDequeueMany(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 2);
  ASSERT_TRUE(q->Enqueue(Item(4, "d"), Soon()).ok());
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r, 0), ElementsAre(3, 4, 5));
  EXPECT_THAT(Strings((*r)[1]), ElementsAre("c", "d", "e"));
  EXPECT_EQ(q->Size(), 0);
}

TEST(PriorityQueueTest, Item71_ClosedQueueDequeueManyFailsUpToReturnsSorted) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Item(9, "i"), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Item(1, "a"), Soon()).ok());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueMany(3, Soon()));
  EXPECT_EQ(q->Size(), 2);
  auto r = q->DequeueUpTo(3, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r, 0), ElementsAre(1, 9));
  EXPECT_THAT(Strings((*r)[1]), ElementsAre("a", "i"));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueMany(3, Soon()));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueUpTo(3, Soon()));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(PriorityQueueTest, Item71_BlockedDequeueUpToGetsSortedRemainderOnClose) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Item(2, "b"), Soon()).ok());
  auto deq = BgDequeueUpTo(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Enqueue(Item(-1, "z"), Soon()).ok());
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 2);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r, 0), ElementsAre(-1, 2));
}

TEST(PriorityQueueTest, Item71_BlockedDequeueManyFailsOnCloseAndKeepsElements) {
  auto q = Prio();
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Item(2, "b"), Soon()).ok());
  auto deq = BgDequeueMany(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, deq->Result());
  EXPECT_EQ(q->Size(), 1);
}

}  // namespace
}  // namespace sluice
