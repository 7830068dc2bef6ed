#include "cli/gen.h"

#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "pipeline/synthetic_records.h"

namespace sluice::cli {
namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: sluice gen --out DIR --records N --shards S --record-bytes B\n"
         "                  --compression none|zlib|gzip --seed K [--corrupt SPEC]\n"
         "\n"
         "Writes S TFRecord shards of N MNIST-like Examples in total (\"image\": B bytes,\n"
         "\"label\": int64, \"id\": the record index), deterministic for a seed, and\n"
         "DIR/manifest.json with per-shard record counts and checksums.\n"
         "  --corrupt SPEC   damage records, e.g. data_crc:0:5,length_crc:1:0,truncate:2:9\n"
         "                   (KIND:SHARD:RECORD; RECORD counts within the shard)\n"
         "Defaults: --records 1000 --shards 1 --record-bytes 784 --compression none --seed 1\n";
}

}  // namespace

int RunGen(int argc, char** argv, std::ostream& out, std::ostream& err) {
  SyntheticOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(out);
      return 0;
    }
    if (i + 1 >= argc) {
      err << "sluice gen: " << arg << " needs a value (or is unknown)\n";
      return 2;
    }
    const std::string value = argv[++i];
    bool ok = true;
    if (arg == "--out") {
      o.out_dir = value;
    } else if (arg == "--records") {
      ok = absl::SimpleAtoi(value, &o.records) && o.records >= 0;
    } else if (arg == "--shards") {
      ok = absl::SimpleAtoi(value, &o.shards) && o.shards >= 1;
    } else if (arg == "--record-bytes") {
      ok = absl::SimpleAtoi(value, &o.record_bytes) && o.record_bytes >= 0;
    } else if (arg == "--seed") {
      ok = absl::SimpleAtoi(value, &o.seed);
    } else if (arg == "--compression") {
      auto c = ParseCompression(value);
      ok = c.ok();
      if (ok) o.compression = *c;
    } else if (arg == "--corrupt") {
      auto specs = ParseCorruptionSpecs(value);
      if (!specs.ok()) {
        err << "sluice gen: " << specs.status().message() << "\n";
        return 2;
      }
      o.corrupt = *specs;
    } else {
      err << "sluice gen: unknown option '" << arg << "'\n";
      PrintUsage(err);
      return 2;
    }
    if (!ok) {
      err << "sluice gen: bad value '" << value << "' for " << arg << "\n";
      return 2;
    }
  }
  if (o.out_dir.empty()) {
    err << "sluice gen: --out DIR is required\n";
    PrintUsage(err);
    return 2;
  }
  absl::StatusOr<Manifest> m = GenerateSynthetic(o);
  if (!m.ok()) {
    err << "sluice gen: " << m.status().message() << "\n";
    return absl::IsInvalidArgument(m.status()) ? 2 : 1;
  }
  out << "wrote " << m->records << " records in " << m->shards.size() << " shard"
      << (m->shards.size() == 1 ? "" : "s") << " (" << CompressionName(m->compression) << ", "
      << m->record_bytes << "-byte images, seed " << m->seed << ")";
  if (!m->corrupt.empty()) out << ", " << m->corrupt.size() << " damaged";
  out << " to " << o.out_dir << "\n";
  return 0;
}

}  // namespace sluice::cli
