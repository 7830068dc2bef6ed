// QueueOptions::byte_capacity: a payload byte cap beside the element cap,
// and its liveness rule: the cap never blocks an enqueue that a dequeue
// needs.

#include <string>

#include "gtest/gtest.h"
#include "queues/fifo_queue.h"
#include "queues/priority_queue.h"
#include "queues/random_shuffle_queue.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing_util::BgDequeueMany;
using testing_util::BgEnqueue;
using testing_util::BgEnqueueMany;
using testing_util::Soon;

QueueOptions StringOptions(int64_t byte_capacity) {
  QueueOptions o;
  o.name = "bytes";
  o.dtypes = {DType::kString};
  o.shapes = {TensorShape{}};
  o.capacity = 1000;
  o.byte_capacity = byte_capacity;
  return o;
}

TensorTuple Str(size_t n, char c = 'x') { return {Tensor::StringScalar(std::string(n, c))}; }

TensorTuple StrBatch(const std::vector<size_t>& sizes) {
  Tensor t(DType::kString, TensorShape{static_cast<int64_t>(sizes.size())});
  for (size_t i = 0; i < sizes.size(); ++i) t.SetString(i, std::string(sizes[i], 'a' + i));
  return {t};
}

TEST(QueueByteCapTest, EnqueueWaitsWhileTheBytesWouldPassTheCap) {
  auto q = *FIFOQueue::Create(StringOptions(100));
  ASSERT_TRUE(q->Enqueue(Str(60), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Str(40), Soon()).ok());  // exactly at the cap
  EXPECT_EQ(q->stats().bytes_stored, 100);
  auto blocked = BgEnqueue(*q, Str(1));
  EXPECT_TRUE(blocked->StillRunningAfter());
  ASSERT_TRUE(q->Dequeue(Soon()).ok());  // frees 60 bytes
  EXPECT_TRUE(blocked->Result().ok());
  EXPECT_EQ(q->Size(), 2);
  EXPECT_EQ(q->stats().bytes_stored, 41);
  EXPECT_EQ(q->stats().byte_capacity, 100);
}

TEST(QueueByteCapTest, DeadlinePassesWhileOverTheCapAndNothingIsLost) {
  auto q = *FIFOQueue::Create(StringOptions(10));
  ASSERT_TRUE(q->Enqueue(Str(8), Soon()).ok());
  absl::Status s = q->Enqueue(Str(8), WaitOptions::Timeout(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(q->Size(), 1);
  EXPECT_EQ(q->stats().bytes_stored, 8);
}

TEST(QueueByteCapTest, AnElementLargerThanTheCapEntersAnEmptyQueue) {
  auto q = *FIFOQueue::Create(StringOptions(10));
  ASSERT_TRUE(q->Enqueue(Str(50), Soon()).ok());
  EXPECT_EQ(q->stats().bytes_stored, 50);
  auto out = q->Dequeue(Soon());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].string(0).size(), 50u);
  EXPECT_EQ(q->stats().bytes_stored, 0);
}

TEST(QueueByteCapTest, EnqueueManyMovesRowsAsBytesFree) {
  auto q = *FIFOQueue::Create(StringOptions(30));
  auto bg = BgEnqueueMany(*q, StrBatch({10, 10, 10, 10, 10}));
  // Three rows fit; the call waits for room for the other two.
  ASSERT_TRUE(bg->StillRunningAfter());
  EXPECT_EQ(q->Size(), 3);
  auto first = q->DequeueMany(2, Soon());
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(bg->Result().ok());
  auto rest = q->DequeueMany(3, Soon());
  ASSERT_TRUE(rest.ok());
  // Order and bytes survive the partial moves: rows a..e in order.
  EXPECT_EQ((*first)[0].string(0), std::string(10, 'a'));
  EXPECT_EQ((*first)[0].string(1), std::string(10, 'b'));
  EXPECT_EQ((*rest)[0].string(0), std::string(10, 'c'));
  EXPECT_EQ((*rest)[0].string(2), std::string(10, 'e'));
  EXPECT_EQ(q->stats().bytes_stored, 0);
}

TEST(QueueByteCapTest, AWaitingDequeueManyIsNeverStarvedByTheCap) {
  // DequeueMany(4) on a priority queue takes nothing until all 4 are there;
  // a cap of 2 elements' bytes must not deadlock it.
  QueueOptions o;
  o.name = "prio";
  o.dtypes = {DType::kInt64, DType::kString};
  o.shapes = {TensorShape{}, TensorShape{}};
  o.capacity = 100;
  o.byte_capacity = 2 * (8 + 10);
  auto q = *PriorityQueue::Create(o);
  auto bg = BgDequeueMany(*q, 4);
  for (int64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(q->Enqueue({Tensor::Scalar<int64_t>(i), Tensor::StringScalar(std::string(10, 'p'))},
                           Soon())
                    .ok());
  }
  auto got = bg->Result();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[0].dim(0), 4);
}

TEST(QueueByteCapTest, ShuffleQueueAlwaysAdmitsItsMinAfterDequeue) {
  RandomShuffleQueueOptions o;
  o.queue = StringOptions(100);  // less than min_after_dequeue's bytes
  o.min_after_dequeue = 5;
  o.seed = 7;
  auto q = *RandomShuffleQueue::Create(o);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(q->Enqueue(Str(50), Soon()).ok()) << i;
  // Now one element is dequeueable and the bytes are over the cap.
  absl::Status s = q->Enqueue(Str(50), WaitOptions::Timeout(absl::Milliseconds(50)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  ASSERT_TRUE(q->Dequeue(Soon()).ok());
  EXPECT_EQ(q->stats().bytes_stored, 250);
}

TEST(QueueByteCapTest, NumericRowsAreCountedByTheirFixedSize) {
  QueueOptions o;
  o.name = "floats";
  o.dtypes = {DType::kFloat32};
  o.shapes = {TensorShape{4}};
  o.capacity = 100;
  o.byte_capacity = 3 * 16;
  auto q = *FIFOQueue::Create(o);
  Tensor batch(DType::kFloat32, TensorShape{5, 4});
  for (int i = 0; i < 20; ++i) batch.data<float>()[i] = static_cast<float>(i);
  auto bg = BgEnqueueMany(*q, {batch});
  ASSERT_TRUE(bg->StillRunningAfter());
  EXPECT_EQ(q->Size(), 3);
  EXPECT_EQ(q->stats().bytes_stored, 48);
  ASSERT_TRUE(q->DequeueMany(3, Soon()).ok());
  EXPECT_TRUE(bg->Result().ok());
  auto rest = q->DequeueMany(2, Soon());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ((*rest)[0].data<float>()[0], 12.0f);
}

}  // namespace
}  // namespace sluice
