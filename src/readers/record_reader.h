#pragma once
// RecordReader: reads a TFRecord stream (record_format.h) from a file or a
// memory block, NONE / ZLIB / GZIP, checking both CRCs of every record.
//
// Errors match TensorFlow's RecordReader (docs/spec/tfrecord-and-example.md),
// with offsets in the decompressed stream and the file named:
//   OutOfRange  clean end at a record boundary (or a file abandoned by a
//               skip policy, see corrupt_policy.h)
//   DataLoss    "truncated record at OFF in NAME", "corrupted record at OFF
//               in NAME", or a corrupt/truncated compressed stream
//   ResourceExhausted  a length field above max_record_size, or more than
//               max_decompressed_bytes inflated; nothing that large is ever
//               allocated
// Records before an error are always delivered first. Under kFail an error
// is sticky: every later call returns it again (Seek clears it).
//
// Memory: bytes are read (or inflated) straight into refcounted chunks of
// `buffer_size` bytes (core/buffer.h); a record is a view into its chunk, so
// reading costs no copy and no per-record allocation. A record larger than a
// chunk gets a chunk of its own, grown by doubling as its bytes arrive, so a
// lying length field costs at most twice the bytes actually present. A chunk
// still referenced by a caller (a RecordBatch, a RefPtr taken from chunk())
// is never written again; an unreferenced one is reused in place.
//
// Not thread-safe: one reader per thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/buffer.h"
#include "readers/compression.h"
#include "readers/corrupt_policy.h"

namespace sluice {

namespace internal {
class ByteSource;
}

struct RecordReaderOptions {
  Compression compression = Compression::kNone;
  Inflater inflater = Inflater::kIsal;
  // Bytes per read(2) and per chunk; also the compressed input block.
  size_t buffer_size = 256 << 10;
  // A length field above this is ResourceExhausted, before any allocation.
  uint64_t max_record_size = uint64_t{256} << 20;
  // Bound on the decompressed stream (a gzip bomb stops here with
  // ResourceExhausted); 0 means unbounded.
  uint64_t max_decompressed_bytes = 0;
  CorruptRecordPolicy corrupt_policy = CorruptRecordPolicy::kFail;
  // An uncompressed regular file is memory-mapped (read-only, prefaulted)
  // instead of read in chunks, so records are views of the page cache and
  // the copy into a read buffer goes (~5% on pipeline.queue.shuffle_batch).
  // The mapping lives while any record of it is referenced. A file
  // truncated while mapped ends the process with SIGBUS: leave this off
  // for files that may change while they are read.
  bool map_file = false;
};

// A record: its payload and the offset of its first header byte in the
// decompressed stream. `data` points into a chunk of the reader.
struct RecordView {
  std::string_view data;
  uint64_t offset = 0;
};

// What the reader delivered and what a skip policy dropped.
struct RecordReaderStats {
  uint64_t records_read = 0;
  uint64_t payload_bytes_read = 0;
  uint64_t records_skipped = 0;  // kSkipRecord: bad data CRC
  uint64_t bytes_skipped = 0;    // framing + payload of skipped records
  uint64_t files_abandoned = 0;  // a skip policy gave up on the rest of the file
  absl::Status last_corruption;  // the most recent corruption a policy absorbed
};

// The records of one ReadMany call. Each record is a view kept alive by its
// owner chunk (owner(i)); pass that to Tensor::SetStringView for zero-copy
// string tensors. Clear() keeps the vectors' capacity, so reusing a batch
// costs no allocation per record. Not thread-safe.
class RecordBatch {
 public:
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  std::string_view record(size_t i) const { return records_[i]; }
  uint64_t offset(size_t i) const { return offsets_[i]; }
  const RefPtr& owner(size_t i) const { return owners_[owner_index_[i]]; }
  absl::Span<const std::string_view> records() const { return records_; }
  // The distinct chunks the records live in, in order.
  absl::Span<const RefPtr> owners() const { return owners_; }
  void Clear();

 private:
  friend class RecordReader;
  void Add(std::string_view data, uint64_t offset, const RefPtr& chunk);

  std::vector<std::string_view> records_;
  std::vector<uint64_t> offsets_;
  std::vector<uint32_t> owner_index_;
  std::vector<RefPtr> owners_;
};

class RecordReader {
 public:
  // Opens `path`. Errors: the errno mapping of open(2) (NotFound, ...),
  // InvalidArgument for bad options. `path` names the file in messages.
  static absl::StatusOr<std::unique_ptr<RecordReader>> Open(std::string path,
                                                            RecordReaderOptions options);
  // Reads `data` in place (uncompressed: records are views into it, with no
  // copy). `data` must outlive the reader and every record, chunk() or
  // RecordBatch owner taken from it; `name` is used in messages.
  static absl::StatusOr<std::unique_ptr<RecordReader>> FromMemory(
      std::string_view data, RecordReaderOptions options, std::string name = "<memory>");

  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // The next record. Its view is valid until the next call on this reader,
  // or as long as the caller holds chunk(). OutOfRange at the end.
  absl::StatusOr<RecordView> Next();
  // The chunk that owns the last record Next() returned.
  const RefPtr& chunk() const { return chunk_; }

  // Clears `out`, then appends up to `n` (> 0) records. OK when at least one
  // record was read: an error met after some records is held back and
  // returned by the next call, so good records always come first.
  // OutOfRange when the stream had no record left.
  absl::Status ReadMany(int64_t n, RecordBatch* out);

  // Positions the reader at `offset`, which must be the offset of a record
  // in the decompressed stream (RecordView::offset) or the end. NONE streams
  // seek directly; compressed streams re-read (forward from the current
  // position, or from the start). Clears a sticky error. A compressed stream
  // shorter than `offset` is OutOfRange here; for NONE the next read says so.
  absl::Status Seek(uint64_t offset);

  // Offset of the next record Next() would return.
  uint64_t offset() const { return base_offset_ + pos_; }
  const RecordReaderStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }
  const RecordReaderOptions& options() const { return options_; }

 private:
  RecordReader(std::unique_ptr<internal::ByteSource> source, RecordReaderOptions options,
               std::string name);
  static absl::Status ValidateOptions(const RecordReaderOptions& o);

  // Reads one record into *out (view + offset), applying the policy.
  absl::Status ReadOne(RecordView* out);
  // Makes `need` bytes available at pos_; false when the stream ended or
  // failed first (source_status_ says which).
  bool Fill(uint64_t need);
  // Moves the unread bytes to the start of a chunk of capacity >= what a
  // `need`-byte read can use.
  bool MakeRoom(uint64_t need);
  // Applies the corrupt-data policy to `error`. `skippable` when the next
  // record's offset is known (skip_to). Returns OK to go on reading.
  absl::Status Corruption(absl::Status error, bool skippable, size_t skip_to);
  absl::Status SourceError();

  std::unique_ptr<internal::ByteSource> source_;
  const RecordReaderOptions options_;
  const std::string name_;

  RefPtr chunk_;
  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t pos_ = 0;  // next unread byte of chunk_
  size_t end_ = 0;  // end of valid bytes in chunk_
  uint64_t base_offset_ = 0;  // stream offset of chunk_ byte 0
  uint64_t total_read_ = 0;   // bytes taken from the source since the start
  bool eof_ = false;
  absl::Status source_status_;
  absl::Status final_status_;  // sticky end or error
  absl::Status pending_;       // held back by ReadMany
  RecordReaderStats stats_;
};

}  // namespace sluice
