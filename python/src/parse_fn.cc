#include "parse_fn.h"

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "readers/decode_raw.h"

namespace sluice::python {

absl::StatusOr<std::shared_ptr<const ParseFn>> ParseFn::Create(
    std::vector<FixedLenFeature> dense, std::vector<VarLenFeature> sparse,
    std::map<std::string, DType> decode_raw) {
  std::vector<DType> raw(dense.size(), DType::kString);
  std::vector<DType> out(dense.size());
  for (size_t i = 0; i < dense.size(); ++i) {
    out[i] = dense[i].dtype;
    auto it = decode_raw.find(dense[i].key);
    if (it == decode_raw.end()) continue;
    if (dense[i].dtype != DType::kString || it->second == DType::kString) {
      return absl::InvalidArgumentError(absl::StrCat(
          "decode_raw['", it->first,
          "']: needs a FixedLenFeature of dtype string and a numeric "
          "output dtype"));
    }
    raw[i] = out[i] = it->second;
    decode_raw.erase(it);
  }
  if (!decode_raw.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("decode_raw names '", decode_raw.begin()->first,
                     "', which is not a FixedLenFeature"));
  }
  SLUICE_ASSIGN_OR_RETURN(
      ParseSpec spec, ParseSpec::Create(std::move(dense), std::move(sparse)));
  return std::shared_ptr<const ParseFn>(
      new ParseFn(std::move(spec), std::move(raw), std::move(out)));
}

absl::StatusOr<TensorTuple> ParseFn::operator()(
    const Tensor& serialized) const {
  if (serialized.dtype() != DType::kString || serialized.rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse_example expects a string scalar or vector, got ",
                     Sv(DTypeName(serialized.dtype())), " ",
                     serialized.shape().DebugString()));
  }
  const bool scalar = serialized.rank() == 0;
  const int64_t n = serialized.NumElements();
  std::vector<std::string_view> records(n);
  for (int64_t i = 0; i < n; ++i) records[i] = serialized.string(i);
  ParseResult result;
  ParseOptions options;
  // The input tensor's buffer keeps every record alive (its own arena or
  // the reader chunks it references), so strings can stay views.
  const RefPtr owner = serialized.buffer();
  options.owners = absl::Span<const RefPtr>(&owner, owner ? 1 : 0);
  SLUICE_RETURN_IF_ERROR(ParseExample(records, spec_, &result, options));

  TensorTuple out;
  for (size_t i = 0; i < result.dense.size(); ++i) {
    Tensor t = std::move(result.dense[i]);
    if (raw_[i] != DType::kString) {
      absl::StatusOr<Tensor> decoded = DecodeRaw(t, raw_[i]);
      if (!decoded.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("decode_raw of feature '", spec_.dense()[i].key,
                         "': ", decoded.status().message()));
      }
      t = *std::move(decoded);
    }
    if (scalar) t = t.Reshaped(t.shape().DroppedFirst());
    out.push_back(std::move(t));
  }
  for (SparseTensor& s : result.sparse) {
    if (scalar) {
      // Drop the record column of the indices: [N, 2] -> [N, 1].
      const int64_t k = s.indices.dim(0);
      Tensor idx(DType::kInt64, TensorShape{k, 1});
      for (int64_t j = 0; j < k; ++j)
        idx.data<int64_t>()[j] = s.indices.data<int64_t>()[2 * j + 1];
      s.indices = idx;
      s.dense_shape = Tensor::FromVector<int64_t>(
          {s.dense_shape.data<int64_t>()[1]}, TensorShape{1});
    }
    out.push_back(std::move(s.indices));
    out.push_back(std::move(s.values));
    out.push_back(std::move(s.dense_shape));
  }
  return out;
}

}  // namespace sluice::python
