// libFuzzer target: RecordReader on arbitrary bytes, every compression,
// inflater, corrupt policy and a range of buffer sizes. For NONE streams the
// records and the final status are checked against a small independent
// walker of the framing (record_format.h's layout, TensorFlow's messages).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "readers/record_reader.h"

namespace {

#define FUZZ_CHECK(cond)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      std::fprintf(stderr, "check failed: %s\n", #cond);      \
      std::abort();                                           \
    }                                                         \
  } while (0)

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

struct Walk {
  std::vector<std::string> records;
  std::string error;  // TensorFlow's message without the file name, or ""
};

Walk ReferenceWalk(const uint8_t* d, size_t n, uint64_t max_record_size) {
  Walk w;
  size_t off = 0;
  while (off < n) {
    if (n - off < 12) {
      w.error = "truncated record at " + std::to_string(off);
      return w;
    }
    const uint64_t len = Load64(d + off);
    if (sluice::crc32c::Unmask(Load32(d + off + 8)) !=
        sluice::crc32c::Value(reinterpret_cast<const char*>(d + off), 8)) {
      w.error = "corrupted record at " + std::to_string(off);
      return w;
    }
    if (len > max_record_size) {
      w.error = "record at " + std::to_string(off);
      return w;
    }
    if (n - off - 12 < len + 4) {
      w.error = "truncated record at " + std::to_string(n - off == 12 ? off : off + 12);
      return w;
    }
    const char* payload = reinterpret_cast<const char*>(d + off + 12);
    if (sluice::crc32c::Unmask(Load32(d + off + 12 + len)) != sluice::crc32c::Value(payload, len)) {
      w.error = "corrupted record at " + std::to_string(off + 12);
      return w;
    }
    w.records.emplace_back(payload, len);
    off += 16 + len;
  }
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t a = data[0], b = data[1];
  data += 2;
  size -= 2;
  sluice::RecordReaderOptions o;
  o.compression = static_cast<sluice::Compression>(a % 3);
  o.inflater = (a / 3) % 2 ? sluice::Inflater::kZlib : sluice::Inflater::kIsal;
  o.corrupt_policy = static_cast<sluice::CorruptRecordPolicy>((a / 6) % 3);
  static constexpr size_t kSizes[] = {1, 2, 3, 7, 16, 100, 4096, 65536};
  o.buffer_size = kSizes[b % 8];
  o.max_record_size = 1 << 20;
  o.max_decompressed_bytes = 8 << 20;
  const bool use_many = (b / 8) % 2;

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto reader = sluice::RecordReader::FromMemory(input, o, "fuzz");
  FUZZ_CHECK(reader.ok());
  std::vector<std::string> got;
  absl::Status status;
  uint64_t last_offset = 0;
  for (int calls = 0;; ++calls) {
    FUZZ_CHECK(calls < (1 << 22));  // no spinning
    if (use_many) {
      sluice::RecordBatch batch;
      status = (*reader)->ReadMany(5, &batch);
      if (!status.ok()) break;
      FUZZ_CHECK(!batch.empty());
      for (size_t i = 0; i < batch.size(); ++i) {
        FUZZ_CHECK(i == 0 || batch.offset(i) > batch.offset(i - 1));
        got.emplace_back(batch.record(i));
      }
    } else {
      auto v = (*reader)->Next();
      if (!v.ok()) {
        status = v.status();
        break;
      }
      FUZZ_CHECK(got.empty() || v->offset > last_offset);
      last_offset = v->offset;
      got.emplace_back(v->data);
    }
  }
  FUZZ_CHECK(absl::IsOutOfRange(status) || absl::IsDataLoss(status) ||
             absl::IsResourceExhausted(status));
  if (o.corrupt_policy != sluice::CorruptRecordPolicy::kFail) {
    FUZZ_CHECK(absl::IsOutOfRange(status));
  }

  if (o.compression == sluice::Compression::kNone &&
      o.corrupt_policy == sluice::CorruptRecordPolicy::kFail) {
    const Walk w = ReferenceWalk(data, size, o.max_record_size);
    FUZZ_CHECK(got == w.records);
    if (w.error.empty()) {
      FUZZ_CHECK(absl::IsOutOfRange(status));
    } else {
      FUZZ_CHECK(std::string(status.message()).rfind(w.error, 0) == 0);
    }
  }
  return 0;
}
