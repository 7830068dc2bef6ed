// FIFOQueue conformance: checklist items 1–52 of
// docs/spec/tf1-pipeline-semantics.md §8 (the [QB] items are tested here on the
// FIFO queue), with sluice's divergences: item 4 (per-call deadlines),
// item 50 (a cancelled partial DequeueMany gives its rows back) and the
// session items 47–49/51 mapped to per-call stop tokens and deadlines.
#include "queues/fifo_queue.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::BgClose;
using ::sluice::testing_util::BgDequeue;
using ::sluice::testing_util::BgDequeueMany;
using ::sluice::testing_util::BgDequeueUpTo;
using ::sluice::testing_util::BgEnqueue;
using ::sluice::testing_util::BgEnqueueMany;
using ::sluice::testing_util::BgStatus;
using ::sluice::testing_util::BgTuple;
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

std::shared_ptr<FIFOQueue> Fifo(int64_t capacity, std::string name = "q") {
  auto q = FIFOQueue::Create(Int64Options(capacity, std::move(name)));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

// Two components: an int64 scalar and a float32 vector of length 2.
QueueOptions PairOptions(int64_t capacity) {
  QueueOptions o;
  o.name = "pair";
  o.dtypes = {DType::kInt64, DType::kFloat32};
  o.shapes = {TensorShape{}, TensorShape{2}};
  o.capacity = capacity;
  return o;
}

TensorTuple PairElement(int64_t i) {
  return TensorTuple{Tensor::Scalar<int64_t>(i),
                     Tensor::FromVector<float>({float(i), float(-i)}, TensorShape{2})};
}

// ---------------------------------------------------------------------------
// Construction and validation (items 1–9)

TEST(FIFOQueueTest, Item1_ZeroComponentTypesIsInvalidArgument) {
  QueueOptions o;
  o.capacity = 10;
  auto q = FIFOQueue::Create(o);
  EXPECT_TRUE(absl::IsInvalidArgument(q.status())) << q.status();
}

TEST(FIFOQueueTest, Item2_ShapeCountDifferentFromDtypeCountIsInvalidArgument) {
  QueueOptions o;
  o.dtypes = {DType::kInt64, DType::kFloat32};
  o.shapes = {TensorShape{}};
  auto q = FIFOQueue::Create(o);
  EXPECT_TRUE(absl::IsInvalidArgument(q.status())) << q.status();
}

TEST(FIFOQueueTest, Item3_NegativeCapacityIsUnboundedAndNeverBlocks) {
  auto q = Fifo(-1);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->capacity(), INT32_MAX);
  EXPECT_EQ(q->stats().capacity, INT32_MAX);
  std::vector<int64_t> big(1000);
  std::iota(big.begin(), big.end(), 0);
  EnqueueAll(*q, big);
  EXPECT_TRUE(q->EnqueueMany(Int64Batch(big), Soon()).ok());
  EXPECT_EQ(q->Size(), 2000);
}

TEST(FIFOQueueTest, Item4_TimedOutDequeueIsDeadlineExceededAndChangesNothing) {
  // Divergence: TensorFlow rejects per-op timeouts; sluice honours them.
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  auto r = q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 0);
  EXPECT_FALSE(q->IsClosed());
  EnqueueAll(*q, {5});
  EXPECT_EQ(DequeueInt64(*q), 5);
}

TEST(FIFOQueueTest, Item4_TimedOutEnqueueOnFullQueueStoresNothing) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  absl::Status s = q->Enqueue(Int64Element(3), WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
  // The timed-out element must never show up later.
  auto r = q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

TEST(FIFOQueueTest, Item4_TimedOutDequeueManyWithNoRowsChangesNothing) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  auto r = q->DequeueMany(3, WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 0);
  EnqueueAll(*q, {1, 2, 3});
  auto ok = q->DequeueMany(3, Soon());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(Int64Values(*ok), ElementsAre(1, 2, 3));
}

TEST(FIFOQueueTest, Item4_DeadlineAlreadyPassedOnBlockingCallReturnsAtOnce) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  auto r = q->Dequeue(WaitOptions::Until(absl::Now() - absl::Seconds(1)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EnqueueAll(*q, {1});
  absl::Status s = q->Enqueue(Int64Element(2), WaitOptions::Until(absl::Now() - absl::Seconds(1)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item5_WrongComponentCountIsInvalidArgumentAndQueueUnchanged) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  TensorTuple two{Tensor::Scalar<int64_t>(1), Tensor::Scalar<int64_t>(2)};
  EXPECT_TRUE(absl::IsInvalidArgument(q->Enqueue(two, Soon())));
  EXPECT_TRUE(absl::IsInvalidArgument(q->Enqueue(TensorTuple{}, Soon())));
  TensorTuple two_batch{Tensor::FromVector<int64_t>({1, 2}, {2}),
                        Tensor::FromVector<int64_t>({1, 2}, {2})};
  EXPECT_TRUE(absl::IsInvalidArgument(q->EnqueueMany(two_batch, Soon())));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item6_DtypeMismatchIsInvalidArgumentNamingTheComponent) {
  auto q = FIFOQueue::Create(PairOptions(5));
  ASSERT_TRUE(q.ok()) << q.status();
  TensorTuple bad{Tensor::Scalar<int64_t>(1),
                  Tensor::FromVector<int32_t>({1, 2}, TensorShape{2})};
  absl::Status s = (*q)->Enqueue(bad, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("component 1"));
  EXPECT_EQ((*q)->Size(), 0);
}

TEST(FIFOQueueTest, Item7_EnqueueWithWrongShapeNamesExpectedAndActualShape) {
  QueueOptions o;
  o.dtypes = {DType::kInt32};
  o.shapes = {TensorShape{2}};
  o.capacity = 5;
  auto q = FIFOQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  absl::Status s =
      (*q)->Enqueue(TensorTuple{Tensor::FromVector<int32_t>({1, 2, 3}, {3})}, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("Shape mismatch in tuple component 0. Expected [2], got [3]"));
  EXPECT_EQ((*q)->Size(), 0);
}

TEST(FIFOQueueTest, Item8_EnqueueManyRowsMustHaveTheDeclaredShape) {
  QueueOptions o;
  o.dtypes = {DType::kInt32};
  o.shapes = {TensorShape{2}};
  o.capacity = 10;
  auto q = FIFOQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  // Rows of 3 where 2 are declared.
  absl::Status s = (*q)->EnqueueMany(
      TensorTuple{Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3})}, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  // A single element (no batch dimension) is not a batch of [2] rows either.
  s = (*q)->EnqueueMany(TensorTuple{Tensor::Scalar<int32_t>(1)}, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ((*q)->Size(), 0);
  // [B]+shape is accepted.
  EXPECT_TRUE((*q)->EnqueueMany(
      TensorTuple{Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {3, 2})}, Soon()).ok());
  EXPECT_EQ((*q)->Size(), 3);
}

TEST(FIFOQueueTest, Item9_EnqueueManyWithoutShapesNeedsEqualBatchSizes) {
  QueueOptions o;
  o.dtypes = {DType::kInt64, DType::kInt64};
  o.capacity = 10;
  auto q = FIFOQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  TensorTuple unequal{Tensor::FromVector<int64_t>({1, 2}, {2}),
                      Tensor::FromVector<int64_t>({1, 2, 3}, {3})};
  absl::Status s = (*q)->EnqueueMany(unequal, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ((*q)->Size(), 0);
  TensorTuple equal{Tensor::FromVector<int64_t>({1, 2}, {2}),
                    Tensor::FromVector<int64_t>({3, 4, 5, 6}, {2, 2})};
  EXPECT_TRUE((*q)->EnqueueMany(equal, Soon()).ok());
  EXPECT_EQ((*q)->Size(), 2);
}

// ---------------------------------------------------------------------------
// Enqueue (items 10–17)

TEST(FIFOQueueTest, Item10_EmptyEnqueueManySucceedsEvenOnClosedQueue) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->EnqueueMany(Int64Batch({}), Soon()).ok());
  EXPECT_EQ(q->Size(), 0);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  EXPECT_TRUE(q->EnqueueMany(Int64Batch({}), Soon()).ok());
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item11_EnqueueOnClosedQueueIsCancelledIsClosed) {
  auto q = Fifo(5, "closed_q");
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  absl::Status s = q->Enqueue(Int64Element(2), Soon());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("is closed"));
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item12_EnqueueManyOnClosedQueueIsCancelledIsClosed) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  absl::Status s = q->EnqueueMany(Int64Batch({1, 2}), Soon());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("is closed"));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item13_EnqueueOnFullQueueBlocksUntilOneDequeue) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  auto enq = BgEnqueue(*q, Int64Element(3));
  EXPECT_TRUE(enq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_TRUE(enq->Result().ok());
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 2);
  EXPECT_EQ(DequeueInt64(*q), 3);
}

TEST(FIFOQueueTest, Item14_BigEnqueueManyMovesElementsAsSpaceFrees) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  auto enq = BgEnqueueMany(*q, Int64Batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 5; }));
  EXPECT_TRUE(enq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 5);
  // The first dequeues return its first elements while it is still blocked.
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_EQ(DequeueInt64(*q), 1);
  std::vector<int64_t> rest;
  for (int i = 0; i < 8; ++i) rest.push_back(DequeueInt64(*q));
  EXPECT_THAT(rest, ElementsAre(2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_TRUE(enq->Result().ok());
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item15_EnqueueManyLargerThanCapacityCompletesWhenDrained) {
  auto q = Fifo(3);
  ASSERT_NE(q, nullptr);
  std::vector<int64_t> vals(20);
  std::iota(vals.begin(), vals.end(), 100);
  auto enq = BgEnqueueMany(*q, Int64Batch(vals));
  std::vector<int64_t> got;
  for (int i = 0; i < 20; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_EQ(got, vals);
  EXPECT_TRUE(enq->Result().ok());
}

TEST(FIFOQueueTest, Item16_LaterEnqueueNeverOvertakesBlockedEnqueueMany) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2, 3}));
  // It has reached the queue once its first row is in.
  ASSERT_TRUE(Eventually([&] { return q->Size() == 2; }));
  auto single = BgEnqueue(*q, Int64Element(9));
  EXPECT_TRUE(single->StillRunningAfter());
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, ElementsAre(0, 1, 2, 3, 9));
  EXPECT_TRUE(many->Result().ok());
  EXPECT_TRUE(single->Result().ok());
}

TEST(FIFOQueueTest, Item17_CancellingClosePartialEnqueueManyKeepsMovedRows) {
  auto q = Fifo(3);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2, 3, 4}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 3; }));
  ASSERT_TRUE(q->Close(true, Soon()).ok());
  absl::Status s = many->Result();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(q->Size(), 3);
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item17_TimedOutPartialEnqueueManyKeepsMovedRows) {
  auto q = Fifo(3);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  absl::Status s = q->EnqueueMany(Int64Batch({1, 2, 3, 4}),
                                  WaitOptions::Timeout(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(q->Size(), 3);
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, ElementsAre(0, 1, 2));
  // The rows not moved are gone for good: the queue is usable and empty.
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(30))).status()));
}

TEST(FIFOQueueTest, Item17_StoppedPartialEnqueueManyKeepsMovedRows) {
  auto q = Fifo(3);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2, 3, 4}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 3; }));
  many->RequestStop();
  absl::Status s = many->Result();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(q->Size(), 3);
  EXPECT_FALSE(q->IsClosed());
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, ElementsAre(0, 1, 2));
  EnqueueAll(*q, {7});
  EXPECT_EQ(DequeueInt64(*q), 7);
}

// ---------------------------------------------------------------------------
// Dequeue (items 18–37)

TEST(FIFOQueueTest, Item18_DequeueOnEmptyQueueBlocksUntilEnqueue) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeue(*q);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {42});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Int64Scalar(*r), 42);
}

TEST(FIFOQueueTest, Item19_MixedEnqueueAndEnqueueManyKeepGlobalOrder) {
  auto q = Fifo(20);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  ASSERT_TRUE(q->EnqueueMany(Int64Batch({1, 2, 3}), Soon()).ok());
  EnqueueAll(*q, {4});
  ASSERT_TRUE(q->EnqueueMany(Int64Batch({5, 6}), Soon()).ok());
  EnqueueAll(*q, {7});
  std::vector<int64_t> got;
  got.push_back(DequeueInt64(*q));
  auto two = q->DequeueMany(2, Soon());
  ASSERT_TRUE(two.ok()) << two.status();
  for (int64_t v : Int64Values(*two)) got.push_back(v);
  for (int i = 0; i < 2; ++i) got.push_back(DequeueInt64(*q));
  auto rest = q->DequeueMany(3, Soon());
  ASSERT_TRUE(rest.ok()) << rest.status();
  for (int64_t v : Int64Values(*rest)) got.push_back(v);
  EXPECT_THAT(got, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
}

TEST(FIFOQueueTest, Item20_DequeueOnClosedEmptyQueueIsOutOfRangeWithSizes) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = q->Dequeue(Soon());
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
  EXPECT_THAT(Msg(r),
              HasSubstr("is closed and has insufficient elements (requested 1, current size 0)"));
}

TEST(FIFOQueueTest, Item21_ClosedQueueDrainsThenOutOfRange) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2, 3});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
  EXPECT_EQ(DequeueInt64(*q), 3);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item22_BlockedDequeueFailsOutOfRangeWhenClosed) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeue(*q);
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, deq->Result());
}

TEST(FIFOQueueTest, Item23_NegativeBatchSizeIsInvalidArgument) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1});
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, q->DequeueMany(-1, Soon()));
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, q->DequeueUpTo(-1, Soon()));
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item24_DequeueManyWithoutShapesIsInvalidArgumentEvenForZero) {
  QueueOptions o;
  o.dtypes = {DType::kInt64};
  o.capacity = 5;
  auto q = FIFOQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE((*q)->Enqueue(Int64Element(1), Soon()).ok());
  ASSERT_TRUE((*q)->Enqueue(Int64Element(2), Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, (*q)->DequeueMany(1, Soon()));
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, (*q)->DequeueMany(0, Soon()));
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, (*q)->DequeueUpTo(1, Soon()));
  SLUICE_EXPECT_CODE(absl::IsInvalidArgument, (*q)->DequeueUpTo(0, Soon()));
  EXPECT_EQ((*q)->Size(), 2);
}

void ExpectEmptyPairBatch(const absl::StatusOr<TensorTuple>& r) {
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].dtype(), DType::kInt64);
  EXPECT_EQ((*r)[0].shape(), TensorShape({0}));
  EXPECT_EQ((*r)[1].dtype(), DType::kFloat32);
  EXPECT_EQ((*r)[1].shape(), TensorShape({0, 2}));
}

TEST(FIFOQueueTest, Item25_DequeueManyZeroReturnsEmptyBatchOpenClosedOrEmpty) {
  auto made = FIFOQueue::Create(PairOptions(5));
  ASSERT_TRUE(made.ok()) << made.status();
  QueueInterface& q = **made;
  ExpectEmptyPairBatch(q.DequeueMany(0, Soon()));  // open, empty
  ASSERT_TRUE(q.Enqueue(PairElement(1), Soon()).ok());
  ExpectEmptyPairBatch(q.DequeueMany(0, Soon()));  // open, non-empty
  EXPECT_EQ(q.Size(), 1);
  ASSERT_TRUE(q.Close(false, Soon()).ok());
  ExpectEmptyPairBatch(q.DequeueMany(0, Soon()));  // closed, non-empty
  EXPECT_EQ(q.Size(), 1);
  ASSERT_TRUE(q.Dequeue(Soon()).ok());
  ExpectEmptyPairBatch(q.DequeueMany(0, Soon()));  // closed, empty
  // DequeueUpTo shares TensorFlow's n == 0 early return.
  ExpectEmptyPairBatch(q.DequeueUpTo(0, Soon()));
}

TEST(FIFOQueueTest, Item26_DequeueManyStacksTheNextElementsInOrder) {
  auto made = FIFOQueue::Create(PairOptions(10));
  ASSERT_TRUE(made.ok()) << made.status();
  QueueInterface& q = **made;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Enqueue(PairElement(i), Soon()).ok());
  auto r = q.DequeueMany(3, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].shape(), TensorShape({3}));
  EXPECT_EQ((*r)[1].shape(), TensorShape({3, 2}));
  EXPECT_THAT(Int64Values(*r, 0), ElementsAre(0, 1, 2));
  auto f = (*r)[1].flat<float>();
  EXPECT_THAT(std::vector<float>(f.begin(), f.end()), ElementsAre(0, -0.0f, 1, -1, 2, -2));
  EXPECT_EQ(q.Size(), 2);
  auto next = q.Dequeue(Soon());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(Int64Scalar(*next), 3);
}

TEST(FIFOQueueTest, Item26_DequeueManyStacksStringElementsThatOutliveTheirSource) {
  QueueOptions o;
  o.dtypes = {DType::kString};
  o.shapes = {TensorShape{2}};
  o.capacity = 10;
  auto q = FIFOQueue::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  {
    // The caller's tensors go away; the queue keeps the bytes alive.
    std::string long_value(100, 'x');
    ASSERT_TRUE((*q)->Enqueue(TensorTuple{Tensor::FromStrings({"a", long_value}, {2})}, Soon()).ok());
    ASSERT_TRUE((*q)->EnqueueMany(
        TensorTuple{Tensor::FromStrings({"b", "bb", "c", "cc"}, {2, 2})}, Soon()).ok());
  }
  auto r = (*q)->DequeueMany(3, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& t = (*r)[0];
  ASSERT_EQ(t.shape(), TensorShape({3, 2}));
  std::vector<std::string> got;
  for (int64_t i = 0; i < t.NumElements(); ++i) got.emplace_back(t.string(i));
  EXPECT_THAT(got, ElementsAre("a", std::string(100, 'x'), "b", "bb", "c", "cc"));
}

TEST(FIFOQueueTest, Item27_DequeueManyLargerThanCapacityCompletesAfterNEnqueues) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 4);
  for (int64_t i = 0; i < 3; ++i) EnqueueAll(*q, {i});
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {3});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item28_SizeExcludesRowsHeldByPendingDequeueMany) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {1, 2});
  // The pending request at the head holds both rows; they are not stored.
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_EQ(q->Size(), 0);
  EnqueueAll(*q, {3});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3));
}

TEST(FIFOQueueTest, Item29_DequeueManyOnClosedShortQueueIsOutOfRangeAndKeepsAll) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = q->DequeueMany(3, Soon());
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("is closed and has insufficient elements"));
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
}

TEST(FIFOQueueTest, Item30_ClosedBlockingDequeueManyRestoresPartialBatchAtFront) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 4);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {10, 20, 30});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = deq->Result();
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 3);
  EXPECT_EQ(DequeueInt64(*q), 10);
  EXPECT_EQ(DequeueInt64(*q), 20);
  EXPECT_EQ(DequeueInt64(*q), 30);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item30_RestoredRowsComeBeforeRowsOfADeferredCloseBatch) {
  // Rows enqueued behind the partial request but before a deferred close
  // went to that request; on close they all come back in arrival order.
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 5);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(q->EnqueueMany(Int64Batch({3, 4}), Soon()).ok());
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, deq->Result());
  auto r = q->DequeueUpTo(10, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3, 4));
}

TEST(FIFOQueueTest, Item31_DequeueManyOnClosedQueueWithEnoughSucceeds) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2, 3, 4});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = q->DequeueMany(3, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueMany(3, Soon()));
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item31_BlockedDequeueManyWithEnoughSucceedsAcrossClose) {
  // t: testBlockingDequeueManyButNotAllFromClosedQueue.
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2, 3, 4});
  auto first = q->DequeueMany(2, Soon());
  ASSERT_TRUE(first.ok());
  auto deq = BgDequeueMany(*q, 2);
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(3, 4));
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueMany(1, Soon()));
}

TEST(FIFOQueueTest, Item32_DequeueUpToOnOpenQueueBlocksForFullBatch) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  auto deq = BgDequeueUpTo(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {3, 4});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3));
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item33_DequeueUpToOnClosedShortQueueReturnsWhatIsLeft) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = q->DequeueUpTo(5, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].shape(), TensorShape({2}));
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item34_DequeueUpToOnClosedEmptyQueueIsOutOfRange) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueUpTo(*q, 4);
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = deq->Result();
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("is closed and has insufficient"));
  auto again = q->DequeueUpTo(4, Soon());
  EXPECT_TRUE(absl::IsOutOfRange(again.status())) << again.status();
}

TEST(FIFOQueueTest, Item35_BlockedDequeueUpToReturnsPartialPlusRemainderOnClose) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {10, 20, 30, 40});
  auto first = q->DequeueUpTo(3, Soon());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(Int64Values(*first), ElementsAre(10, 20, 30));
  auto deq = BgDequeueUpTo(*q, 3);
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {50});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(40, 50));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueUpTo(3, Soon()));
}

TEST(FIFOQueueTest, Item36_ParallelDequeueUpToOnClosedQueueHandsOutEachOnce) {
  auto q = Fifo(1000);
  ASSERT_NE(q, nullptr);
  std::vector<int64_t> vals(1000);
  std::iota(vals.begin(), vals.end(), 0);
  ASSERT_TRUE(q->EnqueueMany(Int64Batch(vals), Soon()).ok());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  std::vector<std::unique_ptr<BgTuple>> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(BgDequeueUpTo(*q, 101));
  std::vector<int64_t> got;
  std::vector<int64_t> sizes;
  for (auto& c : calls) {
    auto r = c->Result();
    ASSERT_TRUE(r.ok()) << r.status();
    auto v = Int64Values(*r);
    sizes.push_back(static_cast<int64_t>(v.size()));
    got.insert(got.end(), v.begin(), v.end());
    // Each batch is itself in FIFO order.
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  }
  EXPECT_THAT(got, UnorderedElementsAreArray(vals));
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes.front(), 91);
  EXPECT_EQ(sizes.back(), 101);
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item37_BlockedDequeueManyAtHeadGetsElementsBeforeLaterDequeue) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1});
  auto many = BgDequeueMany(*q, 3);
  // It has reached the queue once it holds the first element.
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  auto single = BgDequeue(*q);
  EXPECT_TRUE(single->StillRunningAfter());
  EnqueueAll(*q, {2});
  EXPECT_TRUE(single->StillRunningAfter());
  EXPECT_EQ(q->Size(), 0);
  EnqueueAll(*q, {3});
  auto r = many->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3));
  EXPECT_TRUE(single->StillRunningAfter());
  EnqueueAll(*q, {4});
  auto s = single->Result();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Int64Scalar(*s), 4);
}

// ---------------------------------------------------------------------------
// Close (items 38–46)

TEST(FIFOQueueTest, Item38_DeferredCloseWaitsForEarlierBlockedEnqueues) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 2; }));
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  // Item 40: the pending close is not visible.
  EXPECT_FALSE(q->IsClosed());
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_TRUE(many->Result().ok());
  EXPECT_TRUE(close->Result().ok());
  EXPECT_TRUE(q->IsClosed());
}

TEST(FIFOQueueTest, Item38_DeferredCloseWaitsForEarlierSingleEnqueue) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto enq = BgEnqueue(*q, Int64Element(1));
  EXPECT_TRUE(enq->StillRunningAfter());  // gives it time to reach the queue
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  EXPECT_FALSE(q->IsClosed());
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_TRUE(enq->Result().ok());
  EXPECT_TRUE(close->Result().ok());
  EXPECT_TRUE(q->IsClosed());
  EXPECT_EQ(DequeueInt64(*q), 1);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item39_AllElementsEnqueuedBeforeDeferredCloseAreDelivered) {
  auto q = Fifo(4);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 4; }));
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  std::vector<int64_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, ElementsAre(0, 1, 2, 3, 4, 5, 6));
  EXPECT_TRUE(many->Result().ok());
  EXPECT_TRUE(close->Result().ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item40_IsClosedFalseWhileDeferredCloseIsPending) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1}));
  EXPECT_TRUE(many->StillRunningAfter());
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  EXPECT_FALSE(q->IsClosed());
  // Pending dequeues are served as on an open queue meanwhile.
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_TRUE(close->Result().ok());
  EXPECT_TRUE(q->IsClosed());
  EXPECT_TRUE(many->Result().ok());
  EXPECT_EQ(DequeueInt64(*q), 1);
}

TEST(FIFOQueueTest, Item41_EnqueueSubmittedBehindDeferredCloseIsCancelled) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 2; }));
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());  // gives it time to reach the queue
  auto late = BgEnqueue(*q, Int64Element(99));
  EXPECT_TRUE(late->StillRunningAfter());
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_TRUE(many->Result().ok());
  EXPECT_TRUE(close->Result().ok());
  absl::Status s = late->Result();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("is closed"));
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item42_CancellingCloseFailsBlockedEnqueuesAtOnce) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto enq = BgEnqueue(*q, Int64Element(1));
  auto many = BgEnqueueMany(*q, Int64Batch({2, 3}));
  EXPECT_TRUE(enq->StillRunningAfter());
  EXPECT_TRUE(many->StillRunningAfter());
  EXPECT_TRUE(q->Close(true, Soon()).ok());
  EXPECT_TRUE(q->IsClosed());
  absl::Status a = enq->Result();
  absl::Status b = many->Result();
  EXPECT_TRUE(absl::IsCancelled(a)) << a;
  EXPECT_TRUE(absl::IsCancelled(b)) << b;
  EXPECT_THAT(Msg(a), HasSubstr("was cancelled"));
  EXPECT_THAT(Msg(b), HasSubstr("was cancelled"));
  EXPECT_EQ(q->Size(), 1);
  EXPECT_EQ(DequeueInt64(*q), 0);
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(FIFOQueueTest, Item43_SecondCloseIsCancelledUnlessItCancelsPending) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  absl::Status s = q->Close(false, Soon());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("is already closed"));
  EXPECT_TRUE(q->Close(true, Soon()).ok());
  EXPECT_TRUE(q->Close(true, Soon()).ok());
  EXPECT_TRUE(q->IsClosed());
}

TEST(FIFOQueueTest, Item44_PendingDeferredCloseIsCancelledByCancellingClose) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto many = BgEnqueueMany(*q, Int64Batch({1}));
  EXPECT_TRUE(many->StillRunningAfter());
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  EXPECT_TRUE(q->Close(true, Soon()).ok());
  absl::Status c = close->Result();
  EXPECT_TRUE(absl::IsCancelled(c)) << c;
  SLUICE_EXPECT_CODE(absl::IsCancelled, many->Result());
  EXPECT_TRUE(q->IsClosed());
  EXPECT_EQ(q->Size(), 1);
}

TEST(FIFOQueueTest, Item45_CloseNeverCancelsPendingDequeuers) {
  for (bool cancel : {false, true}) {
    SCOPED_TRACE(cancel ? "Close(true)" : "Close(false)");
    auto q = Fifo(10);
    ASSERT_NE(q, nullptr);
    auto up_to = BgDequeueUpTo(*q, 3);
    EXPECT_TRUE(up_to->StillRunningAfter());
    EnqueueAll(*q, {1, 2});
    ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
    auto single = BgDequeue(*q);
    EXPECT_TRUE(single->StillRunningAfter());
    ASSERT_TRUE(q->Close(cancel, Soon()).ok());
    auto r = up_to->Result();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2));
    SLUICE_EXPECT_CODE(absl::IsOutOfRange, single->Result());
  }
}

TEST(FIFOQueueTest, Item45_ClosedDequeueManyRestoreFeedsTheNextPendingDequeue) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto many = BgDequeueMany(*q, 3);
  EXPECT_TRUE(many->StillRunningAfter());
  EnqueueAll(*q, {1});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  auto single = BgDequeue(*q);
  EXPECT_TRUE(single->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, many->Result());
  // The restored row is there for the dequeue queued behind.
  auto s = single->Result();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Int64Scalar(*s), 1);
}

TEST(FIFOQueueTest, Item46_ClosedQueueStaysClosed) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Close(true, Soon()).ok());
  EXPECT_TRUE(q->IsClosed());
  SLUICE_EXPECT_CODE(absl::IsCancelled, q->Close(false, Soon()));
  EXPECT_TRUE(q->IsClosed());
  SLUICE_EXPECT_CODE(absl::IsCancelled, q->Enqueue(Int64Element(1), Soon()));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
  EXPECT_TRUE(q->IsClosed());
}

// ---------------------------------------------------------------------------
// Session-level items mapped to per-call stop tokens and deadlines (47–52)

TEST(FIFOQueueTest, Item47_StopTokenCancelsEachKindOfBlockedCall) {
  auto full = Fifo(1);
  auto empty = Fifo(1);
  ASSERT_NE(full, nullptr);
  ASSERT_NE(empty, nullptr);
  EnqueueAll(*full, {0});
  auto enq = BgEnqueue(*full, Int64Element(1));
  auto many = BgEnqueueMany(*full, Int64Batch({2, 3}));
  auto deq = BgDequeue(*empty);
  auto deq_many = BgDequeueMany(*empty, 2);
  EXPECT_TRUE(enq->StillRunningAfter());
  EXPECT_TRUE(many->StillRunningAfter());
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_TRUE(deq_many->StillRunningAfter());
  enq->RequestStop();
  many->RequestStop();
  deq->RequestStop();
  deq_many->RequestStop();
  absl::Status results[] = {enq->Result(), many->Result(), deq->Result().status(),
                            deq_many->Result().status()};
  for (const absl::Status& s : results) {
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
    EXPECT_THAT(Msg(s), HasSubstr("was cancelled"));
  }
  EXPECT_FALSE(full->IsClosed());
  EXPECT_FALSE(empty->IsClosed());
  EXPECT_EQ(full->Size(), 1);
  EXPECT_EQ(empty->Size(), 0);
}

TEST(FIFOQueueTest, Item47_StopTokenCancelsBlockedDequeueUpToAndClose) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  auto up_to = BgDequeueUpTo(*q, 2);
  EXPECT_TRUE(up_to->StillRunningAfter());
  up_to->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, up_to->Result());

  EnqueueAll(*q, {0});
  auto enq = BgEnqueue(*q, Int64Element(1));
  EXPECT_TRUE(enq->StillRunningAfter());
  auto close = BgClose(*q, false);
  EXPECT_TRUE(close->StillRunningAfter());
  close->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, close->Result());
  EXPECT_FALSE(q->IsClosed());
  EXPECT_EQ(DequeueInt64(*q), 0);
  EXPECT_TRUE(enq->Result().ok());
  EXPECT_FALSE(q->IsClosed());
}

TEST(FIFOQueueTest, Item47_AlreadyTriggeredStopTokenCancelsWithoutTouchingQueue) {
  // §1.4/§1.6: an already-cancelled caller fails at once, even when the
  // call could have completed.
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  std::stop_source stop;
  stop.request_stop();
  absl::Status s = q->Enqueue(Int64Element(1), WaitOptions::StopOn(stop.get_token()));
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(q->Size(), 0);
  EnqueueAll(*q, {2});
  auto r = q->Dequeue(WaitOptions::StopOn(stop.get_token()));
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
}

TEST(FIFOQueueTest, Item48_DeadlineOnEmptyDequeueIsDeadlineExceeded) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  auto r = q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  auto m = q->DequeueMany(2, WaitOptions::Timeout(absl::Milliseconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(m.status())) << m.status();
  auto u = q->DequeueUpTo(2, WaitOptions::Timeout(absl::Milliseconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(u.status())) << u.status();
  EnqueueAll(*q, {1, 2, 3, 4, 5});
  absl::Status e = q->Enqueue(Int64Element(6), WaitOptions::Timeout(absl::Milliseconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(e)) << e;
}

TEST(FIFOQueueTest, Item49_QueueIsReusableAfterTimedOutDequeues) {
  auto q = Fifo(5);
  ASSERT_NE(q, nullptr);
  for (int i = 0; i < 2; ++i) {
    auto r = q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(10)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  }
  EnqueueAll(*q, {37});
  EXPECT_EQ(DequeueInt64(*q), 37);
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item49_QueueIsReusableAfterEachKindOfTimeout) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  const auto short_wait = [] { return WaitOptions::Timeout(absl::Milliseconds(10)); };
  SLUICE_EXPECT_CODE(absl::IsDeadlineExceeded, q->DequeueMany(1, short_wait()));
  SLUICE_EXPECT_CODE(absl::IsDeadlineExceeded, q->DequeueUpTo(1, short_wait()));
  EnqueueAll(*q, {1});
  SLUICE_EXPECT_CODE(absl::IsDeadlineExceeded, q->Enqueue(Int64Element(2), short_wait()));
  SLUICE_EXPECT_CODE(absl::IsDeadlineExceeded, q->EnqueueMany(Int64Batch({3}), short_wait()));
  EXPECT_EQ(q->Size(), 1);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EnqueueAll(*q, {37});
  auto r = q->DequeueMany(1, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(37));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item50_StoppedPartialDequeueManyPutsRowsBackAtFront) {
  // Divergence: TensorFlow drops the rows; sluice gives them back in order.
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 3);
  EXPECT_TRUE(deq->StillRunningAfter());
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  deq->RequestStop();
  auto r = deq->Result();
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 2);
  EnqueueAll(*q, {3});
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
  EXPECT_EQ(DequeueInt64(*q), 3);
}

TEST(FIFOQueueTest, Item50_TimedOutPartialDequeueManyPutsRowsBackAtFront) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  auto r = q->DequeueMany(3, WaitOptions::Timeout(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 2);
  EnqueueAll(*q, {3});
  auto all = q->DequeueMany(3, Soon());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Int64Values(*all), ElementsAre(1, 2, 3));
}

TEST(FIFOQueueTest, Item50_TimedOutPartialDequeueUpToPutsRowsBackAtFront) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {1, 2});
  auto r = q->DequeueUpTo(3, WaitOptions::Timeout(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 1);
  EXPECT_EQ(DequeueInt64(*q), 2);
}

TEST(FIFOQueueTest, Item50_RowsGoBackAheadOfADequeueWaitingBehind) {
  // The request behind the cancelled one gets the restored rows first.
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto many = BgDequeueMany(*q, 3);
  EXPECT_TRUE(many->StillRunningAfter());
  EnqueueAll(*q, {1, 2});
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  auto next = BgDequeueMany(*q, 2);
  EXPECT_TRUE(next->StillRunningAfter());
  many->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, many->Result());
  auto r = next->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2));
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item51_CancelledDequeueHasNoOtherEffect) {
  auto q = Fifo(10);
  ASSERT_NE(q, nullptr);
  auto first = BgDequeue(*q);
  EXPECT_TRUE(first->StillRunningAfter());
  auto second = BgDequeue(*q);
  EXPECT_TRUE(second->StillRunningAfter());
  // Cancel the head one: the one behind it is served next, normally.
  first->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, first->Result());
  EnqueueAll(*q, {1});
  auto r = second->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Int64Scalar(*r), 1);
  EnqueueAll(*q, {2, 3});
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(DequeueInt64(*q), 2);
  EXPECT_EQ(DequeueInt64(*q), 3);
}

TEST(FIFOQueueTest, Item51_CancelledEnqueueBehindTheHeadHasNoOtherEffect) {
  auto q = Fifo(1);
  ASSERT_NE(q, nullptr);
  EnqueueAll(*q, {0});
  auto head = BgEnqueue(*q, Int64Element(1));
  EXPECT_TRUE(head->StillRunningAfter());
  auto middle = BgEnqueue(*q, Int64Element(2));
  EXPECT_TRUE(middle->StillRunningAfter());
  auto tail = BgEnqueue(*q, Int64Element(3));
  EXPECT_TRUE(tail->StillRunningAfter());
  middle->RequestStop();
  SLUICE_EXPECT_CODE(absl::IsCancelled, middle->Result());
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(DequeueInt64(*q));
  EXPECT_THAT(got, ElementsAre(0, 1, 3));
  EXPECT_TRUE(head->Result().ok());
  EXPECT_TRUE(tail->Result().ok());
  EXPECT_EQ(q->Size(), 0);
}

TEST(FIFOQueueTest, Item52_SizeCountsOnlyStoredElements) {
  auto q = Fifo(2);
  ASSERT_NE(q, nullptr);
  // Rows of a pending EnqueueMany that are not yet moved are not counted.
  auto many = BgEnqueueMany(*q, Int64Batch({1, 2, 3, 4, 5}));
  ASSERT_TRUE(Eventually([&] { return q->Size() == 2; }));
  EXPECT_TRUE(many->StillRunningAfter());
  EXPECT_EQ(q->Size(), 2);
  // Rows held by a pending DequeueMany are not counted either.
  auto deq = BgDequeueMany(*q, 6);
  ASSERT_TRUE(many->FinishesWithin());
  EXPECT_TRUE(many->Result().ok());
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  EXPECT_EQ(q->stats().size, 0);
  EnqueueAll(*q, {6});
  auto r = deq->Result();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Int64Values(*r), ElementsAre(1, 2, 3, 4, 5, 6));
}

}  // namespace
}  // namespace sluice
