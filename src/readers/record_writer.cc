#include "readers/record_writer.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/crc32c.h"
#include "core/status.h"
#include "readers/internal/byte_sink.h"
#include "readers/record_format.h"

namespace sluice {

namespace rf = record_format;

struct RecordWriter::Deflater {
  z_stream strm;
  bool initialised = false;
  std::vector<char> out;
  ~Deflater() {
    if (initialised) deflateEnd(&strm);
  }
};

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Open(std::string path,
                                                                 RecordWriterOptions options) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<internal::ByteSink> sink,
                          internal::OpenFileSink(path));
  std::unique_ptr<RecordWriter> w(new RecordWriter(std::move(sink), options));
  SLUICE_RETURN_IF_ERROR(w->Init());
  return w;
}

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::ToString(
    std::string* out, RecordWriterOptions options) {
  std::unique_ptr<RecordWriter> w(new RecordWriter(internal::NewStringSink(out), options));
  SLUICE_RETURN_IF_ERROR(w->Init());
  return w;
}

RecordWriter::RecordWriter(std::unique_ptr<internal::ByteSink> sink, RecordWriterOptions options)
    : sink_(std::move(sink)), options_(options) {}

RecordWriter::~RecordWriter() { Close().IgnoreError(); }

absl::Status RecordWriter::Init() {
  if (options_.buffer_size == 0) return absl::InvalidArgumentError("buffer_size must be > 0");
  if (options_.compression_level < -1 || options_.compression_level > 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("compression_level ", options_.compression_level, " is not in -1..9"));
  }
  pending_.resize(options_.buffer_size);
  if (options_.compression == Compression::kNone) return absl::OkStatus();
  deflater_ = std::make_unique<Deflater>();
  std::memset(&deflater_->strm, 0, sizeof(z_stream));
  const int window = options_.compression == Compression::kGzip ? 16 + MAX_WBITS : MAX_WBITS;
  if (deflateInit2(&deflater_->strm, options_.compression_level, Z_DEFLATED, window,
                   /*memLevel=*/8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib deflateInit2 failed");
  }
  deflater_->initialised = true;
  deflater_->out.resize(std::max<size_t>(options_.buffer_size, 4096));
  return absl::OkStatus();
}

absl::Status RecordWriter::Emit(const char* p, size_t n, int flush) {
  if (!deflater_) return sink_->Append(p, n);
  z_stream& s = deflater_->strm;
  std::vector<char>& out = deflater_->out;
  constexpr size_t kMax = 1u << 30;  // zlib counts in uInt
  do {
    const size_t step = std::min(n, kMax);
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    s.avail_in = static_cast<uInt>(step);
    const int f = step == n ? flush : Z_NO_FLUSH;
    do {
      s.next_out = reinterpret_cast<Bytef*>(out.data());
      s.avail_out = static_cast<uInt>(out.size());
      const int ret = deflate(&s, f);
      if (ret == Z_STREAM_ERROR) return absl::InternalError("zlib deflate failed");
      const size_t have = out.size() - s.avail_out;
      if (have > 0) SLUICE_RETURN_IF_ERROR(sink_->Append(out.data(), have));
      // Done with this input when zlib had room to spare (or, finishing,
      // when it says the stream ended).
      if (f == Z_FINISH ? ret == Z_STREAM_END : s.avail_out != 0) break;
    } while (true);
    p += step;
    n -= step;
  } while (n > 0);
  return absl::OkStatus();
}

absl::Status RecordWriter::FlushPending() {
  if (pending_size_ == 0) return absl::OkStatus();
  const size_t n = pending_size_;
  pending_size_ = 0;
  return Emit(pending_.data(), n, Z_NO_FLUSH);
}

absl::Status RecordWriter::Append(const char* p, size_t n) {
  if (n >= pending_.size()) {
    // Large payloads go straight through instead of through the buffer.
    SLUICE_RETURN_IF_ERROR(FlushPending());
    return Emit(p, n, Z_NO_FLUSH);
  }
  if (pending_size_ + n > pending_.size()) SLUICE_RETURN_IF_ERROR(FlushPending());
  std::memcpy(pending_.data() + pending_size_, p, n);
  pending_size_ += n;
  return absl::OkStatus();
}

absl::Status RecordWriter::Write(std::string_view record) {
  if (!error_.ok()) return error_;
  if (closed_) return absl::FailedPreconditionError("RecordWriter::Write after Close");
  char header[rf::kHeaderSize];
  rf::EncodeFixed64(header, record.size());
  rf::EncodeFixed32(header + rf::kLengthSize, crc32c::Mask(crc32c::Value(header, rf::kLengthSize)));
  char footer[rf::kFooterSize];
  rf::EncodeFixed32(footer, crc32c::Mask(crc32c::Value(record.data(), record.size())));
  absl::Status s = Append(header, sizeof(header));
  if (s.ok()) s = Append(record.data(), record.size());
  if (s.ok()) s = Append(footer, sizeof(footer));
  if (!s.ok()) return error_ = s;
  offset_ += rf::kOverhead + record.size();
  return absl::OkStatus();
}

absl::Status RecordWriter::Flush() {
  if (!error_.ok()) return error_;
  if (closed_) return absl::FailedPreconditionError("RecordWriter::Flush after Close");
  absl::Status s = FlushPending();
  if (s.ok() && deflater_) s = Emit(nullptr, 0, Z_SYNC_FLUSH);
  if (!s.ok()) error_ = s;
  return s;
}

absl::Status RecordWriter::Close() {
  if (closed_) return error_;
  closed_ = true;
  absl::Status s = error_;
  if (s.ok()) s = FlushPending();
  if (s.ok() && deflater_) s = Emit(nullptr, 0, Z_FINISH);
  absl::Status c = sink_->Close();
  if (s.ok()) s = c;
  error_ = s;
  return s;
}

}  // namespace sluice
