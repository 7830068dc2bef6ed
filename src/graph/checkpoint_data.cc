// A tensor's bytes in a checkpoint data file (internal/checkpoint_format.h).

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "core/crc32c.h"
#include "graph/internal/checkpoint_format.h"
#include "readers/protobuf_wire.h"

namespace sluice::internal {
namespace {

// TensorFlow's WriteStringTensor: [varint64 len]... [masked crc of the
// lengths] [bytes]...; the checksum covers each length as a uint32 (uint64
// when it does not fit), the length checksum, then the bytes.
EncodedTensor EncodeTfStrings(const Tensor& t) {
  EncodedTensor out;
  uint32_t crc = 0;
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    const uint64_t n = t.string(i).size();
    AppendVarint64(&out.bytes, n);
    if (n <= UINT32_MAX) {
      const uint32_t n32 = static_cast<uint32_t>(n);
      crc = crc32c::Extend(crc, reinterpret_cast<const char*>(&n32), sizeof(n32));
    } else {
      crc = crc32c::Extend(crc, reinterpret_cast<const char*>(&n), sizeof(n));
    }
  }
  const uint32_t length_checksum = crc32c::Mask(crc);
  out.bytes.append(reinterpret_cast<const char*>(&length_checksum), sizeof(length_checksum));
  crc = crc32c::Extend(crc, reinterpret_cast<const char*>(&length_checksum), sizeof(length_checksum));
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    std::string_view s = t.string(i);
    out.bytes.append(s.data(), s.size());
    crc = crc32c::Extend(crc, s.data(), s.size());
  }
  out.masked_crc32c = crc32c::Mask(crc);
  return out;
}

}  // namespace

EncodedTensor EncodeTensorData(const Tensor& t, CheckpointFormat format) {
  EncodedTensor out;
  if (t.dtype() != DType::kString) {
    out.bytes.assign(static_cast<const char*>(t.raw_data()), t.ByteSize());
  } else if (format == CheckpointFormat::kTensorBundleV2) {
    return EncodeTfStrings(t);
  } else {
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      std::string_view s = t.string(i);
      AppendVarint64(&out.bytes, s.size());
      out.bytes.append(s.data(), s.size());
    }
  }
  out.masked_crc32c = crc32c::Mask(crc32c::Value(out.bytes));
  return out;
}

absl::StatusOr<Tensor> DecodeTensorData(const CheckpointTensorInfo& info, std::string_view bytes,
                                        CheckpointFormat format, const std::string& path) {
  auto loss = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint data ", path, ": tensor '", info.name, "': ", Sv(why)));
  };
  Tensor t(info.dtype, info.shape);
  if (!t.IsInitialized() && t.NumElements() > 0) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate tensor '", info.name, "'"));
  }
  if (info.dtype != DType::kString) {
    if (crc32c::Unmask(info.masked_crc32c) != crc32c::Value(bytes)) return loss("CRC mismatch");
    if (bytes.size() != t.ByteSize()) return loss("size does not match its shape");
    if (!bytes.empty()) std::memcpy(t.raw_data(), bytes.data(), bytes.size());
    return t;
  }
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  if (format == CheckpointFormat::kSluiceV1) {
    if (crc32c::Unmask(info.masked_crc32c) != crc32c::Value(bytes)) return loss("CRC mismatch");
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      std::string_view s;
      p = ReadLengthDelimited(p, end, &s);
      if (p == nullptr) return loss(absl::StrCat("malformed string element ", i));
      t.SetString(i, s);
    }
    if (p != end) return loss("trailing bytes after the string elements");
    return t;
  }
  // TensorFlow's layout; the checksum is recomputed as it was written.
  std::vector<uint64_t> lengths(static_cast<size_t>(t.NumElements()));
  uint32_t crc = 0;
  for (uint64_t& n : lengths) {
    p = ReadVarint64(p, end, &n);
    if (p == nullptr) return loss("malformed string lengths");
    if (n <= UINT32_MAX) {
      const uint32_t n32 = static_cast<uint32_t>(n);
      crc = crc32c::Extend(crc, reinterpret_cast<const char*>(&n32), sizeof(n32));
    } else {
      crc = crc32c::Extend(crc, reinterpret_cast<const char*>(&n), sizeof(n));
    }
  }
  uint32_t length_checksum;
  if (end - p < 4) return loss("truncated string lengths checksum");
  std::memcpy(&length_checksum, p, 4);
  if (crc32c::Unmask(length_checksum) != crc) return loss("CRC mismatch in the string lengths");
  crc = crc32c::Extend(crc, p, 4);
  p += 4;
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (static_cast<uint64_t>(end - p) < lengths[i]) return loss(absl::StrCat("truncated string element ", i));
    t.SetString(static_cast<int64_t>(i), std::string_view(p, lengths[i]));
    crc = crc32c::Extend(crc, p, lengths[i]);
    p += lengths[i];
  }
  if (p != end) return loss("trailing bytes after the string elements");
  if (crc32c::Unmask(info.masked_crc32c) != crc) return loss("CRC mismatch");
  return t;
}

}  // namespace sluice::internal
