#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI
// (RFC 3720), SSE4.2's crc32 instruction and TFRecord framing.
//
// Value/Extend pick the fastest implementation once, at first use, from
// cpuid: SSE4.2 with three interleaved streams combined by a precomputed
// "shift by n zero bytes" operator when the CPU has it, else software
// slicing-by-8. Every implementation returns identical results; the
// individual ones are exposed for tests and benchmarks.
//
// Thread-safe: all functions are pure (tables are built once, thread-safely).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::crc32c {

// Returns the CRC32C of concat(A, data[0,n)) where init_crc is the CRC32C
// of some string A. Extend(0, data, n) == Value(data, n).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

// Returns the CRC32C of data[0,n).
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// TFRecord (and leveldb) store masked CRCs: a CRC computed over bytes that
// themselves contain CRCs is otherwise prone to degenerate values.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline constexpr uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}
inline constexpr uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// Individual implementations, for tests and benchmarks.
enum class Impl { kSoftware, kSse42OneStream, kSse42ThreeStreams };
// True when the CPU supports SSE4.2's crc32 instruction.
bool HardwareAvailable();
// The implementation Extend uses on this machine.
Impl ActiveImpl();
const char* ImplName(Impl impl);
// Extend with a given implementation. Hardware implementations must only be
// called when HardwareAvailable().
uint32_t ExtendWith(Impl impl, uint32_t init_crc, const char* data, size_t n);

}  // namespace sluice::crc32c
