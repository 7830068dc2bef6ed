#pragma once
// sluice-bench harness. Results are Google Benchmark benchmarks whose names
// are the result names of the issues ("queue.fifo.single.1p1c"); register
// them with BENCHMARK(fn)->Name("...") or benchmark::RegisterBenchmark, and
// call state.SetItemsProcessed / SetBytesProcessed. Each must use real time
// (->UseRealTime()) when it runs threads of its own.
//
// SLUICE_BENCH_BASELINE(result, baseline) declares that sluice-bench reports
// ratio_vs_baseline = items_per_second(result) / items_per_second(baseline),
// both measured in the same run.

#include <string>
#include <map>

#include "benchmark/benchmark.h"

namespace sluice::bench {

// result name -> baseline result name.
std::map<std::string, std::string>& Baselines();
inline bool RegisterBaseline(const char* result, const char* baseline) {
  Baselines()[result] = baseline;
  return true;
}

// Marks a result as not measurable here (no GPU, a peer not installed):
// it is reported as skipped and, unlike SkipWithError, does not make
// sluice-bench fail. Return from the benchmark function right after.
inline constexpr char kSkipPrefix[] = "skipped: ";
inline void Skip(benchmark::State& state, const std::string& why) {
  state.SkipWithError((kSkipPrefix + why).c_str());
}
inline bool IsSkip(const std::string& error) { return error.rfind(kSkipPrefix, 0) == 0; }

}  // namespace sluice::bench

#define SLUICE_BENCH_CONCAT_INNER_(a, b) a##b
#define SLUICE_BENCH_CONCAT_(a, b) SLUICE_BENCH_CONCAT_INNER_(a, b)
#define SLUICE_BENCH_BASELINE(result, baseline)                                   \
  static const bool SLUICE_BENCH_CONCAT_(sluice_bench_baseline_, __COUNTER__) = \
      ::sluice::bench::RegisterBaseline(result, baseline)
