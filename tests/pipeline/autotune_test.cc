// AUTOTUNE's model (pipeline/dataset/autotune.h): the M/M/1/n wait, the
// reorder stall and the hill climb's choices on synthetic stage timings
// shaped like the benchmarks'.
#include "pipeline/dataset/autotune.h"

#include <algorithm>
#include <cmath>

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
  // Calls of one length and a consumer that takes no time: no buffer.
  EXPECT_EQ(c.buffer, 0);
  EXPECT_NEAR(c.output_s, 15e-3, 1e-9);
  // 16 CPUs and room for 16 calls: 16.
  r.cpus = 16;
  EXPECT_EQ(ChooseMap(r, true, 0, 16, false, 0, 64).parallelism, 16);
  // One CPU: a second call gains nothing.
  r.cpus = 1;
  EXPECT_EQ(ChooseMap(r, true, 0, 4, false, 0, 64).parallelism, 1);
}

TEST(AutotuneReorderStallTest, FollowsTheLagOfTheHead) {
  MapRates r{.pull_s = 0, .fn_s = 30e-3, .fn_sd_s = 3e-3, .cpus = 2};
  // One call in flight or no spread: results are never parked.
  EXPECT_EQ(ReorderStall(r, 1, 0), 0.0);
  MapRates even = r;
  even.fn_sd_s = 0;
  EXPECT_EQ(ReorderStall(even, 2, 0), 0.0);
  // No buffer: (p - 1) / p * E[D+], D ~ Normal(0, 2 s^2): s / sqrt(pi) / 2.
  EXPECT_NEAR(ReorderStall(r, 2, 0), 3e-3 / std::sqrt(M_PI) / 2, 1e-12);
  // Each slot shrinks it; one call's time of slack (30 ms against a 4.2 ms
  // spread of the lag) leaves next to nothing.
  for (int b = 0; b < 8; ++b) {
    EXPECT_GE(ReorderStall(r, 2, b + 1), 0.0);
    EXPECT_LE(ReorderStall(r, 2, b + 1), ReorderStall(r, 2, b));
  }
  EXPECT_LT(ReorderStall(r, 2, 1), 1e-3 * ReorderStall(r, 2, 0));
  EXPECT_GT(ReorderStall(r, 2, 1), 0.0);
  // A wider spread stalls more at the same buffer.
  MapRates wide = r;
  wide.fn_sd_s = 15e-3;
  EXPECT_GT(ReorderStall(wide, 2, 1), ReorderStall(r, 2, 1));
  EXPECT_DOUBLE_EQ(MapOutputTime(even, 2, 0), 15e-3);
}

TEST(AutotuneMapTest, SpreadCallsGetAResultBuffer) {
  // pipeline.image.jpeg on 2 CPUs, batches of 64 decoded in 29 +- 3 ms
  // (the consumer takes no time): with no buffer the thread whose batch is
  // done first waits for the other; one spare slot covers the spread.
  MapRates r{.pull_s = 0.7e-3,
             .fn_s = 29e-3,
             .fn_sd_s = 3e-3,
             .consumer_s = 0,
             .cpu_s = 30e-3,
             .cpus = 2};
  MapChoice c = ChooseMap(r, true, 0, 2, true, 0, 64);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_EQ(c.buffer, 1);
  EXPECT_NEAR(c.output_s, 15e-3, 1e-5);
  // A machine that preempts the threads (spread as large as the call):
  // more slack, still bounded well below the limit.
  r.fn_sd_s = 29e-3;
  MapChoice wide = ChooseMap(r, true, 0, 2, true, 0, 64);
  EXPECT_EQ(wide.parallelism, 2);
  EXPECT_GT(wide.buffer, c.buffer);
  EXPECT_LE(wide.buffer, 6);
  // A fixed parallelism keeps its value while the buffer is tuned.
  MapChoice fixed_p = ChooseMap(r, false, 4, 8, true, 0, 64);
  EXPECT_EQ(fixed_p.parallelism, 4);
  EXPECT_GT(fixed_p.buffer, 0);
}

TEST(AutotuneMapTest, TheClimbComesCloseToTheBestSetting) {
  // Synthetic rates (calls of 80 us, their spread, CPUs, consumers slower
  // and faster): the climb's choice is within 10% of the best (parallelism,
  // buffer) of an exhaustive search (the climb stops where a step gains
  // under 1%: buffer steps of a consumer as fast as its producer add up to
  // ~6% there).
  for (const int cpus : {2, 4, 8}) {
    for (const double spread : {0.0, 0.3, 1.0, 3.0}) {
      for (const double consumer : {0.0, 10e-6, 40e-6, 100e-6}) {
        MapRates r{.pull_s = 5e-6,
                   .fn_s = 80e-6,
                   .fn_sd_s = spread * 80e-6,
                   .consumer_s = consumer,
                   .cpu_s = 85e-6,
                   .cpus = cpus};
        double best = MapOutputTime(r, 1, 0);
        for (int p = 1; p <= cpus; ++p) {
          for (int64_t b = 0; b <= 16; ++b)
            best = std::min(best, MapOutputTime(r, p, b));
        }
        const MapChoice c = ChooseMap(r, true, 0, cpus, true, 0, 16);
        EXPECT_LE(c.output_s, 1.10 * best)
            << "cpus " << cpus << " spread " << spread << " consumer "
            << consumer;
        EXPECT_NEAR(c.output_s, MapOutputTime(r, c.parallelism, c.buffer),
                    1e-15);
      }
    }
  }
  // With the CPU share and memory budgets: the climb's choice is within 10%
  // of the best setting inside both, and is itself inside both.
  for (const double share : {1.0, 0.7, 0.5, 0.3, 0.1}) {
    for (const double spread : {0.0, 1.0}) {
      for (const double consumer : {0.0, 10e-6, 40e-6}) {
        for (const int64_t budget : {int64_t{0}, int64_t{4} << 20, int64_t{1} << 20}) {
          MapRates r{.pull_s = 5e-6,
                     .fn_s = 80e-6,
                     .fn_sd_s = spread * 80e-6,
                     .consumer_s = consumer,
                     .cpu_s = 85e-6 * share + 5e-6,
                     .cpus = 2,
                     .call_cpu_fraction = share,
                     .result_bytes = 200e3};
          const int cap = ParallelismCap(r, 8);
          double best = MapOutputTime(r, 1, 0);
          for (int p = 1; p <= cap; ++p) {
            for (int64_t b = 0; b <= 16; ++b) {
              if (budget > 0 && HeldBytes(r, p, b) > static_cast<double>(budget)) continue;
              best = std::min(best, MapOutputTime(r, p, b));
            }
          }
          const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 16, budget);
          EXPECT_LE(c.output_s, 1.10 * best)
              << "share " << share << " spread " << spread << " consumer " << consumer
              << " budget " << budget;
          EXPECT_LE(c.parallelism, cap);
          if (budget > 0) {
            EXPECT_LE(HeldBytes(r, c.parallelism, c.buffer), static_cast<double>(budget));
          }
        }
      }
    }
  }
  // The spread counts at most the call's own time: a rare long stall does
  // not buy a deep buffer.
  MapRates wide{.pull_s = 5e-6,
                .fn_s = 80e-6,
                .fn_sd_s = 240e-6,
                .cpu_s = 85e-6,
                .cpus = 2};
  MapRates capped = wide;
  capped.fn_sd_s = 80e-6;
  EXPECT_DOUBLE_EQ(ReorderStall(wide, 2, 3), ReorderStall(capped, 2, 3));
  EXPECT_LE(ChooseMap(wide, true, 0, 2, true, 0, 64).buffer, 6);
}

TEST(AutotuneMapTest, SlowConsumerStillGetsTheCallsThatKeepItBusy) {
  // The consumer needs 20 ms per batch, one call 29 ms: one call would
  // leave it waiting; the choice keeps it within 5% of its own time.
  MapRates r{.pull_s = 0.7e-3,
             .fn_s = 29e-3,
             .fn_sd_s = 3e-3,
             .consumer_s = 20e-3,
             .cpu_s = 50e-3,
             .cpus = 4};
  MapChoice c = ChooseMap(r, true, 0, 4, true, 0, 64);
  EXPECT_GE(c.parallelism, 2);
  EXPECT_LT(c.output_s, 1.05 * r.consumer_s);
  // A consumer 3x slower than one call: two calls hide the producer's
  // variance (M/M/1/n); no more calls and no deep buffer.
  r.consumer_s = 100e-3;
  r.cpu_s = 130e-3;
  MapChoice slow = ChooseMap(r, true, 0, 4, true, 0, 64);
  EXPECT_LE(slow.parallelism, 2);
  EXPECT_LE(slow.buffer, 2);
  EXPECT_LT(slow.output_s, 1.01 * r.consumer_s);
}

TEST(AutotuneMapTest, SerialPullBoundsTheUsefulParallelism) {
  // Pull 10 us, function 30 us: past 4 calls the input lock is the limit.
  MapRates r{
      .pull_s = 10e-6, .fn_s = 30e-6, .consumer_s = 0, .cpu_s = 0, .cpus = 16};
  EXPECT_EQ(ChooseMap(r, true, 0, 16, false, 0, 64).parallelism, 4);
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 8), 10e-6);
}

TEST(AutotuneMapTest, WaitingFunctionsGetParallelismBeyondTheirCpuTime) {
  // A function that sleeps 1 ms on I/O and uses 20 us of CPU (2% of its
  // time on a CPU): neither the CPU time nor the CPU budget holds it back,
  // the ceiling does.
  MapRates r{.pull_s = 1e-6,
             .fn_s = 1e-3,
             .consumer_s = 0,
             .cpu_s = 20e-6,
             .cpus = 2,
             .call_cpu_fraction = 0.02};
  EXPECT_EQ(ChooseMap(r, true, 0, 8, false, 0, 64).parallelism, 8);
  // The same calls with their CPU share unknown count as CPU-bound.
  r.call_cpu_fraction = 1;
  EXPECT_EQ(ChooseMap(r, true, 0, 8, false, 0, 64).parallelism, 2);
}

TEST(AutotuneMapTest, TheCapBoundsCpuUsedNotCalls) {
  MapRates r{.cpus = 2};
  EXPECT_EQ(ParallelismCap(r, 8), 2);  // share unknown: one CPU per call
  r.call_cpu_fraction = 0.97;
  EXPECT_EQ(ParallelismCap(r, 8), 2);
  r.call_cpu_fraction = 0.66;  // 3 x 0.66 = 1.98 CPUs
  EXPECT_EQ(ParallelismCap(r, 8), 3);
  r.call_cpu_fraction = 0.5;  // exactly 2 CPUs at 4 calls
  EXPECT_EQ(ParallelismCap(r, 8), 4);
  r.call_cpu_fraction = 0.01;
  EXPECT_EQ(ParallelismCap(r, 8), 8);  // the ceiling
  r.cpus = 1;
  r.call_cpu_fraction = 1;
  EXPECT_EQ(ParallelismCap(r, 0), 1);  // never below one call
}

// pipeline.dataset's Map on 2 CPUs (batches of 128 records): a call takes
// 100 us of wall time, 10 us of it the serial pull; the process uses
// 60 us of CPU per batch (calls, readers, consumer).
MapRates DatasetLikeRates(double call_cpu_fraction) {
  return MapRates{.pull_s = 10e-6,
                  .fn_s = 90e-6,
                  .fn_sd_s = 20e-6,
                  .consumer_s = 1e-6,
                  .cpu_s = 60e-6,
                  .cpus = 2,
                  .call_cpu_fraction = call_cpu_fraction,
                  .result_bytes = 128 * 800};
}

TEST(AutotuneMapTest, InputBoundCallsRunAboveTheCpuBudget) {
  // Calls on a CPU half of their time (the rest waiting for the input
  // lock): 4 calls use 2 CPUs, and the climb takes them.
  const MapRates r = DatasetLikeRates(0.5);
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64, 256 << 20);
  EXPECT_GT(c.parallelism, r.cpus);
  EXPECT_LE(c.parallelism * r.call_cpu_fraction, r.cpus);
  EXPECT_LT(c.output_s, MapOutputTime(r, 2, c.buffer) * 0.95);
  // On a CPU 70% of the time: 2 calls use 1.4 CPUs, 3 would use 2.1.
  EXPECT_EQ(ChooseMap(DatasetLikeRates(0.7), true, 0, 8, true, 0, 64).parallelism, 2);
}

TEST(AutotuneMapTest, ACallHoldsItsSlotWhileItWaitsForTheInputLock) {
  // Little's law: p calls each holding a slot for w give p / w elements per
  // second; w counts the wait for the input lock beside u + m.
  MapRates r = DatasetLikeRates(0.4);
  r.cpu_s = 40e-6;  // 20 us per batch on 2 CPUs
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 2), 50e-6);  // (u + m) / 2
  r.call_s = 180e-6;                               // waits 80 us for the lock
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 2), 90e-6);
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 5), 36e-6);
  // w below u + m (not measured yet): u + m.
  r.call_s = 1e-6;
  EXPECT_DOUBLE_EQ(MapProducerTime(r, 2), 50e-6);
  // The climb takes the calls the CPU share allows (5 x 0.4 = 2 CPUs).
  r.call_s = 180e-6;
  EXPECT_EQ(ChooseMap(r, true, 0, 8, true, 0, 64).parallelism, 5);
  // ... and no more than the process's CPU allows: at 60 us of CPU per
  // batch (30 us on 2 CPUs) a sixth call would gain nothing, a fifth 17%.
  r.cpu_s = 60e-6;
  r.call_cpu_fraction = 0.1;
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_GE(c.parallelism, 5);
  EXPECT_LE(c.parallelism, 6);
  EXPECT_NEAR(MapProducerTime(r, c.parallelism), 30e-6, 1e-6);
}

TEST(AutotuneMapTest, CpuBoundCallsStayAtTheCpuBudget) {
  // The same wall times, but the calls compute all the time (f ~ 1; the
  // process CPU unknown, so only the cap stops the climb): 2 calls.
  MapRates r = DatasetLikeRates(0.98);
  r.cpu_s = 0;
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64, 256 << 20);
  EXPECT_EQ(c.parallelism, 2);
  // The model alone would have taken more: the cap is what holds.
  EXPECT_LT(MapOutputTime(r, 4, c.buffer), 0.9 * MapOutputTime(r, 2, c.buffer));
}

TEST(AutotuneMapTest, TheMemoryBudgetStopsGrowth) {
  // pipeline.image.jpeg's batches (64 x 224 x 224 x 3 float = 38.5 MB),
  // calls of 29 ms spread as much as their mean (a loaded machine) and on a
  // CPU half the time (15 ms of CPU per batch): without a budget the climb
  // takes 4 calls and a buffer, over 256 MiB.
  const double batch = 64.0 * 224 * 224 * 3 * 4;
  MapRates r{.pull_s = 0.7e-3,
             .fn_s = 29e-3,
             .fn_sd_s = 29e-3,
             .consumer_s = 0,
             .cpu_s = 15e-3,
             .cpus = 2,
             .call_cpu_fraction = 0.5,
             .result_bytes = batch};
  const MapChoice free = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_EQ(free.parallelism, 4);
  EXPECT_GT(HeldBytes(r, free.parallelism, free.buffer), 256.0 * (1 << 20))
      << free.parallelism << " calls, buffer " << free.buffer;
  // 256 MiB: at most 6 batches outstanding.
  const int64_t budget = int64_t{256} << 20;
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64, budget);
  EXPECT_LE(HeldBytes(r, c.parallelism, c.buffer), static_cast<double>(budget));
  EXPECT_LE(c.parallelism + c.buffer, 6);
  EXPECT_GE(c.parallelism, 2);
  // 100 MB: 2 batches.
  const MapChoice tight = ChooseMap(r, true, 0, 8, true, 0, 64, 100'000'000);
  EXPECT_EQ(tight.parallelism + tight.buffer, 2);
  // Below one result: the climb's start (1 call, no buffer) and no step.
  const MapChoice none = ChooseMap(r, true, 0, 8, true, 0, 64, 1'000'000);
  EXPECT_EQ(none.parallelism, 1);
  EXPECT_EQ(none.buffer, 0);
  // Settings the caller fixed are kept above the budget.
  const MapChoice fixed = ChooseMap(r, false, 4, 8, false, 5, 64, 1'000'000);
  EXPECT_EQ(fixed.parallelism, 4);
  EXPECT_EQ(fixed.buffer, 5);
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

TEST(AutotuneTimeHistogramTest, MeanExcessAndLagsOfSyntheticTimes) {
  TimeHistogram h;
  EXPECT_EQ(h.MeanExcess(0), 0);
  EXPECT_EQ(h.LagTail(0), 0);
  for (int i = 0; i < 9; ++i) h.Add(10e-6);
  h.Add(1e-3);
  EXPECT_DOUBLE_EQ(h.count(), 10);
  // E[(G - t)+]: (1 ms - 100 us) / 10 when only the long gap exceeds t.
  EXPECT_NEAR(h.MeanExcess(100e-6), 90e-6, 1e-12);
  EXPECT_NEAR(h.MeanExcess(0), (9 * 10e-6 + 1e-3) / 10, 1e-12);
  EXPECT_EQ(h.MeanExcess(2e-3), 0);
  // T1 - T2 > t only for (1 ms, 10 us): 9 of 100 pairs.
  EXPECT_NEAR(h.LagTail(0), 0.09, 1e-12);
  EXPECT_NEAR(h.LagTail(500e-6), 0.09, 1e-12);
  EXPECT_EQ(h.LagTail(990e-6), 0);
  EXPECT_NEAR(h.LagExcess(90e-6), 0.09 * 900e-6, 1e-12);
  // Decay scales counts and sums alike: the same distribution.
  h.Decay(0.5);
  EXPECT_DOUBLE_EQ(h.count(), 5);
  EXPECT_NEAR(h.MeanExcess(100e-6), 90e-6, 1e-12);
  h.Decay(0);
  EXPECT_EQ(h.count(), 0);
  // Negative and NaN durations are not recorded.
  h.Add(-1);
  h.Add(std::nan(""));
  EXPECT_EQ(h.count(), 0);
}

// pipeline.dataset-like: 2 CPUs, y(2) = 50 us per batch, results of 100 kB.
MapRates TwoCallRates() {
  return MapRates{.pull_s = 10e-6,
                  .fn_s = 90e-6,
                  .cpu_s = 60e-6,
                  .cpus = 2,
                  .call_cpu_fraction = 1.0,
                  .result_bytes = 100e3};
}

TEST(AutotuneBufferTest, BurstyConsumerGetsADeeperBuffer) {
  // Same mean gap (~16 us): steady (every gap alike) against bursty (97%
  // of the gaps 1 us, 3% 500 us, as a consumer that is now and then
  // preempted). The bursty one's long gaps outlast small buffers: the
  // producer idles once its p + b positions are done.
  TimeHistogram bursty, steady;
  for (int i = 0; i < 97; ++i) bursty.Add(1e-6);
  for (int i = 0; i < 3; ++i) bursty.Add(500e-6);
  const double mean = (97 * 1e-6 + 3 * 500e-6) / 100;
  for (int i = 0; i < 100; ++i) steady.Add(mean);
  MapRates r = TwoCallRates();
  r.consumer_s = mean;
  const MapChoice plain = ChooseMap(r, true, 0, 8, true, 0, 64);
  r.consumer_gaps = &steady;
  const MapChoice s = ChooseMap(r, true, 0, 8, true, 0, 64);
  r.consumer_gaps = &bursty;
  const MapChoice b = ChooseMap(r, true, 0, 8, true, 0, 64);
  // Steady gaps shorter than y stall nothing: the choice without gaps.
  EXPECT_GT(ConsumerStall(r, 2, 0), 0.03 * 300e-6);  // bursty: 3% x (500 - 2 x 50) us
  EXPECT_EQ(s.parallelism, plain.parallelism);
  EXPECT_EQ(s.buffer, plain.buffer);
  EXPECT_LE(s.buffer, 2);
  EXPECT_EQ(b.parallelism, 2);
  EXPECT_GE(b.buffer, s.buffer + 4) << "steady " << s.buffer;
  // Deep enough that fewer than ~1% of the gaps outlast it, no deeper than
  // the longest gap needs (500 us / 50 us = 10 positions).
  EXPECT_LE(b.parallelism + b.buffer, 10);
  EXPECT_LT(ConsumerStall(r, b.parallelism, b.buffer), 0.02 * MapProducerTime(r, 2));
}

TEST(AutotuneBufferTest, BurstyCallsGetADeeperBufferSteadyOnesDoNot) {
  // Call times with the same mean (112 us): all alike, or 90% 80 us and
  // 10% 400 us (preempted). A slot stopped behind a late head restarts
  // after the pool's wake-up (20 us).
  TimeHistogram bursty, steady;
  for (int i = 0; i < 90; ++i) bursty.Add(80e-6);
  for (int i = 0; i < 10; ++i) bursty.Add(400e-6);
  for (int i = 0; i < 100; ++i) steady.Add(112e-6);
  MapRates r = TwoCallRates();
  r.pull_s = 0;
  r.fn_s = 112e-6;
  r.consumer_s = 1e-6;
  r.restart_s = 20e-6;
  r.fn_times = &steady;
  const MapChoice s = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_EQ(ReorderStall(r, 2, 0), 0);
  r.fn_times = &bursty;
  const MapChoice b = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_EQ(s.parallelism, 2);
  EXPECT_LE(s.buffer, 1);
  EXPECT_EQ(b.parallelism, 2);
  // The head lags by 320 us in 9% of the pairs: 3 positions of 112 us
  // cover it.
  EXPECT_GE(b.buffer, 3);
  EXPECT_LE(b.buffer, 4);
  EXPECT_EQ(ReorderStall(r, 2, 3), 0);
  EXPECT_GT(ReorderStall(r, 2, 2), 0.09 * 20e-6 / 2);
}

TEST(AutotuneBufferTest, TheMemoryBudgetStillStopsTheBuffer) {
  TimeHistogram bursty;
  for (int i = 0; i < 90; ++i) bursty.Add(1e-6);
  for (int i = 0; i < 10; ++i) bursty.Add(2e-3);
  MapRates r = TwoCallRates();
  r.consumer_s = (90 * 1e-6 + 10 * 2e-3) / 100;
  r.consumer_gaps = &bursty;
  r.result_bytes = 1e6;
  const MapChoice free = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_GT(free.parallelism + free.buffer, 6);
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64, 6'000'000);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_EQ(c.parallelism + c.buffer, 6);
}

TEST(AutotuneBufferTest, ACallAndASlotTogetherEscapeTheRestartTrap) {
  // A second call without a spare position stops a slot at every second
  // result and waits 500 us for the pool to restart it: worse than one
  // call. With one spare position no slot stops: the climb takes both at
  // once rather than stay at 1 call.
  TimeHistogram spread;
  for (int i = 0; i < 50; ++i) spread.Add(60e-6);
  for (int i = 0; i < 50; ++i) spread.Add(100e-6);
  MapRates r{.fn_s = 80e-6, .consumer_s = 1e-6, .cpus = 2, .fn_times = &spread,
             .restart_s = 500e-6};
  EXPECT_GT(MapOutputTime(r, 2, 0), MapOutputTime(r, 1, 0));
  EXPECT_GE(MapOutputTime(r, 1, 1), MapOutputTime(r, 1, 0) * 0.99);
  EXPECT_LT(MapOutputTime(r, 2, 1), 0.6 * MapOutputTime(r, 1, 0));
  const MapChoice c = ChooseMap(r, true, 0, 8, true, 0, 64);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_GE(c.buffer, 1);
}

TEST(AutotuneBufferTest, CallsSpreadWithinOneBucketStillGetASlot) {
  // pipeline.image.jpeg-like on 2 CPUs: batches parsed and augmented in
  // 13 +- 1 ms (every time in the half-octave bucket [11.6, 16.4) ms),
  // CPU-bound (96%), results of 37.6 MB under a 256 MiB budget, a consumer
  // that comes back within microseconds. With no spare slot the call done
  // first idles until the head's is: E[D+] of ~1/3 ms (D: the difference of
  // two times uniform over 2 ms), half of it per element, ~2.5% of the
  // 6.5 ms per element. Taking each bucket as a point at its mean, no pair
  // lagged and the climb kept buffer 0.
  TimeHistogram calls, gaps;
  for (int i = 0; i < 200; ++i) calls.Add(12e-3 + 2e-3 * (i + 0.5) / 200);
  for (int i = 0; i < 200; ++i) gaps.Add(i % 2 == 0 ? 2e-6 : 5e-6);
  MapRates r{.pull_s = 0.05e-3,
             .fn_s = 13e-3,
             .call_s = 13.1e-3,
             .consumer_s = 3.5e-6,
             .cpu_s = 13.3e-3,
             .cpus = 2,
             .call_cpu_fraction = 0.96,
             .result_bytes = 37633e3,
             .consumer_gaps = &gaps,
             .fn_times = &calls,
             .restart_s = 30e-6};
  EXPECT_NEAR(calls.LagExcess(0), 1e-3 / 3, 0.03e-3);
  EXPECT_NEAR(calls.LagTail(0), 0.5, 0.01);
  EXPECT_GT(ReorderStall(r, 2, 0), 0.02 * MapProducerTime(r, 2));
  // One call's time of slack covers a 2 ms spread.
  EXPECT_LT(ReorderStall(r, 2, 1), 1e-6 * ReorderStall(r, 2, 0));
  const MapChoice c = ChooseMap(r, true, 0, 4, true, 0, 64, int64_t{256} << 20);
  EXPECT_EQ(c.parallelism, 2);
  EXPECT_EQ(c.buffer, 1);
  // Times alike (one value) still lag by nothing.
  TimeHistogram alike;
  for (int i = 0; i < 200; ++i) alike.Add(13e-3);
  EXPECT_EQ(alike.LagExcess(0), 0);
  EXPECT_EQ(alike.LagTail(0), 0);
}

}  // namespace
}  // namespace sluice::autotune
