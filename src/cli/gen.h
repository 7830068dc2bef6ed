#pragma once
// `sluice gen --out DIR --records N --shards S --record-bytes B
//             --compression none|zlib|gzip --seed K [--corrupt SPEC]`
//
// Writes synthetic MNIST-like TFRecord shards and DIR/manifest.json (the
// gen library: pipeline/synthetic_records.h): record i is an Example with
// "image" (B bytes), "label" (int64 in [0,10)) and "id" (i), deterministic
// for a seed; the manifest holds per-shard record counts and checksums
// so tests can prove exactly-once delivery. --corrupt damages chosen
// records: "data_crc:SHARD:RECORD,length_crc:S:R,truncate:S:R".
//
// Exit status: 0 on success, 1 when writing fails, 2 for a usage error.

#include <ostream>

namespace sluice::cli {

int RunGen(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace sluice::cli
