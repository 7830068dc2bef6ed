#include "pipeline/synthetic_records.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"
#include "core/crc32c.h"
#include "core/random.h"
#include "core/status.h"
#include "readers/example_builder.h"
#include "readers/record_format.h"

namespace sluice {
namespace {

void AppendFrame(std::string_view payload, std::string* out) {
  char header[record_format::kHeaderSize];
  record_format::EncodeFixed64(header, payload.size());
  record_format::EncodeFixed32(header + 8,
                               crc32c::Mask(crc32c::Value(header, record_format::kLengthSize)));
  out->append(header, sizeof header);
  out->append(payload.data(), payload.size());
  char footer[4];
  record_format::EncodeFixed32(footer, crc32c::Mask(crc32c::Value(payload)));
  out->append(footer, 4);
}

absl::StatusOr<std::string> Deflate(const std::string& in, Compression c) {
  if (c == Compression::kNone) return in;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  const int window_bits = c == Compression::kGzip ? 15 + 16 : 15;
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError(absl::StrCat("deflate failed: ", rc));
  out.resize(produced);
  return out;
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
  }
  const size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const int close_rc = std::fclose(f);
  if (n != bytes.size() || close_rc != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

const char* Extension(Compression c) {
  switch (c) {
    case Compression::kNone: return ".tfrecord";
    case Compression::kZlib: return ".tfrecord.zlib";
    case Compression::kGzip: return ".tfrecord.gz";
  }
  return ".tfrecord";
}

}  // namespace

const char* CorruptionKindName(CorruptionKind k) {
  switch (k) {
    case CorruptionKind::kDataCrc: return "data_crc";
    case CorruptionKind::kLengthCrc: return "length_crc";
    case CorruptionKind::kTruncate: return "truncate";
  }
  return "?";
}

absl::StatusOr<std::vector<CorruptionSpec>> ParseCorruptionSpecs(std::string_view text) {
  std::vector<CorruptionSpec> out;
  if (text.empty()) return out;
  for (absl::string_view item : absl::StrSplit(Sv(text), ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
    CorruptionSpec c;
    int64_t shard = -1;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &shard) ||
        !absl::SimpleAtoi(parts[2], &c.record) || shard < 0 || c.record < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad corruption '", item, "' (want data_crc|length_crc|truncate:SHARD:RECORD)"));
    }
    c.shard = static_cast<int>(shard);
    if (parts[0] == "data_crc") {
      c.kind = CorruptionKind::kDataCrc;
    } else if (parts[0] == "length_crc") {
      c.kind = CorruptionKind::kLengthCrc;
    } else if (parts[0] == "truncate") {
      c.kind = CorruptionKind::kTruncate;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown corruption kind '", parts[0], "'"));
    }
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> Manifest::files() const {
  std::vector<std::string> out;
  for (const auto& s : shards) out.push_back(s.file);
  return out;
}

int64_t SyntheticLabel(uint64_t seed, int64_t id) {
  Random rng(Random::DeriveSeed(seed, static_cast<uint64_t>(id)), 0x5eed);
  return static_cast<int64_t>(rng.Uniform(10));
}

std::string SyntheticExample(uint64_t seed, int64_t id, int64_t record_bytes) {
  Random rng(Random::DeriveSeed(seed, static_cast<uint64_t>(id)), 0x5eed);
  const int64_t label = static_cast<int64_t>(rng.Uniform(10));
  std::string image(static_cast<size_t>(record_bytes), '\0');
  for (int64_t i = 0; i < record_bytes; i += 8) {
    uint64_t r = rng.Next64();
    for (int64_t k = i; k < std::min<int64_t>(i + 8, record_bytes); ++k, r >>= 8) {
      // ~80% zeros: a byte below 205 means blank; the rest is ink.
      const uint8_t b = static_cast<uint8_t>(r);
      image[k] = b < 205 ? 0 : static_cast<char>(b);
    }
  }
  // Make the image carry its id, so a test can tell records apart even
  // without parsing (the first 8 bytes, when there is room).
  if (record_bytes >= 8) std::memcpy(image.data(), &id, 8);
  ExampleBuilder b;
  std::string_view image_view = image;
  b.AddBytes("image", absl::Span<const std::string_view>(&image_view, 1));
  b.AddInt64s("label", {label});
  b.AddInt64s("id", {id});
  return b.Serialize();
}

absl::StatusOr<Manifest> GenerateSynthetic(const SyntheticOptions& o) {
  if (o.records < 0 || o.shards < 1 || o.record_bytes < 0 || o.out_dir.empty()) {
    return absl::InvalidArgumentError(
        "gen needs --out DIR, --records >= 0, --shards >= 1, --record-bytes >= 0");
  }
  for (const CorruptionSpec& c : o.corrupt) {
    const int64_t in_shard = (c.shard + 1) * o.records / o.shards - c.shard * o.records / o.shards;
    if (c.shard >= o.shards || c.record >= in_shard) {
      return absl::InvalidArgumentError(absl::StrCat(
          "corruption ", CorruptionKindName(c.kind), ":", c.shard, ":", c.record,
          " names a record that does not exist"));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", o.out_dir, ": ", ec.message()));

  Manifest m;
  m.records = o.records;
  m.record_bytes = o.record_bytes;
  m.seed = o.seed;
  m.compression = o.compression;
  m.corrupt = o.corrupt;
  for (int s = 0; s < o.shards; ++s) {
    ShardInfo info;
    info.first_id = s * o.records / o.shards;
    const int64_t end_id = (s + 1) * o.records / o.shards;
    info.records = end_id - info.first_id;
    const std::string name =
        absl::StrFormat("shard-%05d-of-%05d%s", s, o.shards, Extension(o.compression));
    info.file = (std::filesystem::path(o.out_dir) / name).string();
    std::string stream;
    std::vector<size_t> offsets;
    for (int64_t id = info.first_id; id < end_id; ++id) {
      const std::string ex = SyntheticExample(o.seed, id, o.record_bytes);
      info.checksum += crc32c::Value(ex);
      offsets.push_back(stream.size());
      AppendFrame(ex, &stream);
    }
    // Truncations last, so the offsets of the other damage stay valid.
    size_t truncate_at = stream.size();
    for (const CorruptionSpec& c : o.corrupt) {
      if (c.shard != s) continue;
      const size_t off = offsets[c.record];
      switch (c.kind) {
        case CorruptionKind::kDataCrc:
          stream[off + record_format::kHeaderSize] ^= 0x01;
          break;
        case CorruptionKind::kLengthCrc:
          stream[off + record_format::kLengthSize] ^= 0x01;
          break;
        case CorruptionKind::kTruncate: {
          const uint64_t len = record_format::DecodeFixed64(stream.data() + off);
          truncate_at = std::min(truncate_at, off + record_format::kHeaderSize + len / 2);
          break;
        }
      }
    }
    stream.resize(truncate_at);
    SLUICE_ASSIGN_OR_RETURN(std::string bytes, Deflate(stream, o.compression));
    SLUICE_RETURN_IF_ERROR(WriteFile(info.file, bytes));
    m.shards.push_back(std::move(info));
  }

  std::string json = absl::StrFormat(
      "{\n  \"records\": %d,\n  \"record_bytes\": %d,\n  \"seed\": %d,\n"
      "  \"compression\": \"%s\",\n  \"shards\": [\n",
      m.records, m.record_bytes, m.seed, CompressionName(m.compression));
  for (size_t i = 0; i < m.shards.size(); ++i) {
    const ShardInfo& s = m.shards[i];
    absl::StrAppendFormat(&json,
                          "    {\"file\": \"%s\", \"records\": %d, \"first_id\": %d, "
                          "\"checksum\": %d}%s\n",
                          std::filesystem::path(s.file).filename().string(), s.records,
                          s.first_id, s.checksum, i + 1 < m.shards.size() ? "," : "");
  }
  json += "  ],\n  \"corrupt\": [\n";
  for (size_t i = 0; i < m.corrupt.size(); ++i) {
    const CorruptionSpec& c = m.corrupt[i];
    absl::StrAppendFormat(&json, "    {\"kind\": \"%s\", \"shard\": %d, \"record\": %d}%s\n",
                          CorruptionKindName(c.kind), c.shard, c.record,
                          i + 1 < m.corrupt.size() ? "," : "");
  }
  json += "  ]\n}\n";
  SLUICE_RETURN_IF_ERROR(
      WriteFile((std::filesystem::path(o.out_dir) / "manifest.json").string(), json));
  return m;
}

namespace {

// The value after "key": on `line` (a number or a quoted string).
bool FieldAfter(const std::string& line, std::string_view key, std::string* out) {
  const std::string k = absl::StrCat("\"", Sv(key), "\": ");
  size_t p = line.find(k);
  if (p == std::string::npos) return false;
  p += k.size();
  if (p < line.size() && line[p] == '"') {
    const size_t e = line.find('"', p + 1);
    if (e == std::string::npos) return false;
    *out = line.substr(p + 1, e - p - 1);
    return true;
  }
  size_t e = p;
  while (e < line.size() && (std::isdigit(static_cast<unsigned char>(line[e])) || line[e] == '-')) ++e;
  *out = line.substr(p, e - p);
  return e > p;
}

}  // namespace

absl::StatusOr<Manifest> ReadManifest(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "manifest.json").string();
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Manifest m;
  std::string line, v;
  auto bad = [&] { return absl::DataLossError(absl::StrCat("malformed manifest ", path, ": ", line)); };
  while (std::getline(in, line)) {
    if (line.find("\"file\": ") != std::string::npos) {
      ShardInfo s;
      std::string records, first, sum;
      if (!FieldAfter(line, "file", &v) || !FieldAfter(line, "records", &records) ||
          !FieldAfter(line, "first_id", &first) || !FieldAfter(line, "checksum", &sum) ||
          !absl::SimpleAtoi(records, &s.records) || !absl::SimpleAtoi(first, &s.first_id) ||
          !absl::SimpleAtoi(sum, &s.checksum)) {
        return bad();
      }
      s.file = (std::filesystem::path(dir) / v).string();
      m.shards.push_back(std::move(s));
    } else if (line.find("\"kind\": ") != std::string::npos) {
      std::string kind, shard, record;
      if (!FieldAfter(line, "kind", &kind) || !FieldAfter(line, "shard", &shard) ||
          !FieldAfter(line, "record", &record)) {
        return bad();
      }
      SLUICE_ASSIGN_OR_RETURN(auto specs,
                              ParseCorruptionSpecs(absl::StrCat(kind, ":", shard, ":", record)));
      m.corrupt.push_back(specs[0]);
    } else if (FieldAfter(line, "records", &v)) {
      if (!absl::SimpleAtoi(v, &m.records)) return bad();
    } else if (FieldAfter(line, "record_bytes", &v)) {
      if (!absl::SimpleAtoi(v, &m.record_bytes)) return bad();
    } else if (FieldAfter(line, "seed", &v)) {
      if (!absl::SimpleAtoi(v, &m.seed)) return bad();
    } else if (FieldAfter(line, "compression", &v)) {
      SLUICE_ASSIGN_OR_RETURN(m.compression, ParseCompression(v));
    }
  }
  return m;
}

}  // namespace sluice
