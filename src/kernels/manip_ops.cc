#include "kernels/manip_ops.h"

#include <cstring>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "kernels/internal/dispatch.h"

namespace sluice {
namespace {

// Copies `count` elements; string elements become views owned by src's
// buffer (dst keeps it alive).
void CopyElems(const Tensor& src, int64_t src_off, Tensor* dst, int64_t dst_off,
               int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == DType::kString) {
    for (int64_t i = 0; i < count; ++i) {
      dst->SetStringView(dst_off + i, src.string(src_off + i), src.buffer());
    }
    return;
  }
  const size_t es = DTypeSize(src.dtype());
  std::memcpy(static_cast<char*>(dst->raw_data()) + dst_off * es,
              static_cast<const char*>(src.raw_data()) + src_off * es,
              count * es);
}

int64_t Prod(const TensorShape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s.dim(i);
  return p;
}

absl::StatusOr<std::vector<int64_t>> Indices(const Tensor& t) {
  std::vector<int64_t> v(t.NumElements());
  if (t.dtype() == DType::kInt32) {
    for (int64_t i = 0; i < t.NumElements(); ++i) v[i] = t.data<int32_t>()[i];
  } else if (t.dtype() == DType::kInt64) {
    for (int64_t i = 0; i < t.NumElements(); ++i) v[i] = t.data<int64_t>()[i];
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "indices must be int32 or int64, got ", Sv(DTypeName(t.dtype()))));
  }
  return v;
}

}  // namespace

absl::Status Pack(const std::vector<Tensor>& in, int64_t axis, Tensor* out) {
  if (in.empty())
    return absl::InvalidArgumentError("Pack needs at least one input");
  const TensorShape& s = in[0].shape();
  const int r = s.rank();
  const int64_t ax = axis < 0 ? axis + r + 1 : axis;
  if (ax < 0 || ax > r) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis = ", axis, " not in [", -r - 1, ", ", r + 1, ")"));
  }
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i].dtype() != in[0].dtype() || in[i].shape() != s) {
      return absl::InvalidArgumentError(
          absl::StrCat("Shapes of all inputs must match: values[0].shape = ",
                       s.DebugString(), " != values[", i,
                       "].shape = ", in[i].shape().DebugString()));
    }
  }
  TensorShape os;
  for (int d = 0; d < r; ++d) {
    if (d == ax) os.AddDim(static_cast<int64_t>(in.size()));
    os.AddDim(s.dim(d));
  }
  if (ax == r) os.AddDim(static_cast<int64_t>(in.size()));
  *out = Tensor(in[0].dtype(), os);
  const int64_t outer = Prod(s, 0, static_cast<int>(ax));
  const int64_t inner = Prod(s, static_cast<int>(ax), r);
  const int64_t n = static_cast<int64_t>(in.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < n; ++i)
      CopyElems(in[i], o * inner, out, (o * n + i) * inner, inner);
  }
  return absl::OkStatus();
}

absl::Status Unpack(const Tensor& in, int64_t axis, std::vector<Tensor>* out) {
  const int r = in.rank();
  const int64_t ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis = ", axis, " not in [", -r, ", ", r, ")"));
  }
  TensorShape ps;
  for (int d = 0; d < r; ++d) {
    if (d != ax) ps.AddDim(in.dim(d));
  }
  const int64_t n = in.dim(static_cast<int>(ax));
  const int64_t outer = Prod(in.shape(), 0, static_cast<int>(ax));
  const int64_t inner = Prod(in.shape(), static_cast<int>(ax) + 1, r);
  out->clear();
  for (int64_t i = 0; i < n; ++i) {
    Tensor t(in.dtype(), ps);
    for (int64_t o = 0; o < outer; ++o)
      CopyElems(in, (o * n + i) * inner, &t, o * inner, inner);
    out->push_back(std::move(t));
  }
  return absl::OkStatus();
}

absl::Status Tile(const Tensor& in, absl::Span<const int64_t> multiples,
                  Tensor* out) {
  const int r = in.rank();
  if (static_cast<int>(multiples.size()) != r) {
    return absl::InvalidArgumentError(
        absl::StrCat("Expected multiples argument to be a vector of length ", r,
                     " but got length ", multiples.size()));
  }
  TensorShape os;
  for (int d = 0; d < r; ++d) {
    if (multiples[d] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Expected multiples[", d, "] >= 0, but got ", multiples[d]));
    }
    os.AddDim(in.dim(d) * multiples[d]);
  }
  *out = Tensor(in.dtype(), os);
  if (os.num_elements() == 0) return absl::OkStatus();
  if (r == 0) {
    CopyElems(in, 0, out, 0, 1);
    return absl::OkStatus();
  }
  // Walk the output's rows (all dims but the last); each is the source row
  // at the wrapped index, repeated multiples[r-1] times.
  const int64_t row = in.dim(r - 1);
  const int64_t out_row = os.dim(r - 1);
  const int64_t rows = os.num_elements() / out_row;
  std::vector<int64_t> idx(r - 1, 0);
  for (int64_t k = 0; k < rows; ++k) {
    int64_t src_row = 0;
    for (int d = 0; d < r - 1; ++d)
      src_row = src_row * in.dim(d) + idx[d] % in.dim(d);
    for (int64_t m = 0; m < multiples[r - 1]; ++m) {
      CopyElems(in, src_row * row, out, k * out_row + m * row, row);
    }
    for (int d = r - 2; d >= 0; --d) {
      if (++idx[d] < os.dim(d)) break;
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

absl::Status Pad(const Tensor& in, absl::Span<const int64_t> paddings,
                 const Tensor& constant, Tensor* out) {
  const int r = in.rank();
  if (static_cast<int>(paddings.size()) != 2 * r) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The first dimension of paddings must be the rank of inputs ", r,
        ", got ", paddings.size() / 2));
  }
  if (constant.dtype() != in.dtype() || constant.NumElements() != 1 ||
      in.dtype() == DType::kString) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Pad: constant_values must be a scalar of the input's dtype ",
        Sv(DTypeName(in.dtype())), " (numeric or bool)"));
  }
  TensorShape os;
  for (int d = 0; d < r; ++d) {
    if (paddings[2 * d] < 0 || paddings[2 * d + 1] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Paddings must be non-negative: ", paddings[2 * d], " ",
                       paddings[2 * d + 1]));
    }
    os.AddDim(in.dim(d) + paddings[2 * d] + paddings[2 * d + 1]);
  }
  *out = Tensor(in.dtype(), os);
  const size_t es = DTypeSize(in.dtype());
  char* o = static_cast<char*>(out->raw_data());
  for (int64_t i = 0; i < os.num_elements(); ++i)
    std::memcpy(o + i * es, constant.raw_data(), es);
  if (in.NumElements() == 0) return absl::OkStatus();
  if (r == 0) {
    CopyElems(in, 0, out, 0, 1);
    return absl::OkStatus();
  }
  const int64_t row = in.dim(r - 1);
  const int64_t rows = in.NumElements() / row;
  std::vector<int64_t> idx(r - 1, 0);
  for (int64_t k = 0; k < rows; ++k) {
    int64_t dst = 0;
    for (int d = 0; d < r - 1; ++d)
      dst = dst * os.dim(d) + idx[d] + paddings[2 * d];
    dst = dst * os.dim(r - 1) + paddings[2 * (r - 1)];
    CopyElems(in, k * row, out, dst, row);
    for (int d = r - 2; d >= 0; --d) {
      if (++idx[d] < in.dim(d)) break;
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

absl::Status Gather(const Tensor& params, const Tensor& indices, int64_t axis,
                    Tensor* out) {
  const int r = params.rank();
  const int64_t ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Expected axis in the range [", -r, ", ", r, "), but got ", axis));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> idx, Indices(indices));
  const int a = static_cast<int>(ax);
  const int64_t limit = params.dim(a);
  TensorShape os;
  for (int d = 0; d < a; ++d) os.AddDim(params.dim(d));
  for (int d = 0; d < indices.rank(); ++d) os.AddDim(indices.dim(d));
  for (int d = a + 1; d < r; ++d) os.AddDim(params.dim(d));
  const int64_t outer = Prod(params.shape(), 0, a);
  const int64_t inner = Prod(params.shape(), a + 1, r);
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "indices[", i, "] = ", idx[i], " is not in [0, ", limit, ")"));
    }
  }
  *out = Tensor(params.dtype(), os);
  const int64_t n = static_cast<int64_t>(idx.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < n; ++i) {
      CopyElems(params, (o * limit + idx[i]) * inner, out, (o * n + i) * inner,
                inner);
    }
  }
  return absl::OkStatus();
}

absl::Status UnsortedSegmentSum(const Tensor& data, const Tensor& segment_ids,
                                int64_t num_segments, Tensor* out) {
  const int ir = segment_ids.rank();
  if (data.rank() < ir) {
    return absl::InvalidArgumentError(
        "data.shape must start with segment_ids.shape");
  }
  for (int d = 0; d < ir; ++d) {
    if (data.dim(d) != segment_ids.dim(d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("data.shape = ", data.shape().DebugString(),
                       " does not start with segment_ids.shape = ",
                       segment_ids.shape().DebugString()));
    }
  }
  if (num_segments < 0)
    return absl::InvalidArgumentError("num_segments must be >= 0");
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> ids, Indices(segment_ids));
  TensorShape os{num_segments};
  for (int d = ir; d < data.rank(); ++d) os.AddDim(data.dim(d));
  const int64_t inner = Prod(data.shape(), ir, data.rank());
  return internal::DispatchNumeric(
      "UnsortedSegmentSum", data.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        *out = Tensor::Zeros(data.dtype(), os);
        T* o = out->data<T>();
        const T* x = data.data<T>();
        for (size_t i = 0; i < ids.size(); ++i) {
          if (ids[i] < 0 || ids[i] >= num_segments) {
            return absl::InvalidArgumentError(
                absl::StrCat("segment_ids[", i, "] = ", ids[i],
                             " is out of range [0, ", num_segments, ")"));
          }
          for (int64_t j = 0; j < inner; ++j)
            o[ids[i] * inner + j] += x[i * inner + j];
        }
        return absl::OkStatus();
      });
}

absl::Status Select(const Tensor& cond, const Tensor& t, const Tensor& e,
                    Tensor* out) {
  if (cond.dtype() != DType::kBool) {
    return absl::InvalidArgumentError("Select: condition must be bool");
  }
  if (t.dtype() != e.dtype() || t.shape() != e.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'then' and 'else' must have the same size.  but received: ",
        t.shape().DebugString(), " vs. ", e.shape().DebugString()));
  }
  int64_t block = 1;
  if (cond.shape() == t.shape()) {
    block = 1;
  } else if (cond.rank() == 1 && t.rank() >= 1 && cond.dim(0) == t.dim(0)) {
    block = t.dim(0) == 0 ? 0 : t.NumElements() / t.dim(0);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "'cond' must be a vector of the first dimension of 'then' or have its "
        "shape: cond ",
        cond.shape().DebugString(), ", then ", t.shape().DebugString()));
  }
  *out = Tensor(t.dtype(), t.shape());
  const bool* c = cond.data<bool>();
  for (int64_t i = 0; i < cond.NumElements(); ++i) {
    CopyElems(c[i] ? t : e, i * block, out, i * block, block);
  }
  return absl::OkStatus();
}

absl::Status Where(const Tensor& cond, Tensor* out) {
  std::vector<int64_t> hits;
  SLUICE_RETURN_IF_ERROR(
      internal::DispatchPod("Where", cond.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* c = cond.data<T>();
        for (int64_t i = 0; i < cond.NumElements(); ++i) {
          if (c[i] != T{}) hits.push_back(i);
        }
        return absl::OkStatus();
      }));
  const int r = cond.rank();
  *out =
      Tensor(DType::kInt64, TensorShape{static_cast<int64_t>(hits.size()), r});
  int64_t* o = out->data<int64_t>();
  for (size_t k = 0; k < hits.size(); ++k) {
    int64_t rem = hits[k];
    for (int d = r - 1; d >= 0; --d) {
      o[k * r + d] = rem % cond.dim(d);
      rem /= cond.dim(d);
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice
