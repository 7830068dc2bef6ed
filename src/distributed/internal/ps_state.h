#pragma once
// The encoding of a parameter server's state in the kGetState reply and
// the kSetState request (internal/ps_protocol.h): named tensors, each
//   int64 name length, name bytes, int32 dtype, int32 rank,
//   int64 dims[rank], int64 byte count, the tensor's bytes
// after an int64 count of tensors, all in the host's byte order (the ranks
// of one MPI job share it here). Numeric tensors only.
//
// Errors: InvalidArgument for a string tensor (Encode) and for bytes that
// do not parse (Decode: naming the offset and what was wrong there).
// Thread-safe (pure functions).

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace sluice::distributed::internal {

absl::StatusOr<std::vector<char>> EncodeNamedTensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors);

absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> DecodeNamedTensors(
    const char* data, size_t size);

}  // namespace sluice::distributed::internal
