#pragma once
// SHA-256 (FIPS 180-4), for the records digest `sluice inspect` prints
// (spec: sha256 over every good record, each fed as uint64 LE length ||
// payload). Small and dependency-free; not constant-time, not for secrets.
//
// Not thread-safe: one hasher per thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view bytes);
  // Lower-case hex of the digest. Call once; the hasher is spent after.
  std::string HexDigest();

 private:
  void Block(const unsigned char* p);

  uint32_t h_[8];
  unsigned char buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

}  // namespace sluice
