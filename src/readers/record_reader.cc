#include "readers/record_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/allocator.h"
#include "core/crc32c.h"
#include "core/status.h"
#include "readers/internal/byte_source.h"
#include "readers/internal/inflate_source.h"
#include "readers/record_format.h"

namespace sluice {

namespace rf = record_format;

void RecordBatch::Clear() {
  records_.clear();
  offsets_.clear();
  owner_index_.clear();
  owners_.clear();
}

void RecordBatch::Add(std::string_view data, uint64_t offset, const RefPtr& chunk) {
  if (owners_.empty() || !(owners_.back() == chunk)) owners_.push_back(chunk);
  records_.push_back(data);
  offsets_.push_back(offset);
  owner_index_.push_back(static_cast<uint32_t>(owners_.size() - 1));
}

absl::Status RecordReader::ValidateOptions(const RecordReaderOptions& o) {
  if (o.buffer_size == 0) return absl::InvalidArgumentError("buffer_size must be > 0");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RecordReader>> RecordReader::Open(std::string path,
                                                                 RecordReaderOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<internal::ByteSource> source,
                          internal::OpenFileSource(
                              path, options.map_file && options.compression == Compression::kNone));
  return std::unique_ptr<RecordReader>(
      new RecordReader(std::move(source), options, std::move(path)));
}

absl::StatusOr<std::unique_ptr<RecordReader>> RecordReader::FromMemory(
    std::string_view data, RecordReaderOptions options, std::string name) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options));
  return std::unique_ptr<RecordReader>(
      new RecordReader(internal::NewMemorySource(data), options, std::move(name)));
}

RecordReader::RecordReader(std::unique_ptr<internal::ByteSource> source,
                           RecordReaderOptions options, std::string name)
    : options_(options), name_(std::move(name)) {
  if (options_.compression == Compression::kNone) {
    source_ = std::move(source);
    // A stream already in memory is read in place: records are views into
    // it, so nothing is copied into chunks.
    std::string_view all;
    RefPtr mapped = source_->Mapped(&all);
    if (mapped && (options_.max_decompressed_bytes == 0 ||
                   all.size() <= options_.max_decompressed_bytes)) {
      chunk_ = std::move(mapped);
      data_ = const_cast<char*>(all.data());
      cap_ = end_ = all.size();
      total_read_ = all.size();
      eof_ = true;
      (void)source_->Seek(all.size());
    }
  } else {
    source_ = internal::NewInflateSource(std::move(source), options_.compression,
                                         options_.inflater, options_.buffer_size, name_);
  }
}

RecordReader::~RecordReader() = default;

bool RecordReader::MakeRoom(uint64_t need) {
  const size_t have = end_ - pos_;
  // Normal records fit a standard chunk. A larger one grows by doubling
  // with the bytes that actually arrived, never to a declared length.
  size_t want = options_.buffer_size;
  if (need > want) {
    want = std::max<uint64_t>(want, std::min<uint64_t>(need, uint64_t{2} * have));
  }
  if (chunk_ && want == cap_ && chunk_->ref_count() == 1) {
    if (pos_ > 0) std::memmove(data_, data_ + pos_, have);  // nobody else sees it
  } else {
    RefPtr fresh = Buffer::Create(HostAllocator(), want);
    if (!fresh) {
      source_status_ = absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate a ", want, "-byte read buffer for ", name_));
      return false;
    }
    if (have > 0) std::memcpy(fresh->data(), data_ + pos_, have);
    chunk_ = std::move(fresh);
    data_ = static_cast<char*>(chunk_->data());
    cap_ = want;
  }
  base_offset_ += pos_;
  pos_ = 0;
  end_ = have;
  return true;
}

bool RecordReader::Fill(uint64_t need) {
  while (end_ - pos_ < need) {
    if (eof_ || !source_status_.ok()) return false;
    if (pos_ + need > cap_ || end_ == cap_) {
      if (!MakeRoom(need)) return false;
    }
    size_t want = cap_ - end_;
    if (options_.max_decompressed_bytes > 0) {
      // Ask for one byte beyond the bound so that crossing it is seen.
      const uint64_t left = options_.max_decompressed_bytes + 1 - std::min(
          total_read_, options_.max_decompressed_bytes + 1);
      want = static_cast<size_t>(std::min<uint64_t>(want, left));
    }
    absl::StatusOr<size_t> got = source_->Read(data_ + end_, want);
    if (!got.ok()) {
      source_status_ = got.status();
      return false;
    }
    if (*got == 0) {
      eof_ = true;
      return false;
    }
    end_ += *got;
    total_read_ += *got;
    if (options_.max_decompressed_bytes > 0 &&
        total_read_ > options_.max_decompressed_bytes) {
      source_status_ = absl::ResourceExhaustedError(absl::StrCat(
          "more than max_decompressed_bytes (", options_.max_decompressed_bytes,
          ") in ", name_));
      return false;
    }
  }
  return true;
}

absl::Status RecordReader::Corruption(absl::Status error, bool skippable, size_t skip_to) {
  switch (options_.corrupt_policy) {
    case CorruptRecordPolicy::kFail:
      final_status_ = error;
      return error;
    case CorruptRecordPolicy::kSkipRecord:
      if (skippable) {
        stats_.records_skipped++;
        stats_.bytes_skipped += skip_to - pos_;
        stats_.last_corruption = std::move(error);
        pos_ = skip_to;
        return absl::OkStatus();
      }
      [[fallthrough]];
    case CorruptRecordPolicy::kSkipFile:
      stats_.files_abandoned++;
      stats_.bytes_skipped += end_ - pos_;
      stats_.last_corruption = error;
      final_status_ = absl::OutOfRangeError(absl::StrCat(
          "abandoned the rest of ", name_, " (", CorruptRecordPolicyName(options_.corrupt_policy),
          "): ", error.message()));
      return final_status_;
  }
  return error;
}

absl::Status RecordReader::SourceError() {
  // ResourceExhausted (a bound) and DataLoss (a broken compressed stream)
  // both leave the next offset unknown.
  return Corruption(source_status_, /*skippable=*/false, 0);
}

absl::Status RecordReader::ReadOne(RecordView* out) {
  while (true) {
    const uint64_t off = base_offset_ + pos_;
    if (!Fill(rf::kHeaderSize)) {
      if (!source_status_.ok()) return SourceError();
      if (end_ == pos_) {
        final_status_ = absl::OutOfRangeError(absl::StrCat("end of file ", name_));
        return final_status_;
      }
      return Corruption(
          absl::DataLossError(absl::StrCat("truncated record at ", off, " in ", name_)),
          false, 0);
    }
    const char* header = data_ + pos_;
    const uint64_t length = rf::DecodeFixed64(header);
    if (crc32c::Unmask(rf::DecodeFixed32(header + rf::kLengthSize)) !=
        crc32c::Value(header, rf::kLengthSize)) {
      return Corruption(
          absl::DataLossError(absl::StrCat("corrupted record at ", off, " in ", name_)),
          false, 0);
    }
    if (length > options_.max_record_size) {
      return Corruption(absl::ResourceExhaustedError(absl::StrCat(
                            "record at ", off, " in ", name_, " declares ", length,
                            " bytes, more than max_record_size ", options_.max_record_size)),
                        false, 0);
    }
    const uint64_t total = rf::kOverhead + length;
    if (!Fill(total)) {
      if (!source_status_.ok()) return SourceError();
      const uint64_t at = (end_ - pos_ > rf::kHeaderSize) ? off + rf::kHeaderSize : off;
      return Corruption(
          absl::DataLossError(absl::StrCat("truncated record at ", at, " in ", name_)),
          false, 0);
    }
    const char* payload = data_ + pos_ + rf::kHeaderSize;
    if (crc32c::Unmask(rf::DecodeFixed32(payload + length)) !=
        crc32c::Value(payload, length)) {
      SLUICE_RETURN_IF_ERROR(Corruption(
          absl::DataLossError(absl::StrCat("corrupted record at ", off + rf::kHeaderSize,
                                           " in ", name_)),
          true, pos_ + total));
      continue;
    }
    out->data = std::string_view(payload, length);
    out->offset = off;
    pos_ += total;
    stats_.records_read++;
    stats_.payload_bytes_read += length;
    return absl::OkStatus();
  }
}

absl::StatusOr<RecordView> RecordReader::Next() {
  if (!pending_.ok()) return std::exchange(pending_, absl::OkStatus());
  if (!final_status_.ok()) return final_status_;
  RecordView v;
  SLUICE_RETURN_IF_ERROR(ReadOne(&v));
  return v;
}

absl::Status RecordReader::ReadMany(int64_t n, RecordBatch* out) {
  out->Clear();
  if (!pending_.ok()) return std::exchange(pending_, absl::OkStatus());
  if (!final_status_.ok()) return final_status_;
  RecordView v;
  for (int64_t i = 0; i < n; ++i) {
    absl::Status s = ReadOne(&v);
    if (!s.ok()) {
      if (out->empty()) return s;
      // Deliver the good records now and the error on the next call; a
      // sticky final status would repeat it anyway, so only hold back
      // what will not be repeated.
      if (final_status_.ok()) pending_ = s;
      return absl::OkStatus();
    }
    out->Add(v.data, v.offset, chunk_);
  }
  return absl::OkStatus();
}

absl::Status RecordReader::Seek(uint64_t offset) {
  pending_ = absl::OkStatus();
  final_status_ = absl::OkStatus();
  if (offset >= base_offset_ && offset <= base_offset_ + end_ && source_status_.ok()) {
    pos_ = static_cast<size_t>(offset - base_offset_);
    return absl::OkStatus();
  }
  if (source_->CanSeek() && options_.compression == Compression::kNone) {
    SLUICE_RETURN_IF_ERROR(source_->Seek(offset));
    // Start a fresh chunk: the old one may be memory read in place, which
    // must never be written.
    chunk_ = RefPtr();
    data_ = nullptr;
    cap_ = 0;
    base_offset_ = offset;
    total_read_ = offset;
    pos_ = end_ = 0;
    eof_ = false;
    source_status_ = absl::OkStatus();
    return absl::OkStatus();
  }
  if (offset < base_offset_ + pos_ || !source_status_.ok()) {
    SLUICE_RETURN_IF_ERROR(source_->Rewind());
    base_offset_ = 0;
    total_read_ = 0;
    pos_ = end_ = 0;
    eof_ = false;
    source_status_ = absl::OkStatus();
  }
  // Re-read forward, dropping whole chunks until the one holding `offset`.
  while (base_offset_ + end_ < offset) {
    pos_ = end_;
    if (!Fill(1)) {
      if (!source_status_.ok()) return source_status_;
      return absl::OutOfRangeError(
          absl::StrCat("seek to ", offset, " is past the end of ", name_));
    }
  }
  pos_ = static_cast<size_t>(offset - base_offset_);
  return absl::OkStatus();
}

}  // namespace sluice
