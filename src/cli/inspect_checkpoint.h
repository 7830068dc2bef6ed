#pragma once
// `sluice inspect CKPT_PREFIX [--json]`: the variables of a checkpoint
// (TensorFlow's V2 tensor bundle or sluice's older format, graph/checkpoint.h).
//
// Text: one line per variable, "name  dtype  [shape]  bytes  sha256  values".
// JSON: one object per checkpoint, one line:
//   {"checkpoint":PREFIX,"format":"tensor_bundle_v2"|"sluice_v1",
//    "variables":[{"name","dtype","shape","bytes","sha256","crc_ok","values"}],
//    "error":null|{"code":"DATA_LOSS","message":...}}
// with the keys and dtype spellings (float32, int64, ...) of the corpus's
// variables.expected.json files. "values" lists the elements of a tensor
// with at most 16 (null otherwise); "sha256" is over the raw little-endian
// bytes (strings: uint64 LE length || bytes, per element).
//
// A corrupt or truncated index or data file ends the listing with its
// error (DATA_LOSS naming the file); it never crashes.

#include <ostream>
#include <string>

namespace sluice::cli {

// True when PREFIX.index exists and PREFIX itself is not a regular file.
bool IsCheckpointPrefix(const std::string& path);

// Prints the report; returns 0 when every tensor read back with its
// checksum, 1 otherwise.
int InspectCheckpoint(const std::string& prefix, bool json, std::ostream& out);

}  // namespace sluice::cli
