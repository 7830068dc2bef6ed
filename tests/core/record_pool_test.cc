#include "core/record_pool.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(RecordPoolTest, StoresCopiesReusesFreedSlotsAndReleasesWhenDrained) {
  RecordPool pool;
  std::vector<std::string> recs = {"", "a", std::string(835, 'x'), std::string(70000, 'L')};
  std::vector<std::string_view> views(recs.begin(), recs.end());
  std::vector<char*> ptrs;
  ASSERT_TRUE(pool.StoreAll(views, &ptrs));
  ASSERT_EQ(ptrs.size(), 4u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(std::string_view(ptrs[i], recs[i].size()), recs[i]);
  }
  EXPECT_EQ(pool.live_records(), 4);
  const size_t held = pool.bytes_held();
  EXPECT_GE(held, RecordPool::kSlabBytes + 70000);
  std::vector<uint32_t> sizes = {0, 1, 835, 70000};
  // Free the 835-byte record and store another of the same class: reused.
  char* freed = ptrs[2];
  pool.FreeAll({&ptrs[2], 1}, {&sizes[2], 1});
  std::vector<char*> again;
  std::string_view other(recs[2]);
  ASSERT_TRUE(pool.StoreAll({&other, 1}, &again));
  EXPECT_EQ(again[0], freed);
  // Not drained yet: freeing everything keeps the slabs for reuse.
  ptrs[2] = again[0];
  pool.FreeAll(ptrs, sizes);
  EXPECT_EQ(pool.live_records(), 0);
  EXPECT_GT(pool.bytes_held(), 0u);
  pool.MarkDrained();
  EXPECT_EQ(pool.bytes_held(), 0u);
}

TEST(RecordPoolTest, HoldsLittleMoreThanThePayload) {
  RecordPool pool;
  std::string rec(835, 'r');
  std::vector<std::string_view> views(10000, rec);
  std::vector<char*> ptrs;
  ASSERT_TRUE(pool.StoreAll(views, &ptrs));
  const double ratio = static_cast<double>(pool.bytes_held()) / (10000.0 * 835);
  EXPECT_LT(ratio, 1.06);
  std::vector<uint32_t> sizes(10000, 835);
  pool.FreeAll(ptrs, sizes);
  pool.MarkDrained();
  EXPECT_EQ(pool.bytes_held(), 0u);
}

}  // namespace
}  // namespace sluice
