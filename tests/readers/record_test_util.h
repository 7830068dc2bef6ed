#pragma once
// Helpers shared by the record tests: framing written by hand (independent
// of RecordWriter), zlib/gzip containers built with zlib directly, and a
// read-everything loop with a bounded number of calls.

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/crc32c.h"
#include "readers/record_reader.h"

namespace sluice::testing {

inline void PutFixed64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutFixed32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

// One record, framed as TensorFlow writes it.
inline std::string FrameRecord(std::string_view payload) {
  std::string s;
  PutFixed64(&s, payload.size());
  PutFixed32(&s, crc32c::Mask(crc32c::Value(s.data(), 8)));
  s.append(payload);
  PutFixed32(&s, crc32c::Mask(crc32c::Value(payload.data(), payload.size())));
  return s;
}

inline std::string FrameRecords(const std::vector<std::string>& records) {
  std::string s;
  for (const auto& r : records) s += FrameRecord(r);
  return s;
}

// A zlib (window_bits 15) or gzip (31) container made by zlib itself.
inline std::string Deflate(std::string_view data, int window_bits, int level = 6) {
  z_stream strm{};
  deflateInit2(&strm, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&strm, data.size()) + 64, '\0');
  strm.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  strm.avail_in = static_cast<uInt>(data.size());
  strm.next_out = reinterpret_cast<Bytef*>(out.data());
  strm.avail_out = static_cast<uInt>(out.size());
  deflate(&strm, Z_FINISH);
  out.resize(strm.total_out);
  deflateEnd(&strm);
  return out;
}
inline std::string Gzip(std::string_view data, int level = 6) { return Deflate(data, 31, level); }
inline std::string Zlib(std::string_view data, int level = 6) { return Deflate(data, 15, level); }
inline std::string RawDeflate(std::string_view data) { return Deflate(data, -15); }

// A gzip member with the optional header fields the gzip tool writes: FNAME,
// a non-zero mtime, and a chosen OS byte.
inline std::string GzipWithName(std::string_view data, std::string_view fname, uint8_t os) {
  std::string s = {'\x1f', '\x8b', '\x08', '\x08'};  // FLG = FNAME
  PutFixed32(&s, 1598485465u);                       // mtime
  s.push_back('\x00');                               // XFL
  s.push_back(static_cast<char>(os));
  s.append(fname);
  s.push_back('\0');
  s += RawDeflate(data);
  PutFixed32(&s, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()),
                                             static_cast<uInt>(data.size()))));
  PutFixed32(&s, static_cast<uint32_t>(data.size()));
  return s;
}

struct ReadResult {
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;
  absl::Status status;  // the status that ended the loop
};

// Reads until a non-OK status; at most `max_calls` calls so a reader that
// never ends fails the test instead of hanging it.
inline ReadResult ReadAll(RecordReader* reader, int max_calls = 1 << 20) {
  ReadResult r;
  for (int i = 0; i < max_calls; ++i) {
    absl::StatusOr<RecordView> v = reader->Next();
    if (!v.ok()) {
      r.status = v.status();
      return r;
    }
    r.records.emplace_back(v->data);
    r.offsets.push_back(v->offset);
  }
  r.status = absl::InternalError("reader did not end");
  return r;
}

inline ReadResult ReadAllFromMemory(std::string_view data, RecordReaderOptions options,
                                    std::string name = "test.tfrecord") {
  auto reader = RecordReader::FromMemory(data, options, std::move(name));
  if (!reader.ok()) return ReadResult{{}, {}, reader.status()};
  return ReadAll(reader->get());
}

inline std::string TempPath(std::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string base = dir != nullptr ? dir : "/tmp";
  return base + "/sluice_" + std::to_string(::getpid()) + "_" + std::string(name);
}

}  // namespace sluice::testing
