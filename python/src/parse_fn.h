#pragma once
// ParseFn: the native parse function behind sluice.io.parse_example_fn and
// sluice.io.parse_example. It runs inside a Dataset Map on pipeline
// threads, so no Python code runs per record or per batch.
//
// Input: a string tensor of serialized tf.train.Example records, a scalar
// (one record) or a vector (a batch, e.g. after Batch). Output, flat: one
// tensor per dense feature (in the spec's order; [batch] + shape, or shape
// for a scalar input), then three per sparse feature (indices, values,
// dense_shape; indices [N, 2] for a batch, [N, 1] for one record).
// decode_raw features (dense string features only) are replaced by
// DecodeRaw(value, dtype): [batch] + shape + [bytes / dtype size].
//
// String outputs are views of the input records (no copy); they keep the
// records' buffers alive.
//
// A batch whose records all hold every dense feature exactly as the spec
// says (the kind of its dtype, shape.num_elements() values; decode_raw
// values of one length) and whose spec has no sparse feature is parsed by
// a fused walk that writes values (and decode_raw bytes) straight into the
// outputs; any other batch goes through ParseExample + DecodeRaw. Both
// give the same tensors, and errors always come from the second.
//
// Thread-safe: immutable after Create.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"

#include "core/status.h"
#include "core/tensor.h"
#include "readers/parse_example.h"

namespace sluice::python {

class ParseFn {
 public:
  // InvalidArgument for a bad spec (see ParseSpec::Create), or a
  // decode_raw key that is not a dense string feature.
  static absl::StatusOr<std::shared_ptr<const ParseFn>> Create(
      std::vector<FixedLenFeature> dense, std::vector<VarLenFeature> sparse,
      std::map<std::string, DType> decode_raw);

  absl::StatusOr<TensorTuple> operator()(const Tensor& serialized) const;

  const ParseSpec& spec() const { return spec_; }
  // The dtype of each dense output after decode_raw.
  const std::vector<DType>& dense_out_dtypes() const { return dense_out_; }

 private:
  ParseFn(ParseSpec spec, std::vector<DType> raw, std::vector<DType> dense_out)
      : spec_(std::move(spec)),
        raw_(std::move(raw)),
        dense_out_(std::move(dense_out)) {}

  // The fused walk; false (and *out untouched) when the batch needs the
  // general path.
  bool FastParse(absl::Span<const std::string_view> records,
                 const RefPtr& owner, TensorTuple* out) const;
  // Records laid out as writers lay them out (one features field, entries
  // "key, value", each Feature one list, exactly the spec's keys once, of
  // the spec's kinds): sets (*lists)[slot] to each list's bytes. False for
  // anything else (the validating walk of FastParse then decides).
  bool CanonicalWalk(std::string_view rec,
                     std::vector<std::string_view>* lists) const;
  // Writes record r's values from CanonicalWalk's lists into *result
  // (allocated at r == 0); false on a count or encoding it cannot take.
  bool WriteCanonical(const std::vector<std::string_view>& lists, int64_t r,
                      int64_t n, const RefPtr& owner,
                      std::vector<int64_t>* raw_len, TensorTuple* result) const;
  // ParseExample, then DecodeRaw for the decode_raw features.
  absl::StatusOr<TensorTuple> GeneralParse(
      absl::Span<const std::string_view> records, const RefPtr& owner) const;

  ParseSpec spec_;
  std::vector<DType> raw_;  // per dense feature: kString = no decode_raw
  std::vector<DType> dense_out_;
};

}  // namespace sluice::python
