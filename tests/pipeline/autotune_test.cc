// AUTOTUNE's model (pipeline/dataset/autotune.h): the M/M/1/n wait and the
// hill climb's choices on stage rates shaped like the benchmarks'.
#include "pipeline/dataset/autotune.h"

#include "gtest/gtest.h"

namespace sluice::autotune {
namespace {

TEST(AutotuneWaitTimeTest, MatchesTheQueueFormula) {
  // Consumer infinitely fast: it waits the whole producer time.
  EXPECT_DOUBLE_EQ(WaitTime(2.0, 0.0, 5), 2.0);
  // No producer time: no wait.
  EXPECT_DOUBLE_EQ(WaitTime(0.0, 1.0, 5), 0.0);
  // Equal rates: p_empty = 1 / (n + 1).
  EXPECT_DOUBLE_EQ(WaitTime(1.0, 1.0, 3), 0.25);
  // x / y = 0.5, n = 1: (1 - 0.5) / (1 - 0.25) = 2/3 of y.
  EXPECT_NEAR(WaitTime(2.0, 1.0, 1), 2.0 * (2.0 / 3.0), 1e-12);
  // A slow consumer (x / y = 4) with a deep buffer almost never waits,
  // and a huge power stays finite.
  EXPECT_LT(WaitTime(1.0, 4.0, 8), 1e-4);
  EXPECT_GE(WaitTime(1.0, 1e6, 1000), 0.0);
  // A deeper buffer never makes the wait longer.
  for (int n = 1; n < 20; ++n)
    EXPECT_LE(WaitTime(1.0, 0.9, n + 1), WaitTime(1.0, 0.9, n));
}

TEST(AutotuneMapTest, FunctionBoundStageTakesEveryCpuAndNoMore) {
  // pipeline.image.jpeg on 2 CPUs: pull 0.7 ms, decode 29 ms per batch.
  MapRates r{.pull_s = 0.7e-3,
             .fn_s = 29e-3,
             .consumer_s = 0,
             .cpu_s = 30e-3,
             .cpus = 2};
  MapChoice c = ChooseMap(r, true, 0, 2, true, 0, 64);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_EQ(c.buffer,
            0);  // a consumer that takes no time gains nothing from a buffer
  EXPECT_NEAR(c.output_s, 15e-3, 1e-9);
  // 16 CPUs and room for 16 calls: 16.
  r.cpus = 16;
  EXPECT_EQ(ChooseMap(r, true, 0, 16, false, 0, 64).parallelism, 16);
  // One CPU: a second call gains nothing.
  r.cpus = 1;
  EXPECT_EQ(ChooseMap(r, true, 0, 4, false, 0, 64).parallelism, 1);
}

TEST(AutotuneMapTest, SerialPullBoundsTheUsefulParallelism) {
  // Pull 10 us, function 30 us: past 4 calls the input lock is the limit.
  MapRates r{
      .pull_s = 10e-6, .fn_s = 30e-6, .consumer_s = 0, .cpu_s = 0, .cpus = 16};
  EXPECT_EQ(ChooseMap(r, true, 0, 16, false, 0, 64).parallelism, 4);
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 8), 10e-6);
}

TEST(AutotuneMapTest, WaitingFunctionsGetParallelismBeyondTheirCpuTime) {
  // A function that sleeps 1 ms on I/O and uses little CPU: the CPU bound
  // does not hold it back, the cap does.
  MapRates r{
      .pull_s = 1e-6, .fn_s = 1e-3, .consumer_s = 0, .cpu_s = 20e-6, .cpus = 2};
  EXPECT_EQ(ChooseMap(r, true, 0, 8, false, 0, 64).parallelism, 8);
}

TEST(AutotuneMapTest, BufferGrowsWhenProducerAndConsumerAreClose) {
  // Producer 1 ms per element at any parallelism (CPU bound), consumer
  // 0.95 ms: a buffer absorbs the variance; the climb stops when a step
  // gains under 1%.
  MapRates r{.pull_s = 0.1e-3,
             .fn_s = 0.9e-3,
             .consumer_s = 0.95e-3,
             .cpu_s = 2e-3,
             .cpus = 2};
  MapChoice c = ChooseMap(r, true, 0, 2, true, 0, 64);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_GT(c.buffer, 2);
  EXPECT_LT(c.buffer, 64);
  // Fixed settings are kept.
  MapChoice fixed = ChooseMap(r, false, 3, 8, false, 5, 64);
  EXPECT_EQ(fixed.parallelism, 3);
  EXPECT_EQ(fixed.buffer, 5);
}

}  // namespace
}  // namespace sluice::autotune
