#include "core/random.h"

#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(RandomTest, FixedSeedsRepeat) {
  Random a(7, 11), b(7, 11), c(7, 12);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    differs |= x != c.Next64();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  Random r(1, 2);
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    counts[v]++;
  }
  // Chi-square with 9 degrees of freedom; 27.9 is the 0.999 quantile.
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 27.9);
}

TEST(RandomTest, ZeroSeedsAreFreshEachTime) {
  Random a(0, 0), b(0, 0);
  EXPECT_NE(a.Next64(), b.Next64());
}

}  // namespace
}  // namespace sluice
