#pragma once
// ByteSink: where a RecordWriter puts its (compressed) bytes: a file
// written with write(2), or a std::string. Not thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::internal {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all `n` bytes or fails.
  virtual absl::Status Append(const char* p, size_t n) = 0;
  virtual absl::Status Close() = 0;
};

// Creates or truncates `path`.
absl::StatusOr<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path);
// Appends to *out, which must outlive the sink.
std::unique_ptr<ByteSink> NewStringSink(std::string* out);

}  // namespace sluice::internal
