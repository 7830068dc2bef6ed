#pragma once
// Checkpoint files: named tensors with dtype, shape, bytes and a masked
// CRC32C per tensor, in TensorFlow's V2 format (tensor bundle), so that
// TensorFlow reads what sluice writes and the other way round:
//
//   PREFIX.data-00000-of-00001   the tensors' bytes, back to back
//   PREFIX.index                 a LevelDB-format table (Snappy-compressed
//                                blocks): the empty key holds a
//                                BundleHeaderProto (num_shards, endianness,
//                                version), each tensor's name its
//                                BundleEntryProto (dtype, shape, shard_id,
//                                offset, size, masked CRC32C)
//
// Both files are written to temporaries and renamed into place, the index
// last, so a PREFIX.index that exists always describes a complete data
// file: a crash mid-save leaves the previous checkpoint untouched and no
// half-written one that latest_checkpoint could pick.
//
// sluice's first format ("SLCKPT1\n" index, same data file) is still read
// (and written on request, CheckpointFormat::kSluiceV1). Readers accept
// TensorFlow checkpoints with several data shards; partitioned (sliced)
// variables are Unimplemented. Numeric tensors are stored as their raw
// little-endian bytes; strings as TensorFlow lays them out.
//
// Errors: DataLoss naming the file (and the tensor, where one is
// concerned) for a CRC mismatch, truncation or malformed entry; NotFound
// for a missing file or tensor; InvalidArgument for duplicate names or
// uninitialised tensors; the errno mapping of I/O failures.
//
// Thread-safety: WriteCheckpoint and DeleteCheckpoint are safe to call
// concurrently for distinct prefixes. A CheckpointReader may be read from
// several threads (Read does positioned reads and keeps no cursor).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"

namespace sluice {

enum class CheckpointFormat {
  kTensorBundleV2,  // TensorFlow's V2 format (the default)
  kSluiceV1,        // sluice's own first format ("SLCKPT1")
};

// PREFIX.index and PREFIX.data-SHARD-of-NUM_SHARDS (00000-of-00001).
std::string CheckpointIndexPath(std::string_view prefix);
std::string CheckpointDataPath(std::string_view prefix, int shard = 0, int num_shards = 1);

// Writes the tensors as a checkpoint at `prefix` (replacing one that is
// there), in one data shard. Names must be non-empty and distinct; tensors
// initialised.
absl::Status WriteCheckpoint(std::string_view prefix,
                             absl::Span<const std::pair<std::string, Tensor>> tensors,
                             CheckpointFormat format = CheckpointFormat::kTensorBundleV2);

// True when PREFIX.index exists (TensorFlow's V2 test), or a file named
// PREFIX itself (a V1 checkpoint, which sluice does not write).
bool CheckpointExists(std::string_view prefix);

// Writes `contents` to a temporary file beside `path`, fsyncs it and
// renames it over `path`: readers see the old file or the new one, never a
// part. Used for checkpoints and the `checkpoint` state file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Removes PREFIX.index, PREFIX.data-00000-of-00001 and PREFIX.meta, those
// that exist. Errors other than a missing file are returned.
absl::Status DeleteCheckpoint(std::string_view prefix);

struct CheckpointTensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  TensorShape shape;
  int shard_id = 0;
  uint64_t offset = 0;  // in the data file
  uint64_t size = 0;    // bytes in the data file
  uint32_t masked_crc32c = 0;
};

class CheckpointReader {
 public:
  // Reads and verifies the index (either format); every data shard must
  // exist and be at least as long as the index says (DataLoss "truncated"
  // otherwise).
  static absl::StatusOr<std::unique_ptr<CheckpointReader>> Open(std::string prefix);
  ~CheckpointReader();
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  // Entries sorted by name (V2) or in the order written (V1).
  const std::vector<CheckpointTensorInfo>& tensors() const { return entries_; }
  CheckpointFormat format() const { return format_; }
  // nullptr when there is no tensor called `name`.
  const CheckpointTensorInfo* Find(std::string_view name) const;
  // Reads one tensor and checks its CRC. NotFound for an unknown name.
  absl::StatusOr<Tensor> Read(std::string_view name) const;
  const std::string& prefix() const { return prefix_; }

 private:
  CheckpointReader(std::string prefix, CheckpointFormat format, std::vector<std::string> data_paths,
                   std::vector<int> data_fds, std::vector<CheckpointTensorInfo> entries);

  const std::string prefix_;
  const CheckpointFormat format_;
  const std::vector<std::string> data_paths_;  // per shard
  const std::vector<int> data_fds_;            // per shard
  const std::vector<CheckpointTensorInfo> entries_;
};

}  // namespace sluice
