// Tests for gpu_test_main.cc's exit status, chosen by --gtest_filter from
// check_gpu_test_main.cmake (these are not run on their own: Fail.* fails
// on purpose).
#include "gtest/gtest.h"

namespace {

TEST(Skip, First) { GTEST_SKIP() << "as a GPU test without a device"; }
TEST(Skip, Second) { GTEST_SKIP() << "as a GPU test without a device"; }
TEST(Pass, One) { EXPECT_EQ(1 + 1, 2); }
TEST(Fail, One) { ADD_FAILURE() << "a failure gpu_test_main must not hide"; }

}  // namespace
