#include "readers/decode_raw.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"

namespace sluice {
namespace {

absl::Status CheckOutType(DType t) {
  if (t == DType::kString) {
    return absl::InvalidArgumentError("DecodeRaw: out_type must be numeric, not string");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeRawInto(std::string_view bytes, DType out_type, bool little_endian,
                           void* out) {
  SLUICE_RETURN_IF_ERROR(CheckOutType(out_type));
  const size_t es = DTypeSize(out_type);
  if (bytes.size() % es != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeRaw: input length ", bytes.size(), " is not a multiple of ", es,
                     " (the size of ", Sv(DTypeName(out_type)), ")"));
  }
  char* dst = static_cast<char*>(out);
  if (out_type == DType::kBool) {
    for (size_t i = 0; i < bytes.size(); ++i) dst[i] = bytes[i] != 0;
    return absl::OkStatus();
  }
  std::memcpy(dst, bytes.data(), bytes.size());
  if (!little_endian && es > 1) {
    for (size_t i = 0; i < bytes.size(); i += es) std::reverse(dst + i, dst + i + es);
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> DecodeRaw(const Tensor& bytes, DType out_type, bool little_endian) {
  SLUICE_RETURN_IF_ERROR(CheckOutType(out_type));
  if (!bytes.IsInitialized() || bytes.dtype() != DType::kString) {
    return absl::InvalidArgumentError("DecodeRaw: input must be a string tensor");
  }
  const int64_t n = bytes.NumElements();
  const size_t len = n > 0 ? bytes.string(0).size() : 0;
  for (int64_t i = 1; i < n; ++i) {
    if (bytes.string(i).size() != len) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DecodeRaw: every element must have the same length; element 0 has ", len,
          " bytes, element ", i, " has ", bytes.string(i).size()));
    }
  }
  const size_t es = DTypeSize(out_type);
  if (len % es != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeRaw: input length ", len, " is not a multiple of ", es,
                     " (the size of ", Sv(DTypeName(out_type)), ")"));
  }
  TensorShape shape = bytes.shape();
  shape.AddDim(static_cast<int64_t>(len / es));
  Tensor out(out_type, shape);
  if (!out.IsInitialized()) return absl::ResourceExhaustedError("DecodeRaw: out of memory");
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    SLUICE_RETURN_IF_ERROR(DecodeRawInto(bytes.string(i), out_type, little_endian, dst));
    dst += len;
  }
  return out;
}

}  // namespace sluice
