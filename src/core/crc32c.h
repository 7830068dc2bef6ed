#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI
// (RFC 3720), SSE4.2's crc32 instruction and TFRecord framing.
//
// Value/Extend pick the fastest implementation once, at first use, from
// cpuid. With SSE4.2: Intel ISA-L's crc32_iscsi for inputs of 256 bytes and
// more when the build found ISA-L (it folds with carry-less multiplies,
// AVX-512 VPCLMULQDQ where the CPU has it) and the crc32 instruction below
// that; without ISA-L, SSE4.2 with three interleaved streams combined by a
// precomputed "shift by n zero bytes" operator. Without SSE4.2, software
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
// kIsal: ISA-L crc32_iscsi from 256 bytes, SSE4.2 one stream below.
enum class Impl { kSoftware, kSse42OneStream, kSse42ThreeStreams, kIsal };
// True when the CPU supports SSE4.2's crc32 instruction.
bool HardwareAvailable();
// True when `impl` was built in and the CPU can run it.
bool ImplAvailable(Impl impl);
// The implementation Extend uses on this machine.
Impl ActiveImpl();
const char* ImplName(Impl impl);
// Extend with a given implementation. Hardware implementations must only be
// called when ImplAvailable(impl); an implementation not built in (kIsal
// without ISA-L, SSE4.2 off x86) falls back to software.
uint32_t ExtendWith(Impl impl, uint32_t init_crc, const char* data, size_t n);

}  // namespace sluice::crc32c
