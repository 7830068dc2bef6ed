// Shared queues through QueueRegistry: checklist items 72–73 of
// docs/spec/tf1-pipeline-semantics.md §8 (item 61, the shuffle-queue fields, is
// in random_shuffle_queue_test.cc).
#include "queues/queue_registry.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "queues/fifo_queue.h"
#include "queues/padding_fifo_queue.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::sluice::testing_util::DequeueInt64;
using ::sluice::testing_util::EnqueueAll;
using ::sluice::testing_util::Int64Options;
using ::sluice::testing_util::Msg;
using ::testing::HasSubstr;

std::shared_ptr<QueueInterface> MakeFifo(QueueOptions o) {
  auto q = FIFOQueue::Create(std::move(o));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

std::shared_ptr<QueueInterface> MakePad(QueueOptions o) {
  auto q = PaddingFIFOQueue::Create(std::move(o));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

TEST(QueueRegistryTest, Item72_SameSharedNameGivesTheSameQueueState) {
  QueueRegistry registry;
  auto a = registry.GetOrCreate("shared", MakeFifo(Int64Options(10)));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = registry.GetOrCreate("shared", MakeFifo(Int64Options(10)));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->get(), b->get());
  EnqueueAll(**a, {1, 2});
  EXPECT_EQ((*b)->Size(), 2);
  EXPECT_EQ(DequeueInt64(**b), 1);
  EXPECT_EQ((*a)->Size(), 1);
  EXPECT_EQ(registry.Lookup("shared").get(), a->get());
}

TEST(QueueRegistryTest, Item72_DifferentNamesAreDifferentQueues) {
  QueueRegistry registry;
  auto a = registry.GetOrCreate("one", MakeFifo(Int64Options(10)));
  auto b = registry.GetOrCreate("two", MakeFifo(Int64Options(10)));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->get(), b->get());
  EnqueueAll(**a, {1});
  EXPECT_EQ((*b)->Size(), 0);
  EXPECT_EQ(registry.Lookup("three"), nullptr);
}

TEST(QueueRegistryTest, Item73_MismatchedCapacityIsInvalidArgumentNamingIt) {
  QueueRegistry registry;
  ASSERT_TRUE(registry.GetOrCreate("q", MakeFifo(Int64Options(10))).ok());
  auto r = registry.GetOrCreate("q", MakeFifo(Int64Options(15)));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("capacity"));
}

TEST(QueueRegistryTest, MismatchedByteCapacityIsInvalidArgumentNamingIt) {
  QueueRegistry registry;
  QueueOptions capped = Int64Options(10);
  capped.byte_capacity = 800;
  ASSERT_TRUE(registry.GetOrCreate("q", MakeFifo(capped)).ok());
  auto r = registry.GetOrCreate("q", MakeFifo(Int64Options(10)));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("byte capacity 800 but requested byte capacity 0"));
  EXPECT_TRUE(registry.GetOrCreate("q", MakeFifo(capped)).ok());
}

TEST(QueueRegistryTest, Item73_MismatchedComponentTypesIsInvalidArgumentNamingThem) {
  QueueRegistry registry;
  ASSERT_TRUE(registry.GetOrCreate("q", MakeFifo(Int64Options(10))).ok());
  QueueOptions other = Int64Options(10);
  other.dtypes = {DType::kInt32};
  auto r = registry.GetOrCreate("q", MakeFifo(other));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("component types"));
  QueueOptions longer = Int64Options(10);
  longer.dtypes = {DType::kInt64, DType::kInt64};
  longer.shapes = {TensorShape{}, TensorShape{}};
  auto r2 = registry.GetOrCreate("q", MakeFifo(longer));
  EXPECT_TRUE(absl::IsInvalidArgument(r2.status())) << r2.status();
  EXPECT_THAT(Msg(r2), HasSubstr("component types"));
}

TEST(QueueRegistryTest, Item73_MismatchedComponentShapesIsInvalidArgumentNamingThem) {
  QueueRegistry registry;
  ASSERT_TRUE(registry.GetOrCreate("q", MakeFifo(Int64Options(10))).ok());
  QueueOptions other = Int64Options(10);
  other.shapes = {TensorShape{3}};
  auto r = registry.GetOrCreate("q", MakeFifo(other));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(Msg(r), HasSubstr("component shapes"));
}

TEST(QueueRegistryTest, Item73_FailedSharingLeavesTheRegisteredQueueInPlace) {
  QueueRegistry registry;
  auto a = registry.GetOrCreate("q", MakeFifo(Int64Options(10)));
  ASSERT_TRUE(a.ok());
  EnqueueAll(**a, {5});
  ASSERT_FALSE(registry.GetOrCreate("q", MakeFifo(Int64Options(11))).ok());
  auto again = registry.GetOrCreate("q", MakeFifo(Int64Options(10)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->get(), a->get());
  EXPECT_EQ((*again)->Size(), 1);
}

TEST(QueueRegistryTest, Item73_PaddingQueueSharingUsesShapeCompatibility) {
  // §1.13: shared-queue matching for padding queues is compatibility.
  QueueOptions declared = Int64Options(10);
  declared.shapes = {TensorShape{-1, 3}};
  QueueOptions narrower = declared;
  narrower.shapes = {TensorShape{4, 3}};
  QueueOptions incompatible = declared;
  incompatible.shapes = {TensorShape{-1, 2}};
  QueueRegistry registry;
  auto a = registry.GetOrCreate("pad", MakePad(declared));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = registry.GetOrCreate("pad", MakePad(narrower));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->get(), a->get());
  auto c = registry.GetOrCreate("pad", MakePad(incompatible));
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  EXPECT_THAT(Msg(c), HasSubstr("component shapes"));
}

TEST(QueueRegistryTest, Item73_DifferentQueueKindIsNotShared) {
  QueueRegistry registry;
  QueueOptions o = Int64Options(10);
  ASSERT_TRUE(registry.GetOrCreate("q", MakeFifo(o)).ok());
  auto r = registry.GetOrCreate("q", MakePad(o));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

}  // namespace
}  // namespace sluice
