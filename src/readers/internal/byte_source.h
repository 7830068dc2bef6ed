#pragma once
// ByteSource: where a RecordReader gets its (decompressed) bytes. A file
// read with read(2) straight into the caller's buffer, a caller-owned memory
// block, or an inflater wrapped around either (inflate_source.h).
//
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/buffer.h"

namespace sluice::internal {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Reads up to `n` (> 0) bytes into `dst` and returns how many; 0 only at
  // the end of the stream. Errors: DataLoss (a corrupt or truncated
  // compressed stream), or the errno mapping of a failed read.
  virtual absl::StatusOr<size_t> Read(char* dst, size_t n) = 0;

  // Starts again from the first byte.
  virtual absl::Status Rewind() = 0;

  // When every byte of the stream is already in memory: sets *all to them
  // and returns a buffer that keeps them valid, so a reader can hand out
  // records without copying. Null otherwise.
  virtual RefPtr Mapped(std::string_view* all) { return RefPtr(); }

  // True when Seek works (uncompressed files and memory).
  virtual bool CanSeek() const { return false; }
  // Moves to byte `offset` of the stream; reading past the end then gives 0.
  virtual absl::Status Seek(uint64_t offset) {
    return absl::UnimplementedError("this byte source cannot seek");
  }
};

// Opens `path` for sequential reading. NotFound, PermissionDenied, ... from
// errno, with the path in the message. With `map`, Mapped() maps a regular
// file read-only and prefaulted (RecordReaderOptions::map_file).
absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path,
                                                           bool map = false);

// Reads `data`, which the caller keeps alive and unchanged while the source
// lives.
std::unique_ptr<ByteSource> NewMemorySource(std::string_view data);

}  // namespace sluice::internal
