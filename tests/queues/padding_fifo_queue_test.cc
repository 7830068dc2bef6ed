// PaddingFIFOQueue conformance: checklist items 62–67 of
// docs/spec/tf1-pipeline-semantics.md §8.
#include "queues/padding_fifo_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::BgDequeueMany;
using ::sluice::testing_util::Eventually;
using ::sluice::testing_util::Msg;
using ::sluice::testing_util::Soon;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

QueueOptions PadOptions(std::vector<DType> dtypes, std::vector<TensorShape> shapes,
                        int64_t capacity = 10) {
  QueueOptions o;
  o.name = "pad";
  o.dtypes = std::move(dtypes);
  o.shapes = std::move(shapes);
  o.capacity = capacity;
  return o;
}

std::shared_ptr<PaddingFIFOQueue> Pad(std::vector<DType> dtypes, std::vector<TensorShape> shapes,
                                      int64_t capacity = 10) {
  auto q = PaddingFIFOQueue::Create(PadOptions(std::move(dtypes), std::move(shapes), capacity));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

TensorTuple Int32Vec(std::vector<int32_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return TensorTuple{
      Tensor::FromVector<int32_t>(absl::Span<const int32_t>(v.data(), v.size()), {n})};
}

std::vector<int32_t> Int32Flat(const Tensor& t) {
  auto f = t.flat<int32_t>();
  return std::vector<int32_t>(f.begin(), f.end());
}

TEST(PaddingFIFOQueueTest, Item62_ShapesAreRequiredOnePerComponent) {
  auto none = PaddingFIFOQueue::Create(PadOptions({DType::kInt32}, {}));
  EXPECT_TRUE(absl::IsInvalidArgument(none.status())) << none.status();
  auto fewer = PaddingFIFOQueue::Create(
      PadOptions({DType::kInt32, DType::kString}, {TensorShape{-1}}));
  EXPECT_TRUE(absl::IsInvalidArgument(fewer.status())) << fewer.status();
  auto no_types = PaddingFIFOQueue::Create(PadOptions({}, {}));
  EXPECT_TRUE(absl::IsInvalidArgument(no_types.status())) << no_types.status();
  EXPECT_TRUE(PaddingFIFOQueue::Create(PadOptions({DType::kInt32}, {TensorShape{-1, 3}})).ok());
}

TEST(PaddingFIFOQueueTest, Item63_KnownDimsMustMatchUnknownDimsAreFree) {
  auto q = Pad({DType::kInt32}, {TensorShape{3, -1}});
  ASSERT_NE(q, nullptr);
  Tensor wrong(DType::kInt32, TensorShape{4, 5});
  absl::Status s = q->Enqueue(TensorTuple{wrong}, Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(Msg(s), HasSubstr("component 0"));
  Tensor wrong_rank(DType::kInt32, TensorShape{3});
  EXPECT_TRUE(absl::IsInvalidArgument(q->Enqueue(TensorTuple{wrong_rank}, Soon())));
  EXPECT_EQ(q->Size(), 0);
  EXPECT_TRUE(q->Enqueue(TensorTuple{Tensor::Zeros(DType::kInt32, {3, 7})}, Soon()).ok());
  // EnqueueMany is checked against [B] + declared.
  EXPECT_TRUE(
      q->EnqueueMany(TensorTuple{Tensor::Zeros(DType::kInt32, {2, 3, 9})}, Soon()).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      q->EnqueueMany(TensorTuple{Tensor::Zeros(DType::kInt32, {2, 4, 9})}, Soon())));
  EXPECT_EQ(q->Size(), 3);
}

TEST(PaddingFIFOQueueTest, Item64_SingleDequeueReturnsTheUnpaddedElement) {
  auto q = Pad({DType::kInt32}, {TensorShape{-1}});
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Int32Vec({1, 2}), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Int32Vec({3, 4, 5, 6}), Soon()).ok());
  auto a = q->Dequeue(Soon());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)[0].shape(), TensorShape({2}));
  EXPECT_THAT(Int32Flat((*a)[0]), ElementsAre(1, 2));
  auto b = q->Dequeue(Soon());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)[0].shape(), TensorShape({4}));
  EXPECT_THAT(Int32Flat((*b)[0]), ElementsAre(3, 4, 5, 6));
}

TEST(PaddingFIFOQueueTest, Item65_DequeueManyPadsToTheLongestWithZeros) {
  auto q = Pad({DType::kInt32}, {TensorShape{-1}});
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Int32Vec({1, 2}), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Int32Vec({3, 4, 5, 6}), Soon()).ok());
  auto r = q->DequeueMany(2, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].shape(), TensorShape({2, 4}));
  EXPECT_THAT(Int32Flat((*r)[0]), ElementsAre(1, 2, 0, 0, 3, 4, 5, 6));
}

TEST(PaddingFIFOQueueTest, Item65_StringsPadWithEmptyAndBoolsWithFalse) {
  auto q = Pad({DType::kString, DType::kBool, DType::kInt32},
               {TensorShape{-1}, TensorShape{-1, 2}, TensorShape{}});
  ASSERT_NE(q, nullptr);
  TensorTuple a{Tensor::FromStrings({"x"}, {1}),
                Tensor::FromVector<bool>({true, true}, {1, 2}), Tensor::Scalar<int32_t>(1)};
  TensorTuple b{Tensor::FromStrings({"p", "q", "r"}, {3}),
                Tensor::FromVector<bool>({true, true, true, true}, {2, 2}),
                Tensor::Scalar<int32_t>(2)};
  ASSERT_TRUE(q->Enqueue(a, Soon()).ok());
  ASSERT_TRUE(q->Enqueue(b, Soon()).ok());
  auto r = q->DequeueMany(2, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& s = (*r)[0];
  ASSERT_EQ(s.shape(), TensorShape({2, 3}));
  std::vector<std::string> strings;
  for (int64_t i = 0; i < s.NumElements(); ++i) strings.emplace_back(s.string(i));
  EXPECT_THAT(strings, ElementsAre("x", "", "", "p", "q", "r"));
  const Tensor& f = (*r)[1];
  ASSERT_EQ(f.shape(), TensorShape({2, 2, 2}));
  auto bools = f.flat<bool>();
  EXPECT_THAT(std::vector<bool>(bools.begin(), bools.end()),
              ElementsAre(true, true, false, false, true, true, true, true));
  EXPECT_EQ((*r)[2].shape(), TensorShape({2}));
  EXPECT_THAT(Int32Flat((*r)[2]), ElementsAre(1, 2));
}

TEST(PaddingFIFOQueueTest, Item65_PaddingIsTopLeftInEveryUnknownDim) {
  auto q = Pad({DType::kInt32}, {TensorShape{-1, -1}});
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(TensorTuple{Tensor::FromVector<int32_t>({1, 2, 3}, {1, 3})}, Soon()).ok());
  ASSERT_TRUE(q->Enqueue(TensorTuple{Tensor::FromVector<int32_t>({4, 5}, {2, 1})}, Soon()).ok());
  auto r = q->DequeueMany(2, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)[0].shape(), TensorShape({2, 2, 3}));
  EXPECT_THAT(Int32Flat((*r)[0]), ElementsAre(1, 2, 3, 0, 0, 0,  //
                                              4, 0, 0, 5, 0, 0));
}

TEST(PaddingFIFOQueueTest, Item66_DequeueManyZeroHasUnknownDimsAsZero) {
  auto q = Pad({DType::kInt32, DType::kString}, {TensorShape{-1, 3}, TensorShape{2, -1}});
  ASSERT_NE(q, nullptr);
  auto r = q->DequeueMany(0, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].shape(), TensorShape({0, 0, 3}));
  EXPECT_EQ((*r)[1].shape(), TensorShape({0, 2, 0}));
  EXPECT_EQ((*r)[1].dtype(), DType::kString);
}

TEST(PaddingFIFOQueueTest, Item67_ClosedShortQueueBehavesLikeFIFO) {
  auto q = Pad({DType::kInt32}, {TensorShape{-1}});
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue(Int32Vec({1}), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Int32Vec({2, 2, 2}), Soon()).ok());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  auto many = q->DequeueMany(3, Soon());
  EXPECT_TRUE(absl::IsOutOfRange(many.status())) << many.status();
  EXPECT_THAT(Msg(many), HasSubstr("is closed and has insufficient elements"));
  EXPECT_EQ(q->Size(), 2);
  auto up_to = q->DequeueUpTo(3, Soon());
  ASSERT_TRUE(up_to.ok()) << up_to.status();
  EXPECT_EQ((*up_to)[0].shape(), TensorShape({2, 3}));
  EXPECT_THAT(Int32Flat((*up_to)[0]), ElementsAre(1, 0, 0, 2, 2, 2));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->DequeueUpTo(3, Soon()));
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, q->Dequeue(Soon()));
}

TEST(PaddingFIFOQueueTest, Item67_PartialBatchIsRestoredInOrderUnpadded) {
  auto q = Pad({DType::kInt32}, {TensorShape{-1}});
  ASSERT_NE(q, nullptr);
  auto deq = BgDequeueMany(*q, 3);
  ASSERT_TRUE(q->Enqueue(Int32Vec({1}), Soon()).ok());
  ASSERT_TRUE(q->Enqueue(Int32Vec({2, 2, 2}), Soon()).ok());
  ASSERT_TRUE(Eventually([&] { return q->Size() == 0; }));
  EXPECT_TRUE(deq->StillRunningAfter());
  ASSERT_TRUE(q->Close(false, Soon()).ok());
  SLUICE_EXPECT_CODE(absl::IsOutOfRange, deq->Result());
  EXPECT_EQ(q->Size(), 2);
  auto a = q->Dequeue(Soon());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(Int32Flat((*a)[0]), ElementsAre(1));
  auto b = q->Dequeue(Soon());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(Int32Flat((*b)[0]), ElementsAre(2, 2, 2));
}

}  // namespace
}  // namespace sluice
