#pragma once
// RecordWriter: writes a TFRecord stream (record_format.h), NONE / ZLIB /
// GZIP, readable by TensorFlow and by RecordReader. GZIP output has zlib's
// standard header (flags 0, mtime 0), as TensorFlow writes it.
//
// Errors: the errno mapping of open/write (with the path),
// FailedPrecondition after Close, Internal for a zlib failure. After a
// failed write the writer is unusable (every call returns that error).
// The destructor closes the writer and drops any error; call Close() to see
// it.
//
// Not thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "readers/compression.h"

namespace sluice {

namespace internal {
class ByteSink;
}

struct RecordWriterOptions {
  Compression compression = Compression::kNone;
  // zlib level: -1 (zlib's default, 6), 0 (stored) ... 9 (best).
  int compression_level = -1;
  // Bytes gathered before each write(2) / deflate call.
  size_t buffer_size = 256 << 10;
};

class RecordWriter {
 public:
  // Creates or truncates `path`.
  static absl::StatusOr<std::unique_ptr<RecordWriter>> Open(std::string path,
                                                            RecordWriterOptions options);
  // Appends the stream to *out, which must outlive the writer; bytes appear
  // there on Flush and Close.
  static absl::StatusOr<std::unique_ptr<RecordWriter>> ToString(std::string* out,
                                                                RecordWriterOptions options);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Appends one record (any size, including empty).
  absl::Status Write(std::string_view record);
  // Pushes everything written so far to the file (for ZLIB/GZIP, a zlib
  // sync flush, so a reader sees whole records; the stream stays open).
  absl::Status Flush();
  // Finishes the compressed stream and closes the file. Idempotent.
  absl::Status Close();

  // Offset of the next record in the decompressed stream.
  uint64_t offset() const { return offset_; }

 private:
  struct Deflater;
  RecordWriter(std::unique_ptr<internal::ByteSink> sink, RecordWriterOptions options);
  absl::Status Init();
  absl::Status Append(const char* p, size_t n);
  absl::Status FlushPending();
  // Passes bytes to the sink, through deflate when compressing.
  absl::Status Emit(const char* p, size_t n, int flush);

  std::unique_ptr<internal::ByteSink> sink_;
  const RecordWriterOptions options_;
  std::unique_ptr<Deflater> deflater_;
  std::vector<char> pending_;
  size_t pending_size_ = 0;
  uint64_t offset_ = 0;
  bool closed_ = false;
  absl::Status error_;
};

}  // namespace sluice
