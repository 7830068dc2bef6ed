#pragma once
// Seeded pseudo-random numbers for sampling (shuffle queues, shuffled
// producers, datasets). Not cryptographic. Not thread-safe: one generator
// per user, or guard it.
//
// Seeds follow TensorFlow's rule: (seed, seed2) == (0, 0) draws fresh random
// seeds; any other pair gives the same sequence on every platform.

#include <cstdint>

namespace sluice {

class Random {
 public:
  Random(uint64_t seed, uint64_t seed2);
  explicit Random(uint64_t seed) : Random(seed, 0) {}

  uint64_t Next64();
  // Uniform in [0, n); n > 0. Lemire's multiply-shift with rejection, so the
  // result is unbiased.
  uint64_t Uniform(uint64_t n);
  // Uniform double in [0, 1).
  double UniformDouble() { return (Next64() >> 11) * 0x1.0p-53; }

  // Derives an independent stream for a stage from a global seed and the
  // stage's index (the "one global seed derives every stage's seed" rule).
  static uint64_t DeriveSeed(uint64_t global_seed, uint64_t stage);

 private:
  uint64_t s_[4];
};

}  // namespace sluice
