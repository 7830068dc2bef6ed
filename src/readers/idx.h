#pragma once
// IDX files (the MNIST / Fashion-MNIST container): a 4-byte magic
// {0, 0, type, ndims}, ndims big-endian uint32 dimensions, then the
// elements in row-major order (multi-byte types big-endian).
//
//   SLUICE_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile("train-images-idx3-ubyte.gz"));
//   // images.dims = {60000, 28, 28}, images.type = IdxType::kUInt8
//
// ReadIdxFile reads plain files and gzip-compressed ones alike (the Debian
// package ships .gz files); the decision is made from the content, not the
// name.
//
// Errors: NotFound / PermissionDenied (errno) naming the path;
// InvalidArgument for a bad magic, an unknown element type, zero dims or
// a size that overflows; DataLoss when the data is shorter than the
// dimensions announce ("... 1000 bytes of 7840 ...") or a gzip stream is
// corrupt. Trailing bytes after the elements are InvalidArgument (a file
// that is not what its header says).
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

enum class IdxType : uint8_t {
  kUInt8 = 0x08,
  kInt8 = 0x09,
  kInt16 = 0x0B,
  kInt32 = 0x0C,
  kFloat32 = 0x0D,
  kFloat64 = 0x0E,
};

// Bytes per element of `t`.
int IdxTypeSize(IdxType t);

struct IdxArray {
  IdxType type = IdxType::kUInt8;
  std::vector<int64_t> dims;
  // The elements as stored (big-endian for multi-byte types).
  std::string data;

  int64_t num_elements() const;
  // Elements per entry of dimension 0 (1 for a vector).
  int64_t row_elements() const;
};

// Parses a whole IDX image held in memory (not compressed).
absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes);

// Reads `path`, inflating it first when it starts with the gzip magic.
absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path);

// The IDX bytes of `array` (for tests and tools that write small files).
std::string EncodeIdx(const IdxArray& array);

}  // namespace sluice
