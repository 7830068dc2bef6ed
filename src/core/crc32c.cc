#include "core/crc32c.h"

#include <array>
#include <cstring>

#include <climits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SLUICE_CRC32C_X86 1
#endif
#if defined(SLUICE_CRC32C_X86) && defined(SLUICE_HAVE_ISAL_CRC)
#include <isa-l/crc.h>
#define SLUICE_CRC32C_ISAL 1
#endif

namespace sluice::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

// Slicing-by-8 tables: kTables[k][b] is the CRC of byte b followed by k zero
// bytes, so eight table lookups advance the CRC over eight input bytes.
using Tables = std::array<std::array<uint32_t, 256>, 8>;
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
}
constexpr Tables kTables = MakeTables();

inline uint64_t LoadLE64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // x86 and the TFRecord format are both little-endian
  return v;
}

uint32_t ExtendSoftware(uint32_t crc, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  crc = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    crc = kTables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    --n;
  }
  while (n >= 8) {
    uint64_t v = LoadLE64(reinterpret_cast<const char*>(p)) ^ crc;
    crc = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^
          kTables[5][(v >> 16) & 0xff] ^ kTables[4][(v >> 24) & 0xff] ^
          kTables[3][(v >> 32) & 0xff] ^ kTables[2][(v >> 40) & 0xff] ^
          kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kTables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#ifdef SLUICE_CRC32C_X86

// The three-stream method (after Mark Adler's crc32c.c): one crc32 instruction
// has 3-cycle latency but 1-cycle throughput, so three independent streams
// over three adjacent blocks keep the unit busy. The block CRCs are joined by
// applying the linear operator "append kLong (or kShort) zero bytes" to the
// running CRC, tabulated as four 256-entry tables (one per CRC byte).
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;

using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

uint32_t Gf2MatrixTimes(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  while (vec) {
    if (vec & 1) sum ^= *mat;
    vec >>= 1;
    ++mat;
  }
  return sum;
}

void Gf2MatrixSquare(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; ++n) square[n] = Gf2MatrixTimes(mat, mat[n]);
}

// The operator (a 32x32 GF(2) matrix) that appends `len` zero bytes.
void ZerosOperator(uint32_t* even, size_t len) {
  uint32_t odd[32];
  odd[0] = kPoly;  // one zero bit
  uint32_t row = 1;
  for (int n = 1; n < 32; ++n) {
    odd[n] = row;
    row <<= 1;
  }
  Gf2MatrixSquare(even, odd);  // two zero bits
  Gf2MatrixSquare(odd, even);  // four zero bits: one zero byte is two more squarings
  do {
    Gf2MatrixSquare(even, odd);
    len >>= 1;
    if (len == 0) return;
    Gf2MatrixSquare(odd, even);
    len >>= 1;
  } while (len);
  std::memcpy(even, odd, sizeof(odd));
}

ShiftTable MakeShiftTable(size_t len) {
  uint32_t op[32];
  ZerosOperator(op, len);
  ShiftTable t;
  for (uint32_t n = 0; n < 256; ++n) {
    t[0][n] = Gf2MatrixTimes(op, n);
    t[1][n] = Gf2MatrixTimes(op, n << 8);
    t[2][n] = Gf2MatrixTimes(op, n << 16);
    t[3][n] = Gf2MatrixTimes(op, n << 24);
  }
  return t;
}

struct ShiftTables {
  ShiftTable long_shift = MakeShiftTable(kLong);
  ShiftTable short_shift = MakeShiftTable(kShort);
};
const ShiftTables& GetShiftTables() {
  static const ShiftTables* tables = new ShiftTables();  // never destroyed
  return *tables;
}

inline uint32_t Shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^
         t[3][crc >> 24];
}

// The bytes after the last whole 8-byte word: 4, 2, 1 rather than a byte
// loop (the 8-byte TFRecord length is one word, the payload tail a few).
__attribute__((target("sse4.2"))) inline uint64_t Sse42Tail(uint64_t c, const char* p,
                                                            size_t n) {
  uint32_t c32 = static_cast<uint32_t>(c);
  if (n & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    c32 = _mm_crc32_u32(c32, w);
    p += 4;
  }
  if (n & 2) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    c32 = _mm_crc32_u16(c32, h);
    p += 2;
  }
  if (n & 1) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p));
  return c32;
}

// Unaligned 8-byte loads cost the same as aligned ones on every x86 with
// SSE4.2 (bar a cache-line split), so there is no byte-wise alignment head:
// for short inputs such as the 8-byte record length it was most of the work.
__attribute__((target("sse4.2"))) uint32_t ExtendSse42One(uint32_t crc,
                                                          const char* data,
                                                          size_t n) {
  const char* p = data;
  uint64_t c = ~crc;
  while (n >= 8) {
    c = _mm_crc32_u64(c, LoadLE64(p));
    p += 8;
    n -= 8;
  }
  return ~static_cast<uint32_t>(Sse42Tail(c, p, n));
}

// Runs three streams over blocks of `block` bytes while at least 3*block
// bytes remain.
__attribute__((target("sse4.2"))) inline void ThreeStreams(
    const ShiftTable& shift, size_t block, uint64_t* c0, const char** p,
    size_t* n) {
  while (*n >= 3 * block) {
    uint64_t a = *c0, b = 0, c = 0;
    const char* q = *p;
    const char* end = q + block;
    do {
      a = _mm_crc32_u64(a, LoadLE64(q));
      b = _mm_crc32_u64(b, LoadLE64(q + block));
      c = _mm_crc32_u64(c, LoadLE64(q + 2 * block));
      q += 8;
    } while (q < end);
    a = Shift(shift, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
    a = Shift(shift, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(c);
    *c0 = a;
    *p += 3 * block;
    *n -= 3 * block;
  }
}

__attribute__((target("sse4.2"))) uint32_t ExtendSse42Three(uint32_t crc,
                                                            const char* data,
                                                            size_t n) {
  const ShiftTables& tables = GetShiftTables();
  const char* p = data;
  uint64_t c = ~crc;
  ThreeStreams(tables.long_shift, kLong, &c, &p, &n);
  ThreeStreams(tables.short_shift, kShort, &c, &p, &n);
  while (n >= 8) {
    c = _mm_crc32_u64(c, LoadLE64(p));
    p += 8;
    n -= 8;
  }
  return ~static_cast<uint32_t>(Sse42Tail(c, p, n));
}

#ifdef SLUICE_CRC32C_ISAL
// ISA-L's crc32_iscsi is CRC32C without the pre/post inversion (it returns
// the raw register: ~crc32_iscsi(p, n, ~crc) extends `crc`), and picks its
// own kernel from cpuid: on AVX-512 + VPCLMULQDQ CPUs it folds 256 bytes per
// step with carry-less multiplies, about twice the three-stream crc32 rate
// on a TFRecord payload. Below kIsalMin bytes its setup dominates, so short
// inputs stay on the crc32 instruction.
//
// ISA-L's AVX-512 kernel returns without vzeroupper (2.30 has none at all),
// leaving the upper halves of the vector registers dirty; every legacy-SSE
// instruction afterwards (memcpy, the parser, the caller's code) then pays a
// merge dependency or a state transition, which more than ate the gain in
// RecordReader. So the call is followed by vzeroupper where AVX exists.
constexpr size_t kIsalMin = 256;

bool HasAvx() {
  static const bool avx = __builtin_cpu_supports("avx");
  return avx;
}

__attribute__((target("avx"))) inline void ZeroUpper() { _mm256_zeroupper(); }

uint32_t ExtendIsal(uint32_t crc, const char* data, size_t n) {
  if (n < kIsalMin) return ExtendSse42One(crc, data, n);
  uint32_t c = ~crc;
  auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(data));  // only read
  constexpr size_t kMaxChunk = size_t{1} << 30;  // the length is an int
  while (n > 0) {
    const size_t m = n < kMaxChunk ? n : kMaxChunk;
    c = crc32_iscsi(p, static_cast<int>(m), c);
    p += m;
    n -= m;
  }
  if (HasAvx()) ZeroUpper();
  return ~c;
}
#endif  // SLUICE_CRC32C_ISAL

#endif  // SLUICE_CRC32C_X86

bool DetectHardware() {
#ifdef SLUICE_CRC32C_X86
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);
ExtendFn ChooseExtend() {
#ifdef SLUICE_CRC32C_X86
  if (DetectHardware()) {
#ifdef SLUICE_CRC32C_ISAL
    return &ExtendIsal;
#else
    GetShiftTables();  // build them now rather than inside a timed call
    return &ExtendSse42Three;
#endif
  }
#endif
  return &ExtendSoftware;
}

}  // namespace

bool HardwareAvailable() {
  static const bool available = DetectHardware();
  return available;
}

bool ImplAvailable(Impl impl) {
  switch (impl) {
    case Impl::kSoftware: return true;
    case Impl::kSse42OneStream:
    case Impl::kSse42ThreeStreams: return HardwareAvailable();
    case Impl::kIsal:
#ifdef SLUICE_CRC32C_ISAL
      return HardwareAvailable();
#else
      return false;
#endif
  }
  return false;
}

Impl ActiveImpl() {
  if (ImplAvailable(Impl::kIsal)) return Impl::kIsal;
  return HardwareAvailable() ? Impl::kSse42ThreeStreams : Impl::kSoftware;
}

const char* ImplName(Impl impl) {
  switch (impl) {
    case Impl::kSoftware: return "software-slicing-by-8";
    case Impl::kSse42OneStream: return "sse4.2-one-stream";
    case Impl::kSse42ThreeStreams: return "sse4.2-three-streams";
    case Impl::kIsal: return "isa-l-crc32_iscsi";
  }
  return "?";
}

uint32_t Extend(uint32_t init_crc, const char* data, size_t n) {
  static const ExtendFn fn = ChooseExtend();
  return fn(init_crc, data, n);
}

uint32_t ExtendWith(Impl impl, uint32_t init_crc, const char* data, size_t n) {
  switch (impl) {
#ifdef SLUICE_CRC32C_X86
    case Impl::kSse42OneStream: return ExtendSse42One(init_crc, data, n);
    case Impl::kSse42ThreeStreams: return ExtendSse42Three(init_crc, data, n);
#endif
#ifdef SLUICE_CRC32C_ISAL
    case Impl::kIsal: return ExtendIsal(init_crc, data, n);
#endif
    default: break;  // kSoftware, and any implementation not built here
  }
  return ExtendSoftware(init_crc, data, n);
}

}  // namespace sluice::crc32c
