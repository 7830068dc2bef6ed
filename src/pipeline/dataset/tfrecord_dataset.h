#pragma once
// TFRecordDataset (spec §5.2, checklist 118): the records of `files`, in
// order, as scalar string elements (GetNextMany: string vectors whose
// elements are views into the readers' refcounted chunks, no copy).
//
//   num_parallel_reads unset: files are read one after another.
//   num_parallel_reads = N: N files are read at once, each by its own
//     thread, and records leave in TensorFlow's deterministic round-robin
//     (interleave with cycle_length N, block_length 1: one record from
//     each open file in turn; a finished file's slot takes the next file
//     when the walk reaches it). [a0,a1] and [b0,b1] give a0,b0,a1,b1.
//   num_parallel_reads = kAutotune: N = max(2, CPU budget), at most the
//     number of files (the order is that N's round-robin), and each file's
//     read-ahead (blocks of 256 records buffered, 4 otherwise) is tuned
//     while it runs (TF 1.15's prefetch rule: 4 blocks to start, doubled
//     when a full read-ahead ran dry, at most 8). The stage's parameters
//     "parallelism" and "read_ahead_blocks" show the choice.
//
// compression: one for all files, unless detect_compression: then each
// file's is detected from its first bytes when it is opened
// (DetectCompression, readers/compression.h), so a list may mix
// uncompressed, ZLIB and GZIP files. A name from a user ("GZIP") is parsed at
// the edge with ParseCompression (readers/compression.h), which rejects an
// unknown one with InvalidArgument naming it. (TensorFlow reads a file with
// an unknown compression_type as uncompressed: docs/divergences.md.) A value
// outside the enum is InvalidArgument.
// buffer_size: < 0 is InvalidArgument; 0 keeps the 256 KiB default.
// Files open lazily: a missing file is NotFound when iteration reaches it.
// Corrupt data follows `corrupt_policy` (readers/corrupt_policy.h). Under
// kFail the DataLoss error (file and offset) is returned after the records
// before it, and the iterator then moves on to the next file, so a caller
// that ignores errors never spins (tensorflow#25700).
//
// Thread-safety: see dataset.h. `stats` (optional, shared) is updated with
// atomics from reader threads.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/dataset/dataset.h"
#include "readers/record_reader.h"

namespace sluice {

struct TFRecordDatasetStats {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> records_skipped{0};  // kSkipRecord
  std::atomic<int64_t> files_abandoned{0};  // skip policies and errors
  std::atomic<int64_t> errors{0};           // errors returned to the caller
};

struct TFRecordDatasetOptions {
  Compression compression = Compression::kNone;
  bool detect_compression = false;  // per file, at open; `compression` unused
  int64_t buffer_size = 256 << 10;
  std::optional<int> num_parallel_reads;
  CorruptRecordPolicy corrupt_policy = CorruptRecordPolicy::kFail;
  Inflater inflater = Inflater::kIsal;
  bool map_file = false;  // RecordReaderOptions::map_file (read its caveat)
  std::shared_ptr<TFRecordDatasetStats> stats;
  // Reader threads' time (parallel reads): busy = reading, output wait =
  // blocked on a full per-file buffer. May be null.
  StageMetrics* metrics = nullptr;
};

Dataset TFRecordDataset(std::vector<std::string> files, TFRecordDatasetOptions options = {});

}  // namespace sluice
