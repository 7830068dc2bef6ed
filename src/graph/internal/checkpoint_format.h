#pragma once
// Internal to the graph area: the two index encodings behind
// checkpoint.h and the byte layout of a tensor in the data file.
//
//   kTensorBundleV2  TensorFlow's V2 format: PREFIX.index is a LevelDB table
//                    (tf_format/tensor_bundle.cc) whose empty key holds a
//                    BundleHeaderProto and each tensor's name its
//                    BundleEntryProto.
//   kSluiceV1        sluice's first format, "SLCKPT1\n" (checkpoint_v1.cc);
//                    read for old checkpoints, written only on request.
//
// Every parser returns DataLoss naming `path` for malformed input and
// never reads outside the bytes it is given.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/tensor.h"
#include "graph/checkpoint.h"

namespace sluice::internal {

struct CheckpointIndex {
  CheckpointFormat format = CheckpointFormat::kTensorBundleV2;
  int num_shards = 1;
  std::vector<CheckpointTensorInfo> entries;  // sorted by name for V2
};

// True when `head` (the index file's first bytes) starts with SLCKPT1.
bool IsSluiceV1Index(std::string_view head);

std::string EncodeSluiceV1Index(absl::Span<const CheckpointTensorInfo> entries);
absl::StatusOr<CheckpointIndex> ParseSluiceV1Index(std::string_view bytes, const std::string& path);

// `entries` need not be sorted; InvalidArgument for a dtype TensorFlow's
// format cannot carry.
absl::StatusOr<std::string> EncodeTensorBundleIndex(std::vector<CheckpointTensorInfo> entries,
                                                    int num_shards);
absl::StatusOr<CheckpointIndex> ParseTensorBundleIndex(std::string_view bytes, const std::string& path);

// A tensor's bytes in the data file and the masked CRC32C to store.
// Numbers are their little-endian bytes in both formats; strings are
// varint length + bytes per element in kSluiceV1, and TensorFlow's layout
// in kTensorBundleV2 (all varint64 lengths, a masked CRC32C of the lengths
// as uint32s, then the bytes), with TensorFlow's checksum.
struct EncodedTensor {
  std::string bytes;
  uint32_t masked_crc32c = 0;
};
EncodedTensor EncodeTensorData(const Tensor& t, CheckpointFormat format);
// The inverse; `bytes` is exactly the stored range. DataLoss naming `path`
// and the tensor for a CRC mismatch or malformed string data.
absl::StatusOr<Tensor> DecodeTensorData(const CheckpointTensorInfo& info, std::string_view bytes,
                                        CheckpointFormat format, const std::string& path);

}  // namespace sluice::internal
