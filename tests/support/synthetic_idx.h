#pragma once
// Small learnable IDX files for the training tests: 28x28 uint8 images
// whose class c (0..9) is a bright horizontal bar on rows 2c+4..2c+6 over
// low pseudo-random noise, with labels in an IDX1 file. Deterministic for
// a seed; written uncompressed.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "readers/idx.h"

namespace sluice::testing {

struct IdxPair {
  std::string images, labels;
};

inline IdxPair WriteBarIdx(const std::string& dir, const std::string& name, int64_t n,
                           uint32_t seed) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(seed);
  IdxArray images{IdxType::kUInt8, {n, 28, 28}, std::string(n * 28 * 28, '\0')};
  IdxArray labels{IdxType::kUInt8, {n}, std::string(n, '\0')};
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng() % 10);
    labels.data[i] = static_cast<char>(c);
    char* img = images.data.data() + i * 28 * 28;
    for (int p = 0; p < 28 * 28; ++p) img[p] = static_cast<char>(rng() % 60);
    for (int r = 2 * c + 4; r < 2 * c + 7; ++r) {
      for (int col = 3; col < 25; ++col) img[r * 28 + col] = static_cast<char>(180 + rng() % 70);
    }
  }
  IdxPair out{(std::filesystem::path(dir) / (name + "-images-idx3-ubyte")).string(),
              (std::filesystem::path(dir) / (name + "-labels-idx1-ubyte")).string()};
  std::ofstream(out.images, std::ios::binary) << EncodeIdx(images);
  std::ofstream(out.labels, std::ios::binary) << EncodeIdx(labels);
  return out;
}

}  // namespace sluice::testing
