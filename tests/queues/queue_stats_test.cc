// Observability: per-queue counts, bytes, blocked time and TensorFlow's
// fill-fraction summaries.

#include <future>
#include <string>

#include "gtest/gtest.h"
#include "queues/fifo_queue.h"
#include "queues/random_shuffle_queue.h"

namespace sluice {
namespace {

QueueOptions Int64Options(int64_t capacity) {
  QueueOptions o;
  o.name = "stats";
  o.dtypes = {DType::kInt64};
  o.shapes = {TensorShape{}};
  o.capacity = capacity;
  return o;
}

TEST(QueueStatsTest, CountsElementsAndPayloadBytesInAndOut) {
  auto q = *FIFOQueue::Create(Int64Options(100));
  ASSERT_TRUE(q->Enqueue({Tensor::Scalar<int64_t>(1)}).ok());
  ASSERT_TRUE(q->EnqueueMany({Tensor::FromVector<int64_t>({2, 3, 4}, {3})}).ok());
  ASSERT_TRUE(q->DequeueMany(2).ok());
  QueueStats s = q->stats();
  EXPECT_EQ(s.elements_in, 4);
  EXPECT_EQ(s.bytes_in, 32);
  EXPECT_EQ(s.elements_out, 2);
  EXPECT_EQ(s.bytes_out, 16);
  EXPECT_EQ(s.size, 2);
  EXPECT_DOUBLE_EQ(s.FractionFull(), 0.02);
  EXPECT_EQ(s.FillSummaryTag(), "fraction_of_100_full");
}

TEST(QueueStatsTest, StringPayloadIsCountedByLength) {
  QueueOptions o;
  o.dtypes = {DType::kString};
  o.shapes = {TensorShape{}};
  auto q = *FIFOQueue::Create(o);
  ASSERT_TRUE(q->Enqueue({Tensor::StringScalar("hello")}).ok());
  EXPECT_EQ(q->stats().bytes_in, 5);
}

TEST(QueueStatsTest, ShuffleQueueReportsFractionOverMinAfterDequeue) {
  RandomShuffleQueueOptions o;
  o.queue = Int64Options(32);
  o.min_after_dequeue = 10;
  auto q = *RandomShuffleQueue::Create(o);
  for (int i = 0; i < 21; ++i) ASSERT_TRUE(q->Enqueue({Tensor::Scalar<int64_t>(i)}).ok());
  QueueStats s = q->stats();
  EXPECT_EQ(s.FillSummaryTag(), "fraction_over_10_of_22_full");
  EXPECT_DOUBLE_EQ(s.FractionOverMinFull(), 11.0 / 22.0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Enqueue({Tensor::Scalar<int64_t>(i)}).ok());
  EXPECT_DOUBLE_EQ(q->stats().FractionOverMinFull(), 16.0 / 22.0);
}

TEST(QueueStatsTest, TimeBlockedOnEmptyAndOnFullIsRecorded) {
  auto q = *FIFOQueue::Create(Int64Options(1));
  auto empty = q->Dequeue(WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(empty.status()));
  ASSERT_TRUE(q->Enqueue({Tensor::Scalar<int64_t>(1)}).ok());
  auto full = q->Enqueue({Tensor::Scalar<int64_t>(2)}, WaitOptions::Timeout(absl::Milliseconds(30)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(full));
  QueueStats s = q->stats();
  EXPECT_GE(s.blocked_on_empty, absl::Milliseconds(25));
  EXPECT_GE(s.blocked_on_full, absl::Milliseconds(25));
  // A timed-out enqueue is not counted as an element in.
  EXPECT_EQ(s.elements_in, 1);
}

}  // namespace
}  // namespace sluice
