#include "readers/internal/inflate_source.h"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice::internal {
namespace {

// One step of a streaming inflater.
struct StepResult {
  size_t consumed = 0;
  size_t produced = 0;
  bool stream_end = false;  // the member/stream and its trailer are complete
  size_t unread = 0;        // bytes counted in `consumed` (or before) that were not used
  const char* error = nullptr;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Prepares for a new member/stream.
  virtual void Reset() = 0;
  virtual StepResult Step(const char* in, size_t in_len, char* out, size_t out_len) = 0;
};

class ZlibEngine final : public Engine {
 public:
  explicit ZlibEngine(Compression c) {
    std::memset(&strm_, 0, sizeof(strm_));
    // 15: zlib wrapper; 16 + 15: gzip wrapper (any header fields).
    ok_ = inflateInit2(&strm_, c == Compression::kGzip ? 16 + MAX_WBITS : MAX_WBITS) == Z_OK;
  }
  ~ZlibEngine() override {
    if (ok_) inflateEnd(&strm_);
  }
  void Reset() override {
    if (ok_) inflateReset(&strm_);
  }
  StepResult Step(const char* in, size_t in_len, char* out, size_t out_len) override {
    StepResult r;
    if (!ok_) {
      r.error = "zlib inflateInit2 failed";
      return r;
    }
    // zlib counts in uInt; clamp so huge buffers never wrap.
    constexpr size_t kMax = 1u << 30;
    strm_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    strm_.avail_in = static_cast<uInt>(std::min(in_len, kMax));
    strm_.next_out = reinterpret_cast<Bytef*>(out);
    strm_.avail_out = static_cast<uInt>(std::min(out_len, kMax));
    const uInt avail_in = strm_.avail_in, avail_out = strm_.avail_out;
    int ret = inflate(&strm_, Z_NO_FLUSH);
    r.consumed = avail_in - strm_.avail_in;
    r.produced = avail_out - strm_.avail_out;
    if (ret == Z_STREAM_END) {
      r.stream_end = true;
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      r.error = strm_.msg != nullptr ? strm_.msg
                : ret == Z_NEED_DICT ? "stream needs a preset dictionary"
                                     : "inflate failed";
    }
    return r;
  }

 private:
  z_stream strm_;
  bool ok_ = false;
};

class IsalEngine final : public Engine {
 public:
  explicit IsalEngine(Compression c)
      : flag_(c == Compression::kGzip ? ISAL_GZIP : ISAL_ZLIB),
        state_(std::make_unique<inflate_state>()) {
    Reset();
  }
  void Reset() override {
    isal_inflate_init(state_.get());
    state_->crc_flag = flag_;
  }
  StepResult Step(const char* in, size_t in_len, char* out, size_t out_len) override {
    StepResult r;
    constexpr size_t kMax = 1u << 30;
    state_->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in));
    state_->avail_in = static_cast<uint32_t>(std::min(in_len, kMax));
    state_->next_out = reinterpret_cast<uint8_t*>(out);
    state_->avail_out = static_cast<uint32_t>(std::min(out_len, kMax));
    const uint32_t avail_in = state_->avail_in, avail_out = state_->avail_out;
    int ret = isal_inflate(state_.get());
    r.consumed = avail_in - state_->avail_in;
    r.produced = avail_out - state_->avail_out;
    if (ret < 0 || ret == ISAL_NEED_DICT) {
      r.error = Describe(ret);
    } else if (state_->block_state == ISAL_BLOCK_FINISH) {
      r.stream_end = true;
      // In zlib mode ISA-L leaves up to 8 bytes past the stream in its bit
      // buffer instead of handing them back (gzip mode returns them); they
      // belong to the next concatenated stream.
      r.unread = state_->read_in_length / 8;
    }
    return r;
  }

 private:
  static const char* Describe(int ret) {
    switch (ret) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
      case ISAL_INVALID_WRAPPER: return "invalid gzip/zlib header";
      case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
      case ISAL_INCORRECT_CHECKSUM: return "incorrect checksum";
      case ISAL_NEED_DICT: return "stream needs a preset dictionary";
      default: return "inflate failed";
    }
  }
  const uint32_t flag_;
  std::unique_ptr<inflate_state> state_;  // ~20 KiB: keep it off the stack
};

class InflateSource final : public ByteSource {
 public:
  InflateSource(std::unique_ptr<ByteSource> src, Compression c, Inflater inflater,
                size_t input_buffer_size, std::string name)
      : src_(std::move(src)),
        compression_(c),
        name_(std::move(name)),
        in_(kKeep + std::max<size_t>(input_buffer_size, 1024)) {
    if (inflater == Inflater::kIsal) {
      engine_ = std::make_unique<IsalEngine>(c);
    } else {
      engine_ = std::make_unique<ZlibEngine>(c);
    }
  }

  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    if (!error_.ok()) return error_;
    while (true) {
      if (in_pos_ == in_end_ && !src_eof_) {
        // Keep the last kKeep bytes of the previous block in front of the
        // new one, so bytes an engine read past a stream end can be
        // handed back even across a refill.
        const size_t keep = std::min(kKeep, in_end_);
        std::memmove(in_.data() + kKeep - keep, in_.data() + in_end_ - keep, keep);
        keep_start_ = kKeep - keep;
        auto got = src_->Read(in_.data() + kKeep, in_.size() - kKeep);
        if (!got.ok()) return error_ = got.status();
        in_pos_ = kKeep;
        in_end_ = kKeep + *got;
        if (*got == 0) src_eof_ = true;
      }
      if (in_pos_ == in_end_ && src_eof_ && !in_member_) return 0;  // clean end
      const size_t avail = in_end_ - in_pos_;
      StepResult r = engine_->Step(in_.data() + in_pos_, avail, dst, n);
      in_pos_ += r.consumed;
      compressed_pos_ += r.consumed;
      if (r.consumed > 0) in_member_ = true;
      if (r.unread > 0) {
        if (r.unread > in_pos_ - keep_start_) return Fail("cannot hand back bytes read past a stream end");
        in_pos_ -= r.unread;
        compressed_pos_ -= r.unread;
      }
      if (r.error != nullptr) {
        return Fail(absl::StrCat("corrupt ", CompressionName(compression_), " stream: ",
                                 r.error));
      }
      if (r.stream_end) {
        in_member_ = false;
        engine_->Reset();
      }
      if (r.produced > 0) {
        out_pos_ += r.produced;
        return r.produced;
      }
      // With the input exhausted the engine was given one last chance to
      // flush and check its trailer (ISA-L holds some of both back).
      if (avail == 0 && in_member_) {
        return Fail(absl::StrCat("truncated ", CompressionName(compression_),
                                 " stream (input ended inside a member)"));
      }
      // No output: either more input is needed (loop refills), or a member
      // just ended (loop starts the next one). An engine that neither
      // consumes nor produces while input and output space exist would spin.
      if (r.consumed == 0 && !r.stream_end && in_pos_ < in_end_) {
        if (++stalls_ > 2) return Fail("inflater made no progress");
      } else {
        stalls_ = 0;
      }
    }
  }

  absl::Status Rewind() override {
    error_ = absl::OkStatus();
    absl::Status s = src_->Rewind();
    if (!s.ok()) return error_ = s;
    engine_->Reset();
    in_pos_ = in_end_ = keep_start_ = 0;
    src_eof_ = in_member_ = false;
    compressed_pos_ = out_pos_ = 0;
    stalls_ = 0;
    return absl::OkStatus();
  }

 private:
  absl::Status Fail(std::string what) {
    error_ = absl::DataLossError(absl::StrCat(what, " at compressed offset ", compressed_pos_,
                                              " (decompressed offset ", out_pos_, ") in ",
                                              name_));
    return error_;
  }

  std::unique_ptr<ByteSource> src_;
  const Compression compression_;
  const std::string name_;
  std::unique_ptr<Engine> engine_;
  static constexpr size_t kKeep = 16;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_end_ = 0, keep_start_ = 0;
  bool src_eof_ = false;
  bool in_member_ = false;  // some bytes of the current member were consumed
  uint64_t compressed_pos_ = 0, out_pos_ = 0;
  int stalls_ = 0;
  absl::Status error_;
};

}  // namespace

std::unique_ptr<ByteSource> NewInflateSource(std::unique_ptr<ByteSource> compressed,
                                             Compression compression, Inflater inflater,
                                             size_t input_buffer_size, std::string name) {
  return std::make_unique<InflateSource>(std::move(compressed), compression, inflater,
                                         input_buffer_size, std::move(name));
}

}  // namespace sluice::internal
