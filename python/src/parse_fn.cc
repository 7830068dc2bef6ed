#include "parse_fn.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "readers/decode_raw.h"
#include "readers/example.h"
#include "readers/protobuf_wire.h"

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
  // The input tensor's buffer keeps every record alive (its own arena or
  // the reader chunks it references), so strings can stay views.
  const RefPtr& owner = serialized.buffer();
  TensorTuple out;
  if (!FastParse(records, owner, &out)) {
    SLUICE_ASSIGN_OR_RETURN(out, GeneralParse(records, owner));
  }
  if (scalar) {
    const size_t dense = spec_.dense().size();
    for (size_t i = 0; i < dense; ++i)
      out[i] = out[i].Reshaped(out[i].shape().DroppedFirst());
    for (size_t k = dense; k < out.size(); k += 3) {
      // One record's sparse triple: drop the record column of the indices
      // ([N, 2] -> [N, 1]) and the batch dimension of the dense shape.
      const Tensor in = out[k];
      const int64_t m = in.dim(0);
      Tensor idx(DType::kInt64, TensorShape{m, 1});
      for (int64_t j = 0; j < m; ++j)
        idx.data<int64_t>()[j] = in.data<int64_t>()[2 * j + 1];
      out[k] = idx;
      out[k + 2] = Tensor::FromVector<int64_t>({out[k + 2].data<int64_t>()[1]},
                                               TensorShape{1});
    }
  }
  return out;
}

namespace {

using internal::ReadLengthDelimited;
using internal::ReadVarint64;

// A length-delimited field with the one-byte tag `tag` at p; returns its
// end, or nullptr when p does not start one.
inline const char* Field(const char* p, const char* end, char tag,
                         std::string_view* v) {
  if (p == nullptr || p >= end || *p != tag) return nullptr;
  return ReadLengthDelimited(p + 1, end, v);
}

// Asks for every cache line of a record: shuffled records are cold, and
// the walk stalls on each one's first line without this (the same measured
// trick as pipeline/image_label_parser.cc).
inline void PrefetchRecord(std::string_view rec) {
  if (rec.empty()) return;
  for (size_t o = 0; o < rec.size(); o += 64)
    __builtin_prefetch(rec.data() + o);
  __builtin_prefetch(rec.data() + rec.size() - 1);
}

}  // namespace

bool ParseFn::CanonicalWalk(std::string_view rec,
                            std::vector<std::string_view>* lists) const {
  const std::vector<FixedLenFeature>& dense = spec_.dense();
  const char* end = rec.data() + rec.size();
  std::string_view features;
  if (Field(rec.data(), end, '\x0a', &features) != end) return false;
  std::fill(lists->begin(), lists->end(), std::string_view());
  size_t seen = 0;
  const char* p = features.data();
  const char* fend = p + features.size();
  while (p < fend) {
    std::string_view entry, key, value, list;
    p = Field(p, fend, '\x0a', &entry);
    if (p == nullptr) return false;
    const char* eend = entry.data() + entry.size();
    const char* e = Field(entry.data(), eend, '\x0a', &key);
    if (Field(e, eend, '\x12', &value) != eend || value.empty()) return false;
    const char* vend = value.data() + value.size();
    if (ReadLengthDelimited(value.data() + 1, vend, &list) != vend)
      return false;
    size_t slot = 0;
    while (slot < dense.size() && key != dense[slot].key) ++slot;
    // Keys outside the spec, repeats and lists of the wrong kind: the
    // validating paths decide.
    if (slot == dense.size() || (*lists)[slot].data() != nullptr) return false;
    const char want = dense[slot].dtype == DType::kString    ? '\x0a'
                      : dense[slot].dtype == DType::kFloat32 ? '\x12'
                                                             : '\x1a';
    if (value[0] != want) return false;
    (*lists)[slot] = list.data() == nullptr ? std::string_view(vend, 0) : list;
    ++seen;
  }
  return seen == dense.size();
}

bool ParseFn::FastParse(absl::Span<const std::string_view> records,
                        const RefPtr& owner, TensorTuple* out) const {
  const std::vector<FixedLenFeature>& dense = spec_.dense();
  const size_t d = dense.size();
  const int64_t n = static_cast<int64_t>(records.size());
  if (!spec_.sparse().empty() || !owner || n == 0) return false;
  TensorTuple result(d);
  std::vector<const FeatureView*> found(d);
  std::vector<FeatureView> views(d);
  std::vector<int64_t> raw_len(d, -1);  // decode_raw: bytes per value
  std::vector<std::string_view> lists(d);
  constexpr int64_t kAhead = 8;
  for (int64_t j = 0; j < std::min(n, kAhead); ++j) PrefetchRecord(records[j]);
  for (int64_t r = 0; r < n; ++r) {
    if (r + kAhead < n) PrefetchRecord(records[r + kAhead]);
    std::fill(found.begin(), found.end(), nullptr);
    if (CanonicalWalk(records[r], &lists)) {
      if (!WriteCanonical(lists, r, n, owner, &raw_len, &result)) return false;
      continue;
    }
    const absl::Status s = ForEachFeatureInExample(
        records[r], [&](std::string_view key, const FeatureView& f) {
          for (size_t i = 0; i < d; ++i) {
            if (key == dense[i].key) {  // a repeated key: the last one wins
              views[i] = f;
              found[i] = &views[i];
              return;
            }
          }
        });
    if (!s.ok()) return false;
    for (size_t i = 0; i < d; ++i) {
      const FeatureView* f = found[i];
      const int64_t count = dense[i].shape.num_elements();
      if (f == nullptr || f->size() != count) return false;
      const int64_t at = r * count;
      switch (dense[i].dtype) {
        case DType::kFloat32:
          if (f->kind() != FeatureKind::kFloatList) return false;
          if (r == 0)
            result[i] = Tensor(DType::kFloat32, dense[i].shape.Prepended(n));
          f->CopyFloats(result[i].data<float>() + at);
          break;
        case DType::kInt64:
          if (f->kind() != FeatureKind::kInt64List) return false;
          if (r == 0)
            result[i] = Tensor(DType::kInt64, dense[i].shape.Prepended(n));
          f->CopyInt64s(result[i].data<int64_t>() + at);
          break;
        case DType::kString: {
          if (f->kind() != FeatureKind::kBytesList) return false;
          int64_t j = 0;
          if (raw_[i] == DType::kString) {
            if (r == 0)
              result[i] = Tensor(DType::kString, dense[i].shape.Prepended(n));
            f->ForEachBytes([&](std::string_view v) {
              result[i].SetStringView(at + j++, v, owner);
            });
            break;
          }
          // decode_raw straight into the output row.
          const int64_t size = static_cast<int64_t>(DTypeSize(raw_[i]));
          bool ok = true;
          f->ForEachBytes([&](std::string_view v) {
            const int64_t len = static_cast<int64_t>(v.size());
            if (!ok) return;
            if (r == 0 && j == 0) {
              if (len % size != 0) {
                ok = false;
                return;
              }
              raw_len[i] = len;
              TensorShape shape = dense[i].shape.Prepended(n);
              shape.AddDim(len / size);
              result[i] = Tensor(raw_[i], shape);
            }
            ok = len == raw_len[i] &&
                 DecodeRawInto(
                     v, raw_[i], /*little_endian=*/true,
                     static_cast<char*>(result[i].raw_data()) + (at + j) * len)
                     .ok();
            ++j;
          });
          if (!ok) return false;
          break;
        }
        default:
          return false;
      }
    }
  }
  *out = std::move(result);
  return true;
}

bool ParseFn::WriteCanonical(const std::vector<std::string_view>& lists,
                             int64_t r, int64_t n, const RefPtr& owner,
                             std::vector<int64_t>* raw_len,
                             TensorTuple* result) const {
  const std::vector<FixedLenFeature>& dense = spec_.dense();
  for (size_t i = 0; i < dense.size(); ++i) {
    const int64_t count = dense[i].shape.num_elements();
    const int64_t at = r * count;
    const char* p = lists[i].data();
    const char* end = p + lists[i].size();
    Tensor& t = (*result)[i];
    int64_t j = 0;
    switch (dense[i].dtype) {
      case DType::kInt64: {
        if (r == 0) t = Tensor(DType::kInt64, dense[i].shape.Prepended(n));
        int64_t* out = t.data<int64_t>() + at;
        while (p < end) {
          uint64_t v;
          if (*p == '\x08') {  // unpacked
            if (j >= count || (p = ReadVarint64(p + 1, end, &v)) == nullptr)
              return false;
            out[j++] = static_cast<int64_t>(v);
            continue;
          }
          std::string_view packed;
          if ((p = Field(p, end, '\x0a', &packed)) == nullptr) return false;
          const char* q = packed.data();
          const char* qend = q + packed.size();
          while (q < qend) {
            if (j >= count || (q = ReadVarint64(q, qend, &v)) == nullptr)
              return false;
            out[j++] = static_cast<int64_t>(v);
          }
        }
        break;
      }
      case DType::kFloat32: {
        if (r == 0) t = Tensor(DType::kFloat32, dense[i].shape.Prepended(n));
        float* out = t.data<float>() + at;
        while (p < end) {
          if (*p == '\x0d') {  // unpacked fixed32
            if (j >= count || end - p < 5) return false;
            out[j++] = internal::LoadFloatLE(p + 1);
            p += 5;
            continue;
          }
          std::string_view packed;
          if ((p = Field(p, end, '\x0a', &packed)) == nullptr ||
              packed.size() % 4 != 0 ||
              j + static_cast<int64_t>(packed.size() / 4) > count) {
            return false;
          }
          for (size_t k = 0; k < packed.size(); k += 4)
            out[j++] = internal::LoadFloatLE(packed.data() + k);
        }
        break;
      }
      case DType::kString: {
        const bool decode = raw_[i] != DType::kString;
        const int64_t size =
            decode ? static_cast<int64_t>(DTypeSize(raw_[i])) : 1;
        while (p < end) {
          std::string_view v;
          if (j >= count || (p = Field(p, end, '\x0a', &v)) == nullptr)
            return false;
          if (!decode) {
            if (r == 0 && j == 0)
              t = Tensor(DType::kString, dense[i].shape.Prepended(n));
            t.SetStringView(at + j++, v, owner);
            continue;
          }
          const int64_t len = static_cast<int64_t>(v.size());
          if (r == 0 && j == 0) {
            if (len % size != 0) return false;
            (*raw_len)[i] = len;
            TensorShape shape = dense[i].shape.Prepended(n);
            shape.AddDim(len / size);
            t = Tensor(raw_[i], shape);
          }
          if (len != (*raw_len)[i] ||
              !DecodeRawInto(v, raw_[i], /*little_endian=*/true,
                             static_cast<char*>(t.raw_data()) + (at + j) * len)
                   .ok()) {
            return false;
          }
          ++j;
        }
        break;
      }
      default:
        return false;
    }
    if (j != count || !t.IsInitialized()) return false;
  }
  return true;
}

absl::StatusOr<TensorTuple> ParseFn::GeneralParse(
    absl::Span<const std::string_view> records, const RefPtr& owner) const {
  ParseResult result;
  ParseOptions options;
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
    out.push_back(std::move(t));
  }
  for (SparseTensor& s : result.sparse) {
    out.push_back(std::move(s.indices));
    out.push_back(std::move(s.values));
    out.push_back(std::move(s.dense_shape));
  }
  return out;
}

}  // namespace sluice::python
