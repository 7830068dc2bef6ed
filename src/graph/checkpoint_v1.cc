// sluice's first checkpoint index, "SLCKPT1" (see internal/checkpoint_format.h).
//
// Layout (little-endian): "SLCKPT1\n", u32 count, then per tensor u32 name
// length, name, u8 dtype, u32 rank, i64 dims[rank], u64 offset, u64 size,
// u32 masked crc32c; then u32 masked crc32c of all bytes before. The dtype
// byte is the DType enumerator as it stood then (float .. string = 0 .. 6).

#include <cstring>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/crc32c.h"
#include "graph/internal/checkpoint_format.h"

namespace sluice::internal {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'C', 'K', 'P', 'T', '1', '\n'};
constexpr int kMaxRank = 64;

// The dtype byte of the V1 format, fixed whatever DType grows into.
constexpr DType kV1DTypes[] = {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64,
                               DType::kUInt8,   DType::kBool,    DType::kString};

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

// Bounds-checked little-endian cursor over the index bytes.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool U8(uint8_t* v) { return Raw(v, 1); }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool U64(uint64_t* v) { return Raw(v, 8); }
  bool Bytes(size_t n, std::string_view* v) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *v = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  bool Raw(void* v, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(v, p_, n);
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
};

}  // namespace

bool IsSluiceV1Index(std::string_view head) {
  return head.size() >= sizeof(kMagic) && std::memcmp(head.data(), kMagic, sizeof(kMagic)) == 0;
}

std::string EncodeSluiceV1Index(absl::Span<const CheckpointTensorInfo> entries) {
  std::string index(kMagic, sizeof(kMagic));
  PutU32(&index, static_cast<uint32_t>(entries.size()));
  for (const CheckpointTensorInfo& e : entries) {
    PutU32(&index, static_cast<uint32_t>(e.name.size()));
    index.append(e.name);
    uint8_t code = 0;
    for (uint8_t i = 0; i < std::size(kV1DTypes); ++i) {
      if (kV1DTypes[i] == e.dtype) code = i;
    }
    index.push_back(static_cast<char>(code));
    PutU32(&index, static_cast<uint32_t>(e.shape.rank()));
    for (int64_t d : e.shape.dims()) PutU64(&index, static_cast<uint64_t>(d));
    PutU64(&index, e.offset);
    PutU64(&index, e.size);
    PutU32(&index, e.masked_crc32c);
  }
  PutU32(&index, crc32c::Mask(crc32c::Value(index)));
  return index;
}

absl::StatusOr<CheckpointIndex> ParseSluiceV1Index(std::string_view index, const std::string& path) {
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint index ", path, ": ", Sv(why)));
  };
  if (index.size() < sizeof(kMagic) + 8 || !IsSluiceV1Index(index)) {
    return corrupt(index.size() < sizeof(kMagic) + 8 ? "truncated" : "not a sluice checkpoint index");
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, index.data() + index.size() - 4, 4);
  std::string_view body(index.data(), index.size() - 4);
  if (crc32c::Unmask(stored_crc) != crc32c::Value(body)) {
    return corrupt("CRC mismatch (corrupted or truncated)");
  }
  Cursor c(body.substr(sizeof(kMagic)));
  uint32_t count;
  if (!c.U32(&count)) return corrupt("truncated");
  CheckpointIndex out;
  out.format = CheckpointFormat::kSluiceV1;
  std::unordered_set<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    CheckpointTensorInfo e;
    uint32_t name_len, rank;
    uint8_t dtype;
    std::string_view name;
    if (!c.U32(&name_len) || !c.Bytes(name_len, &name) || !c.U8(&dtype) || !c.U32(&rank)) {
      return corrupt(absl::StrCat("truncated entry ", i));
    }
    e.name = std::string(name);
    if (dtype >= std::size(kV1DTypes) || rank > kMaxRank) {
      return corrupt(absl::StrCat("bad dtype or rank for tensor '", e.name, "'"));
    }
    e.dtype = kV1DTypes[dtype];
    for (uint32_t d = 0; d < rank; ++d) {
      uint64_t dim;
      if (!c.U64(&dim)) return corrupt(absl::StrCat("truncated entry for tensor '", e.name, "'"));
      if (static_cast<int64_t>(dim) < 0) return corrupt(absl::StrCat("negative dimension in tensor '", e.name, "'"));
      e.shape.AddDim(static_cast<int64_t>(dim));
    }
    if (!c.U64(&e.offset) || !c.U64(&e.size) || !c.U32(&e.masked_crc32c)) {
      return corrupt(absl::StrCat("truncated entry for tensor '", e.name, "'"));
    }
    if (!names.insert(e.name).second) return corrupt(absl::StrCat("duplicate tensor '", e.name, "'"));
    out.entries.push_back(std::move(e));
  }
  if (!c.done()) return corrupt("trailing bytes");
  return out;
}

}  // namespace sluice::internal
