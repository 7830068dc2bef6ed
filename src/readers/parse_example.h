#pragma once
// ParseExample / ParseSequenceExample: a batch of serialized tf.train.Example
// (or SequenceExample) records into batch tensors, with the semantics of
// TensorFlow's tf.io.parse_example / parse_sequence_example:
//
//  * FixedLenFeature{key, dtype, shape, default}: a dense [batch] + shape
//    tensor. A missing feature (absent key, or an empty Feature message)
//    takes the default; without a default it is InvalidArgument naming the
//    feature and the record index. A wrong kind or value count is
//    InvalidArgument.
//  * VarLenFeature{key, dtype}: a sparse result: indices int64 [N, 2]
//    (record, position), values [N], dense_shape int64 [2] = {batch,
//    longest list}.
//  * FixedLenSequenceFeature{key, dtype, shape, allow_missing, default}
//    (SequenceExample feature_lists): [batch, max_steps] + shape, shorter
//    sequences padded with the default (a scalar; zeros without one), plus
//    the number of steps per record. A missing list is InvalidArgument
//    unless allow_missing.
//
// Supported dtypes: kFloat32 (float_list), kInt64 (int64_list), kString
// (bytes_list). A malformed record is InvalidArgument "record <i>: ...".
//
// Dense values are written straight into the result tensors: if
// result->dense already holds tensors of the right dtype and [batch]+shape
// (e.g. pinned buffers from a pool), they are filled in place; otherwise new
// ones are allocated. Preallocated tensors must not be shared yet.
//
// Thread-safety: a ParseSpec is immutable after Create and may be shared.
// ParseExample may run its per-record work on oneTBB tasks
// (ParseOptions::parallel); it does not block.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/buffer.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"

namespace sluice {

struct FixedLenFeature {
  std::string key;
  DType dtype = DType::kFloat32;
  TensorShape shape;  // fully defined; [] for a scalar
  // Same dtype; shape.num_elements() elements in any shape, or one element
  // (broadcast).
  std::optional<Tensor> default_value;
};

struct VarLenFeature {
  std::string key;
  DType dtype = DType::kFloat32;
};

struct FixedLenSequenceFeature {
  std::string key;
  DType dtype = DType::kFloat32;
  TensorShape shape;  // of one step; fully defined
  bool allow_missing = false;
  std::optional<Tensor> default_value;  // padding: a scalar of dtype
};

// The features to extract, validated and compiled once.
class ParseSpec {
 public:
  // InvalidArgument for an unsupported dtype, a shape that is not fully
  // defined, a default of the wrong dtype or size, or a key used twice.
  static absl::StatusOr<ParseSpec> Create(std::vector<FixedLenFeature> dense,
                                          std::vector<VarLenFeature> sparse = {});

  const std::vector<FixedLenFeature>& dense() const { return dense_; }
  const std::vector<VarLenFeature>& sparse() const { return sparse_; }

  // Slot of `key`: dense i is i, sparse j is dense().size() + j; -1 when
  // the spec does not name it.
  int Slot(std::string_view key) const;
  int num_slots() const { return static_cast<int>(keys_.size()); }

 private:
  std::vector<FixedLenFeature> dense_;
  std::vector<VarLenFeature> sparse_;
  std::vector<std::string> keys_;  // by slot
  // Defaults expanded to shape.num_elements() values (uninitialized: none).
  std::vector<Tensor> flat_defaults_;
  friend class ParseExampleBatch;
};

struct SparseTensor {
  Tensor indices;      // int64 [N, rank]
  Tensor values;       // dtype [N]
  Tensor dense_shape;  // int64 [rank]
};

struct ParseResult {
  std::vector<Tensor> dense;          // spec.dense() order, [batch] + shape
  std::vector<SparseTensor> sparse;   // spec.sparse() order
};

struct ParseOptions {
  // Buffers that together keep every serialized record alive (e.g. a
  // RecordBatch's owners()). With owners, string results are views into the
  // records and hold a reference to each owner; empty: string values are
  // copied into the result tensors.
  absl::Span<const RefPtr> owners;
  // Parse records on oneTBB tasks (batches of 256 and more).
  bool parallel = false;
};

absl::Status ParseExample(absl::Span<const std::string_view> serialized,
                          const ParseSpec& spec, ParseResult* result,
                          const ParseOptions& options = {});

class SequenceParseSpec {
 public:
  static absl::StatusOr<SequenceParseSpec> Create(
      std::vector<FixedLenFeature> context_dense, std::vector<VarLenFeature> context_sparse,
      std::vector<FixedLenSequenceFeature> sequence_dense);

  const ParseSpec& context() const { return context_; }
  const std::vector<FixedLenSequenceFeature>& sequence() const { return sequence_; }

 private:
  ParseSpec context_;
  std::vector<FixedLenSequenceFeature> sequence_;
};

struct SequenceParseResult {
  ParseResult context;
  std::vector<Tensor> sequence_dense;    // [batch, max_steps] + shape
  std::vector<Tensor> sequence_lengths;  // int64 [batch]
};

absl::Status ParseSequenceExample(absl::Span<const std::string_view> serialized,
                                  const SequenceParseSpec& spec, SequenceParseResult* result,
                                  const ParseOptions& options = {});

}  // namespace sluice
