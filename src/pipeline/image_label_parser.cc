#include "pipeline/image_label_parser.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

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

absl::StatusOr<TensorTuple> ImageLabelParser::Parse(const Tensor& serialized,
                                                    const WaitOptions& w) const {
  if (serialized.dtype() != DType::kString || serialized.rank() != 1) {
    return absl::InvalidArgumentError("ImageLabelParser wants a string vector");
  }
  const int64_t k = serialized.dim(0);
  const std::string_view* records = serialized.data<std::string_view>();
  ParseResult result;
  ParseOptions po;
  const RefPtr owner = serialized.buffer();
  po.owners = absl::Span<const RefPtr>(&owner, 1);  // images stay views until copied
  SLUICE_RETURN_IF_ERROR(
      ParseExample(absl::Span<const std::string_view>(records, k), spec_, &result, po));
  const TensorShape shape{k, image_bytes_};
  Tensor images;
  if (pool_ != nullptr && static_cast<size_t>(k * image_bytes_) <= pool_->buffer_bytes()) {
    SLUICE_ASSIGN_OR_RETURN(RefPtr buf, pool_->Acquire(w));
    images = Tensor::FromBuffer(DType::kUInt8, shape, std::move(buf));
  } else {
    images = Tensor(DType::kUInt8, shape);
  }
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
