#pragma once
// ImageLabelParser: the parse stage of the MNIST-like pipelines (the
// records of synthetic_records.h, and `sluice convert` output): a batch of
// serialized Examples → {image uint8 [k, image_bytes], label int64 [k],
// id int64 [k]}. The image bytes are copied once, straight from the
// record into the batch buffer; that buffer comes from `pool` when one is
// given (pinned host memory for a GPU consumer: never pinned per batch),
// else from the host allocator. A record without "id" gets id -1.
//
// Records laid out as writers lay them out (one list per Feature, the
// three features each once, no other key) are walked by a dedicated
// parser that writes the labels and ids directly; any other batch goes
// through ParseExample. Both give the same tensors and the same errors.
//
// With a decoder (CreateForEncoded), "image" holds an encoded image
// (JPEG / PNG, as `sluice convert idx --encode` writes) that the decoder
// (an ImageAugmenter: decode, optional pad + random crop + flip) turns into
// the image_bytes written to the batch.
//
// Errors: InvalidArgument for a malformed record, a missing image or
// label, or an image of the wrong size (naming the record index);
// whatever pool->Acquire returns (Cancelled, DeadlineExceeded) when the
// pool is exhausted and `w` fires.
//
// Thread-safety: const methods may be called from several threads.

#include <cstdint>
#include <memory>
#include <optional>

#include "core/buffer_pool.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "pipeline/image_map_fns.h"
#include "readers/parse_example.h"

namespace sluice {

class ImageLabelParser {
 public:
  static absl::StatusOr<ImageLabelParser> Create(int64_t image_bytes,
                                                 std::shared_ptr<BufferPool> pool = nullptr);
  // Records of encoded images; image_bytes is height * width * channels of
  // the decoder's output, which must be uint8 (InvalidArgument otherwise).
  static absl::StatusOr<ImageLabelParser> CreateForEncoded(
      ImageAugmenter decoder, std::shared_ptr<BufferPool> pool = nullptr);
  // `serialized`: a string vector [k]. Its strings stay referenced only
  // for the duration of the call.
  absl::StatusOr<TensorTuple> Parse(const Tensor& serialized, const WaitOptions& w = {}) const;
  int64_t image_bytes() const { return image_bytes_; }

 private:
  ImageLabelParser(int64_t image_bytes, ParseSpec spec, std::shared_ptr<BufferPool> pool)
      : image_bytes_(image_bytes), spec_(std::move(spec)), pool_(std::move(pool)) {}
  absl::StatusOr<TensorTuple> ParseEncoded(const Tensor& serialized,
                                           const WaitOptions& w) const;
  // The [k, image_bytes] output, from the pool when it fits.
  absl::StatusOr<Tensor> ImageBuffer(int64_t k, const WaitOptions& w) const;

  int64_t image_bytes_;
  ParseSpec spec_;
  std::shared_ptr<BufferPool> pool_;
  std::optional<ImageAugmenter> decoder_;
};

}  // namespace sluice
