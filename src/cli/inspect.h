#pragma once
// `sluice inspect [--json] [--compression auto|none|zlib|gzip]
//                 [--policy fail|skip_record|skip_file] FILE...`
//
// Reads each TFRecord file to its end (or first error) and reports records,
// sizes, compression (detected from the magic bytes under auto), the records
// digest (sha256 over every good record fed as uint64 LE length || payload),
// CRC/framing errors with TensorFlow's offsets, the payload kind, and for
// Example / SequenceExample files the feature schema.
//
// --json prints one JSON object per file per line, with the keys of the
// corpus .expected.json files: "file" (base name), "path", "compression",
// "num_records" (good records before any error), "records_digest_sha256",
// "error" (null or {"code":"DATA_LOSS","offset":N,"message":...}),
// "payload_kind", "features" for Example files and "context_features" /
// "feature_lists" for SequenceExample files, plus sizes and skip counts.
//
// A FILE that is a checkpoint prefix is listed by InspectCheckpoint
// (inspect_checkpoint.h) instead.
//
// Exit status: 0 when every file read clean, 1 when any file had a data
// error (a stopping error, or corruption a skip policy absorbed) or could not
// be opened, 2 for a usage error.

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "readers/compression.h"
#include "readers/corrupt_policy.h"
#include "readers/payload_kind.h"

namespace sluice::cli {

struct InspectOptions {
  bool json = false;
  std::optional<Compression> compression;  // nullopt: detect
  CorruptRecordPolicy policy = CorruptRecordPolicy::kFail;
};

// What one file holds. Data errors are part of the report, not a status.
struct FileReport {
  std::string path;
  uint64_t file_size = 0;
  Compression compression = Compression::kNone;
  bool compression_detected = false;
  uint64_t num_records = 0;
  uint64_t decompressed_size = 0;  // offset reached in the decompressed stream
  uint64_t length_min = 0, length_max = 0, length_total = 0;
  std::string digest_sha256;
  absl::Status error;                    // the error that ended reading, or OK
  std::optional<uint64_t> error_offset;  // TensorFlow's offset, when it has one
  uint64_t records_skipped = 0;
  uint64_t files_abandoned = 0;
  PayloadKind payload_kind = PayloadKind::kRaw;
  ExampleSchemaSummary example_schema;
  SequenceExampleSchemaSummary sequence_schema;

  bool clean() const { return error.ok() && records_skipped == 0 && files_abandoned == 0; }
};

FileReport InspectFile(const std::string& path, const InspectOptions& options);

// One line of JSON (no trailing newline).
std::string FormatJson(const FileReport& report);
// A few readable lines.
std::string FormatText(const FileReport& report);

// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

// The subcommand: argv[0] is "inspect". Returns the exit status.
int RunInspect(int argc, char** argv, std::ostream& out, std::ostream& err);
void PrintInspectHelp(std::ostream& out);

}  // namespace sluice::cli
