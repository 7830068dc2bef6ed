#include "kernels/array_ops.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

int64_t NormAxis(int64_t axis, int rank) { return axis < 0 ? axis + rank : axis; }

// Copies `count` elements; string elements become views owned by src's
// buffer (dst keeps it alive).
void CopyElems(const Tensor& src, int64_t src_off, Tensor* dst, int64_t dst_off, int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == DType::kString) {
    for (int64_t i = 0; i < count; ++i) {
      dst->SetStringView(dst_off + i, src.string(src_off + i), src.buffer());
    }
    return;
  }
  const size_t es = DTypeSize(src.dtype());
  std::memcpy(static_cast<char*>(dst->raw_data()) + dst_off * es,
              static_cast<const char*>(src.raw_data()) + src_off * es, count * es);
}

}  // namespace

absl::Status Concat(const std::vector<Tensor>& in, int64_t axis, Tensor* out) {
  if (in.empty()) return absl::InvalidArgumentError("Concat needs at least one input");
  const int r = in[0].rank();
  const int64_t ax = NormAxis(axis, r);
  if (r == 0 || ax < 0 || ax >= r) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConcatOp: axis ", axis, " out of range for rank ", r));
  }
  TensorShape os = in[0].shape();
  int64_t total = 0;
  for (const Tensor& t : in) {
    if (t.dtype() != in[0].dtype() || t.rank() != r) {
      return absl::InvalidArgumentError(
          absl::StrCat("ConcatOp: inputs differ in dtype or rank: ", in[0].DebugString(2), " vs ",
                       t.DebugString(2)));
    }
    for (int d = 0; d < r; ++d) {
      if (d != ax && t.dim(d) != os.dim(d)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ConcatOp: Dimensions of inputs should match: shape[0] = ", in[0].shape().DebugString(),
            " vs. shape = ", t.shape().DebugString()));
      }
    }
    total += t.dim(ax);
  }
  os.set_dim(ax, total);
  *out = Tensor(in[0].dtype(), os);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= os.dim(d);
  for (int d = ax + 1; d < r; ++d) inner *= os.dim(d);
  const int64_t out_row = total * inner;
  int64_t col = 0;
  for (const Tensor& t : in) {
    const int64_t chunk = t.dim(ax) * inner;
    for (int64_t o = 0; o < outer; ++o) CopyElems(t, o * chunk, out, o * out_row + col, chunk);
    col += chunk;
  }
  return absl::OkStatus();
}

absl::Status Split(const Tensor& in, int64_t axis, int64_t num_split, std::vector<Tensor>* out) {
  const int r = in.rank();
  const int64_t ax = NormAxis(axis, r);
  if (ax < 0 || ax >= r) return absl::InvalidArgumentError("Split: axis out of range");
  if (num_split <= 0 || in.dim(ax) % num_split != 0) {
    return absl::InvalidArgumentError(absl::StrCat("Number of ways to split should evenly divide ",
                                                   "the split dimension, but got split_dim ", ax,
                                                   " (size = ", in.dim(ax), ") and num_split ",
                                                   num_split));
  }
  const int64_t part = in.dim(ax) / num_split;
  out->clear();
  std::vector<int64_t> begin(r, 0), size(in.shape().dims().begin(), in.shape().dims().end());
  size[ax] = part;
  for (int64_t k = 0; k < num_split; ++k) {
    begin[ax] = k * part;
    Tensor t;
    SLUICE_RETURN_IF_ERROR(Slice(in, begin, size, &t));
    out->push_back(std::move(t));
  }
  return absl::OkStatus();
}

absl::Status Slice(const Tensor& in, absl::Span<const int64_t> begin,
                   absl::Span<const int64_t> size, Tensor* out) {
  const int r = in.rank();
  if (static_cast<int>(begin.size()) != r || static_cast<int>(size.size()) != r) {
    return absl::InvalidArgumentError("Slice: begin and size must have one entry per dimension");
  }
  StridedSliceSpec s;
  for (int d = 0; d < r; ++d) {
    const int64_t sz = size[d] == -1 ? in.dim(d) - begin[d] : size[d];
    if (begin[d] < 0 || sz < 0 || begin[d] + sz > in.dim(d)) {
      return absl::InvalidArgumentError(absl::StrCat("Expected size[", d, "] in [0, ",
                                                     in.dim(d) - begin[d], "], but got ", sz));
    }
    s.begin.push_back(begin[d]);
    s.end.push_back(begin[d] + sz);
    s.strides.push_back(1);
  }
  return StridedSlice(in, s, out);
}

namespace {
struct DimRange {
  int64_t start, stride, count;
  bool shrink;
};

absl::StatusOr<std::vector<DimRange>> Ranges(const TensorShape& in, const StridedSliceSpec& s) {
  const int r = in.rank();
  const size_t n = s.begin.size();
  if (s.end.size() != n || s.strides.size() != n || static_cast<int>(n) > r) {
    return absl::InvalidArgumentError("StridedSlice: begin, end and strides must agree in length "
                                      "and not exceed the rank");
  }
  std::vector<DimRange> out;
  for (int d = 0; d < r; ++d) {
    const int64_t dim = in.dim(d);
    if (d >= static_cast<int>(n)) {
      out.push_back({0, 1, dim, false});
      continue;
    }
    const int64_t st = s.strides[d];
    if (st == 0) return absl::InvalidArgumentError("StridedSlice: stride 0");
    if (s.shrink_axis_mask & (int64_t{1} << d)) {
      int64_t i = s.begin[d] < 0 ? s.begin[d] + dim : s.begin[d];
      if (dim >= 0 && (i < 0 || i >= dim)) {
        return absl::InvalidArgumentError(
            absl::StrCat("slice index ", s.begin[d], " of dimension ", d, " out of bounds."));
      }
      out.push_back({i, 1, 1, true});
      continue;
    }
    auto clamp = [&](int64_t v, bool is_begin) {
      const bool masked = is_begin ? (s.begin_mask & (int64_t{1} << d)) : (s.end_mask & (int64_t{1} << d));
      if (masked) return st > 0 ? (is_begin ? int64_t{0} : dim) : (is_begin ? dim - 1 : int64_t{-1});
      if (v < 0) v += dim;
      if (st > 0) return std::clamp<int64_t>(v, 0, dim);
      return std::clamp<int64_t>(v, -1, dim - 1);
    };
    const int64_t b = clamp(s.begin[d], true), e = clamp(s.end[d], false);
    int64_t count = st > 0 ? (e - b + st - 1) / st : (b - e + (-st) - 1) / (-st);
    if (count < 0) count = 0;
    out.push_back({b, st, count, false});
  }
  return out;
}
}  // namespace

absl::StatusOr<TensorShape> StridedSliceShape(const TensorShape& in, const StridedSliceSpec& s) {
  TensorShape os;
  if (!in.IsFullyDefined()) {
    for (int d = 0; d < in.rank(); ++d) {
      if (d < static_cast<int>(s.begin.size()) && (s.shrink_axis_mask & (int64_t{1} << d))) continue;
      os.AddDim(-1);
    }
    return os;
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<DimRange> rs, Ranges(in, s));
  for (const DimRange& r : rs) {
    if (!r.shrink) os.AddDim(r.count);
  }
  return os;
}

absl::Status StridedSlice(const Tensor& in, const StridedSliceSpec& s, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<DimRange> rs, Ranges(in.shape(), s));
  TensorShape os;
  for (const DimRange& r : rs) {
    if (!r.shrink) os.AddDim(r.count);
  }
  // Built aside: `out` may alias `in`.
  Tensor result(in.dtype(), os);
  const int r = in.rank();
  if (os.num_elements() == 0 || r == 0) {
    if (r == 0) CopyElems(in, 0, &result, 0, 1);
    *out = std::move(result);
    return absl::OkStatus();
  }
  std::vector<int64_t> istride(r, 1);
  for (int d = r - 2; d >= 0; --d) istride[d] = istride[d + 1] * in.dim(d + 1);
  // Iterate over the output, copying runs of the last dim when its stride is 1.
  std::vector<int64_t> idx(r, 0);
  const DimRange& last = rs[r - 1];
  const int64_t total = os.num_elements();
  const int64_t run = last.count;
  int64_t written = 0;
  while (written < total) {
    int64_t base = 0;
    for (int d = 0; d < r - 1; ++d) base += (rs[d].start + idx[d] * rs[d].stride) * istride[d];
    if (last.stride == 1) {
      CopyElems(in, base + last.start, &result, written, run);
    } else {
      for (int64_t j = 0; j < run; ++j) {
        CopyElems(in, base + last.start + j * last.stride, &result, written + j, 1);
      }
    }
    written += run;
    for (int d = r - 2; d >= 0; --d) {
      if (++idx[d] < rs[d].count) break;
      idx[d] = 0;
    }
  }
  *out = std::move(result);
  return absl::OkStatus();
}

absl::Status OneHot(const Tensor& indices, int64_t depth, const Tensor& on_value,
                    const Tensor& off_value, Tensor* out) {
  if (depth < 0) return absl::InvalidArgumentError("OneHot: depth must be non-negative");
  if (on_value.dtype() != off_value.dtype() || on_value.NumElements() != 1 ||
      off_value.NumElements() != 1) {
    return absl::InvalidArgumentError("OneHot: on_value and off_value must be scalars of one dtype");
  }
  TensorShape os = indices.shape();
  os.AddDim(depth);
  const int64_t n = indices.NumElements();
  auto index = [&](int64_t i) -> int64_t {
    return indices.dtype() == DType::kInt64 ? indices.data<int64_t>()[i]
                                            : indices.data<int32_t>()[i];
  };
  if (indices.dtype() != DType::kInt32 && indices.dtype() != DType::kInt64 &&
      indices.dtype() != DType::kUInt8) {
    return internal::UnsupportedDType("OneHot indices", indices.dtype());
  }
  const bool u8 = indices.dtype() == DType::kUInt8;
  return internal::DispatchPod("OneHot", on_value.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = Tensor(on_value.dtype(), os);
    T* po = out->data<T>();
    const T on = on_value.data<T>()[0], off = off_value.data<T>()[0];
    for (int64_t i = 0; i < n * depth; ++i) po[i] = off;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = u8 ? indices.data<uint8_t>()[i] : index(i);
      if (k >= 0 && k < depth) po[i * depth + k] = on;
    }
    return absl::OkStatus();
  });
}

absl::Status Transpose(const Tensor& in, absl::Span<const int64_t> perm, Tensor* out) {
  const int r = in.rank();
  if (static_cast<int>(perm.size()) != r) {
    return absl::InvalidArgumentError("Transpose: perm must have one entry per dimension");
  }
  std::vector<bool> seen(r, false);
  TensorShape os;
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p]) return absl::InvalidArgumentError("Transpose: bad perm");
    seen[p] = true;
    os.AddDim(in.dim(p));
  }
  Tensor result(in.dtype(), os);
  std::vector<int64_t> istride(r, 1);
  for (int d = r - 2; d >= 0; --d) istride[d] = istride[d + 1] * in.dim(d + 1);
  std::vector<int64_t> idx(r, 0);
  const int64_t n = in.NumElements();
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int d = 0; d < r; ++d) src += idx[d] * istride[perm[d]];
    CopyElems(in, src, &result, k, 1);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < os.dim(d)) break;
      idx[d] = 0;
    }
  }
  *out = std::move(result);
  return absl::OkStatus();
}

absl::Status Fill(const TensorShape& shape, const Tensor& value, Tensor* out) {
  if (value.NumElements() != 1) return absl::InvalidArgumentError("Fill: value must be a scalar");
  if (!shape.IsFullyDefined()) return absl::InvalidArgumentError("Fill: shape must be defined");
  *out = Tensor(value.dtype(), shape);
  const int64_t n = out->NumElements();
  if (value.dtype() == DType::kString) {
    for (int64_t i = 0; i < n; ++i) out->SetStringView(i, value.string(0), value.buffer());
    return absl::OkStatus();
  }
  const size_t es = DTypeSize(value.dtype());
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(static_cast<char*>(out->raw_data()) + i * es, value.raw_data(), es);
  }
  return absl::OkStatus();
}

}  // namespace sluice
