#pragma once
// Synthetic MNIST-like TFRecord shards for tests and benchmarks (the
// library behind `sluice gen`).
//
// Record i (0 <= i < records) is a tf.train.Example with
//   "image"  bytes_list: one value of record_bytes bytes (about 80% zeros,
//            the rest pseudo-random, like a digit on a blank page)
//   "label"  int64_list: one value in [0, 10)
//   "id"     int64_list: i
// Every byte is a function of (seed, i): the same options give the same
// files. Shard s holds the contiguous ids [s*N/S, (s+1)*N/S), so a record's
// input position is its id.
//
// Corruption (--corrupt): chosen records are damaged in the decompressed
// stream before compression, so every compression type sees the same
// damage:
//   data_crc    flips a payload byte (the length stays trustworthy)
//   length_crc  flips a byte of the length's CRC (the next offset is unknown)
//   truncate    ends the shard in the middle of the record's payload
//
// The manifest (manifest.json in the output folder) lists, per shard, the
// file name, the record count, the first id, and an order-independent
// checksum (sum of crc32c of every payload, mod 2^64), plus every damaged
// record. ReadManifest reads it back.
//
// Thread-safety: pure functions over their arguments and the file system.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "readers/compression.h"

namespace sluice {

enum class CorruptionKind { kDataCrc, kLengthCrc, kTruncate };

struct CorruptionSpec {
  CorruptionKind kind = CorruptionKind::kDataCrc;
  int shard = 0;
  int64_t record = 0;  // index within the shard
};

// Parses "data_crc:SHARD:RECORD[,length_crc:SHARD:RECORD,truncate:S:R...]".
absl::StatusOr<std::vector<CorruptionSpec>> ParseCorruptionSpecs(std::string_view text);
const char* CorruptionKindName(CorruptionKind k);

struct SyntheticOptions {
  std::string out_dir;
  int64_t records = 1000;
  int shards = 1;
  int64_t record_bytes = 784;
  Compression compression = Compression::kNone;
  uint64_t seed = 1;
  std::vector<CorruptionSpec> corrupt;
};

struct ShardInfo {
  std::string file;  // path: out_dir/shard-SSSSS-of-TTTTT.tfrecord[.zz|.gz]
  int64_t records = 0;
  int64_t first_id = 0;
  uint64_t checksum = 0;  // sum of crc32c(payload) over the shard's records
};

struct Manifest {
  int64_t records = 0;
  int64_t record_bytes = 0;
  uint64_t seed = 0;
  Compression compression = Compression::kNone;
  std::vector<ShardInfo> shards;
  std::vector<CorruptionSpec> corrupt;
  std::vector<std::string> files() const;
};

// The serialized Example of record `id`.
std::string SyntheticExample(uint64_t seed, int64_t id, int64_t record_bytes);
// The label SyntheticExample puts in record `id`.
int64_t SyntheticLabel(uint64_t seed, int64_t id);

// Writes the shards and manifest.json (creating out_dir). InvalidArgument
// for bad options (records < 0, shards < 1, record_bytes < 0, a corruption
// naming a record that does not exist); I/O errors from the file system.
absl::StatusOr<Manifest> GenerateSynthetic(const SyntheticOptions& options);

// Reads out_dir/manifest.json as GenerateSynthetic wrote it; file paths are
// resolved against `dir`.
absl::StatusOr<Manifest> ReadManifest(const std::string& dir);

}  // namespace sluice
