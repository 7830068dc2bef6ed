#pragma once
// TFRecordReaderOp: TensorFlow 1.x's tf.TFRecordReader as a pipeline
// stage. It takes file names from a filename queue (usually a
// string_input_producer), reads each file's records in order, and returns
// (key, value) pairs: key "FILE:OFFSET" (the record's offset in the
// decompressed stream), value the serialized record.
//
// Read() returns one pair as scalar string tensors; ReadUpTo(n) returns
// string tensors [k] and [k], 1 <= k <= n, never spanning two files (as
// TensorFlow's ReaderBase). Values are views into the reader's refcounted
// chunks (no copy); a queue that stores them long (RandomShuffleQueue)
// copies them into compact storage, so chunks are recycled.
//
// Status codes:
//   OutOfRange   the filename queue is closed and drained, and the current
//                file is finished (the end-of-data cascade, spec §4.3)
//   DataLoss     under CorruptRecordPolicy::kFail, naming file and offset;
//                the reader then gives up on that file (the next call goes
//                on with the next file, so ignoring errors never spins,
//                tensorflow#25700), after delivering every good record
//                before the damage
//   NotFound...  a file that cannot be opened (the file is skipped next)
//   Cancelled / DeadlineExceeded  from the filename queue's WaitOptions
// Under kSkipRecord / kSkipFile damage is counted in stats() instead.
//
// Thread-safe: calls are serialised by a mutex (TensorFlow shares one
// reader between runner threads the same way); use one reader per thread
// for parallel reading.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "queues/queue.h"
#include "readers/record_reader.h"

namespace sluice {

struct TFRecordReaderOptions {
  Compression compression = Compression::kNone;
  CorruptRecordPolicy corrupt_policy = CorruptRecordPolicy::kFail;
  size_t buffer_size = 256 << 10;
  Inflater inflater = Inflater::kIsal;
  // False: ReadUpTo/Read return an empty key tensor component (saves
  // building "FILE:OFFSET" strings when the caller drops keys).
  bool produce_keys = true;
  bool map_file = false;  // RecordReaderOptions::map_file (read its caveat)
};

struct TFRecordReaderStats {
  int64_t records_produced = 0;
  int64_t work_units_completed = 0;  // files finished (cleanly or not)
  int64_t records_skipped = 0;       // kSkipRecord: bad data CRC
  int64_t files_abandoned = 0;       // a skip policy or an error ended a file early
  int64_t errors_returned = 0;
};

class TFRecordReaderOp {
 public:
  explicit TFRecordReaderOp(TFRecordReaderOptions options = {}) : options_(options) {}

  // {key, value}: scalar strings.
  absl::StatusOr<TensorTuple> Read(QueueInterface* filename_queue, const WaitOptions& w = {});
  // {keys [k], values [k]}, 1 <= k <= n (n > 0, else InvalidArgument).
  absl::StatusOr<TensorTuple> ReadUpTo(QueueInterface* filename_queue, int64_t n,
                                       const WaitOptions& w = {});
  // Forgets the current file (TensorFlow's ReaderReset).
  void Reset();
  TFRecordReaderStats stats() const;

 private:
  absl::StatusOr<TensorTuple> ReadLocked(QueueInterface* q, int64_t n, bool scalar,
                                         const WaitOptions& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishFileLocked(bool abandoned) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TFRecordReaderOptions options_;
  mutable absl::Mutex mu_;
  std::unique_ptr<RecordReader> reader_ ABSL_GUARDED_BY(mu_);
  std::string file_ ABSL_GUARDED_BY(mu_);
  RecordBatch batch_ ABSL_GUARDED_BY(mu_);
  TFRecordReaderStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice
