#include "cli/inspect.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/sha256.h"
#include "core/absl_compat.h"
#include "cli/inspect_checkpoint.h"
#include "readers/record_reader.h"

namespace sluice::cli {
namespace {

// Length of a valid UTF-8 sequence at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (d < lo || d > hi) : (d >> 6) != 2) return 0;
  }
  return n;
}

}  // namespace

// Invalid UTF-8 becomes U+FFFD, as the reference tool's decode("utf-8",
// "replace") does.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.data() + i, n);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
    i += n;
  }
  out += '"';
  return out;
}

namespace {

std::string JsonStringList(const std::set<std::string>& items) {
  std::string out = "[";
  bool first = true;
  for (const std::string& s : items) {
    if (!first) out += ",";
    first = false;
    out += JsonString(s);
  }
  return out + "]";
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// TensorFlow's offset from the reader's "... record at OFF in NAME".
std::optional<uint64_t> OffsetFromMessage(std::string_view msg) {
  size_t at = msg.find("record at ");
  if (at == std::string_view::npos) return std::nullopt;
  at += 10;
  uint64_t v = 0;
  size_t digits = 0;
  while (at < msg.size() && msg[at] >= '0' && msg[at] <= '9') {
    v = v * 10 + (msg[at++] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return v;
}

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

void PutLength(uint64_t n, char out[8]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
}

}  // namespace

FileReport InspectFile(const std::string& path, const InspectOptions& options) {
  FileReport report;
  report.path = path;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) report.file_size = static_cast<uint64_t>(st.st_size);

  if (options.compression.has_value()) {
    report.compression = *options.compression;
  } else {
    std::ifstream in(path, std::ios::binary);
    char head[64];
    in.read(head, sizeof(head));
    report.compression = DetectCompression(std::string_view(head, in.gcount()));
    report.compression_detected = true;
  }

  RecordReaderOptions ro;
  ro.compression = report.compression;
  ro.corrupt_policy = options.policy;
  auto opened = RecordReader::Open(path, ro);
  Sha256 sha;
  if (!opened.ok()) {
    report.error = opened.status();
    report.digest_sha256 = sha.HexDigest();
    return report;
  }
  std::unique_ptr<RecordReader> reader = std::move(opened).value();
  RecordBatch batch;
  bool first = true;
  while (true) {
    absl::Status s = reader->ReadMany(1024, &batch);
    if (absl::IsOutOfRange(s)) break;
    if (!s.ok()) {
      report.error = s;
      report.error_offset = OffsetFromMessage(Sv(s.message()));
      break;
    }
    for (std::string_view rec : batch.records()) {
      char len[8];
      PutLength(rec.size(), len);
      sha.Update(std::string_view(len, 8));
      sha.Update(rec);
      report.length_min = first ? rec.size() : std::min<uint64_t>(report.length_min, rec.size());
      report.length_max = std::max<uint64_t>(report.length_max, rec.size());
      report.length_total += rec.size();
      if (first) report.payload_kind = ClassifyPayload(rec);
      first = false;
      ++report.num_records;
      if (report.payload_kind == PayloadKind::kExample) report.example_schema.Add(rec);
      if (report.payload_kind == PayloadKind::kSequenceExample) report.sequence_schema.Add(rec);
    }
  }
  report.decompressed_size = reader->offset();
  report.records_skipped = reader->stats().records_skipped;
  report.files_abandoned = reader->stats().files_abandoned;
  report.digest_sha256 = sha.HexDigest();
  return report;
}

std::string FormatJson(const FileReport& r) {
  std::string out = absl::StrCat(
      "{\"file\":", JsonString(BaseName(r.path)), ",\"path\":", JsonString(r.path),
      ",\"file_size\":", r.file_size, ",\"compression\":\"", CompressionName(r.compression),
      "\",\"compression_detected\":", r.compression_detected ? "true" : "false",
      ",\"num_records\":", r.num_records, ",\"decompressed_size\":", r.decompressed_size,
      ",\"record_length_min\":", r.num_records ? absl::StrCat(r.length_min) : "null",
      ",\"record_length_max\":", r.num_records ? absl::StrCat(r.length_max) : "null",
      ",\"record_length_total\":", r.length_total, ",\"records_digest_sha256\":\"",
      r.digest_sha256, "\",\"all_crcs_ok\":", r.clean() ? "true" : "false", ",\"error\":");
  if (r.error.ok()) {
    out += "null";
  } else {
    absl::StrAppend(&out, "{\"code\":\"", CodeName(r.error.code()), "\",\"offset\":",
                    r.error_offset ? absl::StrCat(*r.error_offset) : "null",
                    ",\"message\":", JsonString(Sv(r.error.message())), "}");
  }
  absl::StrAppend(&out, ",\"records_skipped\":", r.records_skipped,
                  ",\"files_abandoned\":", r.files_abandoned, ",\"payload_kind\":\"",
                  Sv(PayloadKindName(r.payload_kind)), "\"");
  if (r.payload_kind == PayloadKind::kExample) {
    out += ",\"features\":{";
    bool first = true;
    for (const auto& [name, f] : r.example_schema.features()) {
      if (!first) out += ",";
      first = false;
      absl::StrAppend(&out, JsonString(name), ":{\"kinds\":", JsonStringList(f.kinds),
                      ",\"present_in_records\":", f.present_in_records,
                      ",\"count_min\":", f.count_min, ",\"count_max\":", f.count_max, "}");
    }
    absl::StrAppend(&out, "},\"payload_decode_errors\":", r.example_schema.decode_errors());
  }
  if (r.payload_kind == PayloadKind::kSequenceExample) {
    out += ",\"context_features\":{";
    bool first = true;
    for (const auto& [name, kinds] : r.sequence_schema.context()) {
      if (!first) out += ",";
      first = false;
      absl::StrAppend(&out, JsonString(name), ":", JsonStringList(kinds));
    }
    out += "},\"feature_lists\":{";
    first = true;
    for (const auto& [name, f] : r.sequence_schema.feature_lists()) {
      if (!first) out += ",";
      first = false;
      absl::StrAppend(&out, JsonString(name), ":{\"kinds\":", JsonStringList(f.kinds),
                      ",\"present_in_records\":", f.present_in_records,
                      ",\"num_steps_min\":", f.num_steps_min,
                      ",\"num_steps_max\":", f.num_steps_max, "}");
    }
    absl::StrAppend(&out, "},\"payload_decode_errors\":", r.sequence_schema.decode_errors());
  }
  out += "}";
  return out;
}

std::string FormatText(const FileReport& r) {
  std::string out = absl::StrCat(r.path, "\n");
  absl::StrAppendFormat(&out, "  compression  %s%s, %d bytes on disk, %d decompressed\n",
                        CompressionName(r.compression),
                        r.compression_detected ? " (detected)" : "", r.file_size,
                        r.decompressed_size);
  if (r.num_records > 0) {
    absl::StrAppendFormat(&out, "  records      %d good, %d payload bytes (%d..%d per record)\n",
                          r.num_records, r.length_total, r.length_min, r.length_max);
  } else {
    absl::StrAppendFormat(&out, "  records      0 good\n");
  }
  absl::StrAppendFormat(&out, "  digest       sha256 %s\n", r.digest_sha256);
  if (r.error.ok()) {
    absl::StrAppendFormat(&out, "  status       OK%s\n",
                          r.clean() ? ""
                                    : absl::StrFormat(" after skipping %d records, %d files "
                                                      "abandoned",
                                                      r.records_skipped, r.files_abandoned));
  } else {
    absl::StrAppendFormat(&out, "  status       %s: %s (after %d good records)\n",
                          CodeName(r.error.code()), Sv(r.error.message()), r.num_records);
  }
  absl::StrAppendFormat(&out, "  payload      %s\n", Sv(PayloadKindName(r.payload_kind)));
  if (r.payload_kind == PayloadKind::kExample) {
    size_t width = 8;
    for (const auto& [name, f] : r.example_schema.features()) width = std::max(width, name.size());
    absl::StrAppendFormat(&out, "  features     %-*s  %-30s  %-9s  %s\n", width, "name", "kinds",
                          "present", "values");
    for (const auto& [name, f] : r.example_schema.features()) {
      std::string kinds;
      for (const std::string& k : f.kinds) absl::StrAppend(&kinds, kinds.empty() ? "" : ",", k);
      absl::StrAppendFormat(&out, "               %-*s  %-30s  %-9s  %d..%d\n", width, name, kinds,
                            absl::StrCat(f.present_in_records, "/", r.num_records), f.count_min,
                            f.count_max);
    }
    if (r.example_schema.decode_errors() > 0) {
      absl::StrAppendFormat(&out, "  malformed    %d records are not valid Examples\n",
                            r.example_schema.decode_errors());
    }
  }
  if (r.payload_kind == PayloadKind::kSequenceExample) {
    for (const auto& [name, kinds] : r.sequence_schema.context()) {
      std::string k;
      for (const std::string& s : kinds) absl::StrAppend(&k, k.empty() ? "" : ",", s);
      absl::StrAppendFormat(&out, "  context      %s  %s\n", name, k);
    }
    for (const auto& [name, f] : r.sequence_schema.feature_lists()) {
      std::string k;
      for (const std::string& s : f.kinds) absl::StrAppend(&k, k.empty() ? "" : ",", s);
      absl::StrAppendFormat(&out, "  list         %s  %s  in %d records, %d..%d steps\n", name, k,
                            f.present_in_records, f.num_steps_min, f.num_steps_max);
    }
  }
  return out;
}

void PrintInspectHelp(std::ostream& out) {
  out << "usage: sluice inspect [--json] [--compression auto|none|zlib|gzip]\n"
         "                      [--policy fail|skip_record|skip_file] FILE|CKPT_PREFIX...\n"
         "\n"
         "Reads TFRecord files and reports records, sizes, compression, CRC and\n"
         "framing errors (with TensorFlow's offsets), the records digest, the payload\n"
         "kind and, for tf.train.Example files, the feature schema.\n"
         "\n"
         "A checkpoint prefix (PREFIX.index exists, as model.ckpt-100 or\n"
         "variables/variables; TensorFlow's V2 format or sluice's old one) lists\n"
         "each variable: name, dtype, shape, bytes, the SHA-256 of its raw\n"
         "little-endian bytes (strings: uint64 LE length || bytes per element) and\n"
         "its values when it has at most 16 elements. A corrupt index or data file\n"
         "is reported as DATA_LOSS naming the file.\n"
         "\n"
         "  --json           one JSON object per file per line\n"
         "  --compression    auto (default: detect from the magic bytes), none, zlib, gzip\n"
         "  --policy         on corrupt data: fail (default), skip_record, skip_file\n"
         "\n"
         "Exit status: 0 every file clean, 1 a data error in some file, 2 usage error.\n";
}

int RunInspect(int argc, char** argv, std::ostream& out, std::ostream& err) {
  InspectOptions options;
  std::vector<std::string> files;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      files.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      PrintInspectHelp(out);
      return 0;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    std::string name = arg, value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg == "--compression" || arg == "--policy") {
      if (i + 1 >= argc) {
        err << "sluice inspect: " << arg << " needs a value\n";
        return 2;
      }
      value = argv[++i];
    }
    if (name == "--compression") {
      std::string lower = absl::AsciiStrToLower(value);
      if (lower == "auto") {
        options.compression.reset();
        continue;
      }
      auto c = ParseCompression(value);
      if (!c.ok() || lower.empty()) {
        err << "sluice inspect: unknown compression '" << value
            << "' (want auto, none, zlib or gzip)\n";
        return 2;
      }
      options.compression = *c;
      continue;
    }
    if (name == "--policy") {
      auto p = ParseCorruptRecordPolicy(value);
      if (!p.ok() || value.empty()) {
        err << "sluice inspect: unknown policy '" << value
            << "' (want fail, skip_record or skip_file)\n";
        return 2;
      }
      options.policy = *p;
      continue;
    }
    err << "sluice inspect: unknown option '" << arg << "' (see sluice inspect --help)\n";
    return 2;
  }
  if (files.empty()) {
    err << "sluice inspect: no FILE given (see sluice inspect --help)\n";
    return 2;
  }
  int status = 0;
  for (const std::string& f : files) {
    if (IsCheckpointPrefix(f)) {
      if (InspectCheckpoint(f, options.json, out) != 0) status = 1;
      continue;
    }
    FileReport r = InspectFile(f, options);
    if (!r.clean()) status = 1;
    out << (options.json ? FormatJson(r) + "\n" : FormatText(r)) << std::flush;
  }
  return status;
}

}  // namespace sluice::cli
