#include "pipeline/image_label_parser.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "readers/protobuf_wire.h"

namespace sluice {
namespace {

using internal::ReadLengthDelimited;
using internal::ReadVarint64;

// A length-delimited field whose one-byte tag is `tag`, at p. Returns the
// end of the field, or nullptr when p does not start one.
inline const char* Field(const char* p, const char* end, char tag, std::string_view* v) {
  if (p == nullptr || p >= end || *p != tag) return nullptr;
  return ReadLengthDelimited(p + 1, end, v);
}

// An Int64List holding exactly one value, unpacked (tag 0x08) or packed
// (tag 0x0a).
inline bool OneInt64(std::string_view list, int64_t* out) {
  const char* p = list.data();
  const char* end = p + list.size();
  uint64_t v = 0;
  if (p < end && *p == '\x08') {
    p = ReadVarint64(p + 1, end, &v);
  } else {
    std::string_view packed;
    p = Field(p, end, '\x0a', &packed);
    if (p == nullptr || packed.empty() ||
        ReadVarint64(packed.data(), packed.data() + packed.size(), &v) !=
            packed.data() + packed.size()) {
      return false;
    }
  }
  if (p != end) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

// The fast path: a record laid out as every writer lays it out (one
// `features` field; entries "key, value"; each Feature exactly one list)
// with exactly the features image (one value of image_bytes bytes), label
// (one int64) and optionally id (one int64), each once. Anything else
// (other keys, repeats, other encodings, errors) returns false and the
// batch goes through ParseExample, which gives the same result for every
// record this accepts, and the errors for the rest.
bool ParseCanonical(std::string_view rec, int64_t image_bytes, const char** image,
                    int64_t* label, int64_t* id) {
  const char* end = rec.data() + rec.size();
  std::string_view features;
  if (Field(rec.data(), end, '\x0a', &features) != end) return false;
  const char* p = features.data();
  const char* fend = p + features.size();
  bool seen[3] = {false, false, false};
  while (p < fend) {
    std::string_view entry, key, value, list;
    p = Field(p, fend, '\x0a', &entry);
    if (p == nullptr) return false;
    const char* eend = entry.data() + entry.size();
    const char* e = Field(entry.data(), eend, '\x0a', &key);
    if (Field(e, eend, '\x12', &value) != eend || value.empty()) return false;
    const char* vend = value.data() + value.size();
    const char kind = value[0];
    if (ReadLengthDelimited(value.data() + 1, vend, &list) != vend) return false;
    int slot;
    if (key == "image") {
      slot = 0;
    } else if (key == "label") {
      slot = 1;
    } else if (key == "id") {
      slot = 2;
    } else {
      return false;
    }
    if (seen[slot]) return false;
    seen[slot] = true;
    if (slot == 0) {
      std::string_view img;
      const char* lend = list.data() + list.size();
      if (kind != '\x0a' || Field(list.data(), lend, '\x0a', &img) != lend ||
          static_cast<int64_t>(img.size()) != image_bytes) {
        return false;
      }
      *image = img.data();
    } else if (kind != '\x1a' || !OneInt64(list, slot == 1 ? label : id)) {
      return false;
    }
  }
  if (!seen[0] || !seen[1]) return false;
  if (!seen[2]) *id = -1;
  return true;
}

// Asks for every cache line of a record (the walk reads its head and
// tail, the copy all of its image).
inline void PrefetchRecord(std::string_view rec) {
  if (rec.empty()) return;
  for (size_t o = 0; o < rec.size(); o += 64) __builtin_prefetch(rec.data() + o);
  __builtin_prefetch(rec.data() + rec.size() - 1);
}

}  // namespace

absl::StatusOr<ImageLabelParser> ImageLabelParser::Create(int64_t image_bytes,
                                                          std::shared_ptr<BufferPool> pool) {
  if (image_bytes < 0) return absl::InvalidArgumentError("image_bytes must be >= 0");
  SLUICE_ASSIGN_OR_RETURN(
      ParseSpec spec,
      ParseSpec::Create({{"image", DType::kString, TensorShape{}, std::nullopt},
                         {"label", DType::kInt64, TensorShape{}, std::nullopt},
                         {"id", DType::kInt64, TensorShape{}, Tensor::Scalar<int64_t>(-1)}}));
  return ImageLabelParser(image_bytes, std::move(spec), std::move(pool));
}

absl::StatusOr<ImageLabelParser> ImageLabelParser::CreateForEncoded(
    ImageAugmenter decoder, std::shared_ptr<BufferPool> pool) {
  const ImageAugmentOptions& d = decoder.options();
  if (d.dtype != DType::kUInt8) {
    return absl::InvalidArgumentError(
        "ImageLabelParser: the decoder must give uint8 pixels");
  }
  SLUICE_ASSIGN_OR_RETURN(
      ImageLabelParser p,
      Create(d.height * d.width * d.channels, std::move(pool)));
  p.decoder_ = std::move(decoder);
  return p;
}

// Encoded images go through ParseExample (their records carry "format"
// too, so the dedicated walker never applies) and the decoder, which
// writes each image into the batch buffer.
absl::StatusOr<TensorTuple> ImageLabelParser::ParseEncoded(
    const Tensor& serialized, const WaitOptions& w) const {
  const int64_t k = serialized.dim(0);
  ParseResult result;
  ParseOptions po;
  const RefPtr owner = serialized.buffer();
  po.owners = absl::Span<const RefPtr>(&owner, 1);
  SLUICE_RETURN_IF_ERROR(
      ParseExample(absl::Span<const std::string_view>(
                       serialized.data<std::string_view>(), k),
                   spec_, &result, po));
  SLUICE_ASSIGN_OR_RETURN(Tensor images, ImageBuffer(k, w));
  const Tensor& strs = result.dense[0];
  absl::Status st = decoder_->RunInto(
      absl::Span<const std::string_view>(strs.data<std::string_view>(), k),
      images.raw_data());
  if (!st.ok())
    return absl::Status(st.code(),
                        absl::StrCat("decoding records: ", st.message()));
  return TensorTuple{std::move(images), std::move(result.dense[1]),
                     std::move(result.dense[2])};
}

absl::StatusOr<Tensor> ImageLabelParser::ImageBuffer(int64_t k, const WaitOptions& w) const {
  const TensorShape shape{k, image_bytes_};
  if (pool_ != nullptr && static_cast<size_t>(k * image_bytes_) <= pool_->buffer_bytes()) {
    SLUICE_ASSIGN_OR_RETURN(RefPtr buf, pool_->Acquire(w));
    return Tensor::FromBuffer(DType::kUInt8, shape, std::move(buf));
  }
  return Tensor(DType::kUInt8, shape);
}

absl::StatusOr<TensorTuple> ImageLabelParser::Parse(const Tensor& serialized,
                                                    const WaitOptions& w) const {
  if (serialized.dtype() != DType::kString || serialized.rank() != 1) {
    return absl::InvalidArgumentError("ImageLabelParser wants a string vector");
  }
  if (decoder_.has_value()) return ParseEncoded(serialized, w);
  const int64_t k = serialized.dim(0);
  const std::string_view* records = serialized.data<std::string_view>();
  {
    // Validate every record first (as the general path does before it
    // takes an image buffer), then copy the images.
    Tensor labels(DType::kInt64, TensorShape{k});
    Tensor ids(DType::kInt64, TensorShape{k});
    int64_t* label = labels.data<int64_t>();
    int64_t* id = ids.data<int64_t>();
    thread_local std::vector<const char*> images;
    images.resize(static_cast<size_t>(k));
    int64_t i = 0;
    // Shuffled records are cold in cache (the walk stalled on each
    // record's first line): ask for them a few records ahead.
    constexpr int64_t kAhead = 8;
    for (int64_t j = 0; j < std::min(k, kAhead); ++j) PrefetchRecord(records[j]);
    for (; i < k; ++i) {
      if (i + kAhead < k) PrefetchRecord(records[i + kAhead]);
      if (!ParseCanonical(records[i], image_bytes_, &images[i], &label[i], &id[i])) break;
    }
    if (i == k) {
      SLUICE_ASSIGN_OR_RETURN(Tensor out, ImageBuffer(k, w));
      uint8_t* dst = out.data<uint8_t>();
      for (int64_t j = 0; j < k; ++j) {
        std::memcpy(dst + j * image_bytes_, images[j], static_cast<size_t>(image_bytes_));
      }
      return TensorTuple{std::move(out), std::move(labels), std::move(ids)};
    }
  }
  ParseResult result;
  ParseOptions po;
  const RefPtr owner = serialized.buffer();
  po.owners = absl::Span<const RefPtr>(&owner, 1);  // images stay views until copied
  SLUICE_RETURN_IF_ERROR(
      ParseExample(absl::Span<const std::string_view>(records, k), spec_, &result, po));
  SLUICE_ASSIGN_OR_RETURN(Tensor images, ImageBuffer(k, w));
  const Tensor& strs = result.dense[0];
  uint8_t* dst = images.data<uint8_t>();
  for (int64_t i = 0; i < k; ++i) {
    std::string_view v = strs.string(i);
    if (static_cast<int64_t>(v.size()) != image_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat("record ", i, ": image has ", v.size(),
                                                     " bytes, want ", image_bytes_));
    }
    std::memcpy(dst + i * image_bytes_, v.data(), v.size());
  }
  return TensorTuple{std::move(images), std::move(result.dense[1]), std::move(result.dense[2])};
}

}  // namespace sluice
