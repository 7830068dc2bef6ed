#pragma once
// Compression of a TFRecord stream. The compression wraps the whole stream
// of records, never single records (docs/spec/tfrecord-and-example.md):
//   NONE  plain framing
//   ZLIB  an RFC 1950 zlib stream (zlib windowBits 15)
//   GZIP  RFC 1952 gzip, any header (FNAME, mtime, OS byte, FEXTRA,
//         FCOMMENT), concatenated members read as one stream
//
// Thread-safe: these are pure functions.

#include <string_view>

#include "absl/status/statusor.h"

namespace sluice {

enum class Compression { kNone, kZlib, kGzip };

// Which library inflates ZLIB/GZIP streams. kIsal (Intel ISA-L igzip,
// streaming) is the fast default; kZlib is the reference implementation.
// Both give the same bytes and the same error codes.
enum class Inflater { kIsal, kZlib };

// Parses TensorFlow's compression_type names: "" and "NONE" are kNone,
// "ZLIB" and "GZIP" (any letter case). Anything else is InvalidArgument.
absl::StatusOr<Compression> ParseCompression(std::string_view name);
// "NONE", "ZLIB" or "GZIP".
const char* CompressionName(Compression c);

// Parses "isal" or "zlib"; anything else is InvalidArgument.
absl::StatusOr<Inflater> ParseInflater(std::string_view name);
const char* InflaterName(Inflater i);

// Guesses the compression of a stream from its first bytes (pass at least
// 12 when the stream has them). A valid TFRecord header (its length CRC
// matches) means NONE even when its first bytes happen to look like a zlib
// header; then gzip magic `1f 8b`, then a zlib CMF/FLG pair; else NONE.
// Detection is for tools such as `sluice inspect` and for
// TFRecordDatasetOptions::detect_compression (the Python package's
// compression_type=None); readers take the compression explicitly, as
// TensorFlow's do.
Compression DetectCompression(std::string_view head);

}  // namespace sluice
