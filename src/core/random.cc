#include "core/random.h"

#include <random>

namespace sluice {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(uint64_t seed, uint64_t seed2) {
  if (seed == 0 && seed2 == 0) {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) ^ rd();
    seed2 = (uint64_t{rd()} << 32) ^ rd() ^ 1;
  }
  uint64_t x = seed ^ Rotl(seed2, 32) ^ 0x5851F42D4C957F2DULL * seed2;
  for (uint64_t& s : s_) s = SplitMix64(&x);
}

uint64_t Random::Next64() {  // xoshiro256**
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Random::Uniform(uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(Next64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

uint64_t Random::DeriveSeed(uint64_t global_seed, uint64_t stage) {
  uint64_t x = global_seed ^ (stage * 0xD1B54A32D192ED03ULL);
  uint64_t s = SplitMix64(&x);
  return s == 0 ? 1 : s;
}

}  // namespace sluice
