#include "queues/padding_fifo_queue.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

using internal::RowChunk;

absl::StatusOr<std::shared_ptr<PaddingFIFOQueue>> PaddingFIFOQueue::Create(
    QueueOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options, "PaddingFIFOQueue"));
  if (options.shapes.size() != options.dtypes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PaddingFIFOQueue '", options.name, "': shapes must be given for every component (",
        options.dtypes.size(), " types, ", options.shapes.size(), " shapes)"));
  }
  return std::shared_ptr<PaddingFIFOQueue>(new PaddingFIFOQueue(options, "PaddingFIFOQueue"));
}

namespace {

// Copies `src` (shape s) into the slot of `dst` starting at element
// `dst_base`, whose shape is `padded` (each dim >= s's). Recurses over the
// outer dimensions; the innermost run is one contiguous copy.
void CopyPadded(const Tensor& src, const TensorShape& padded, Tensor* dst, int64_t dst_base) {
  const TensorShape& s = src.shape();
  const int rank = s.rank();
  const size_t es = DTypeSize(src.dtype());
  if (src.NumElements() == 0) return;
  if (src.dtype() == DType::kString) dst->buffer()->AddOwner(src.buffer());
  char* out = static_cast<char*>(dst->raw_data());
  const char* in = static_cast<const char*>(src.raw_data());
  if (rank == 0) {
    std::memcpy(out + dst_base * es, in, es);
    return;
  }
  // Strides in elements.
  std::vector<int64_t> src_stride(rank, 1), dst_stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) {
    src_stride[d] = src_stride[d + 1] * s.dim(d + 1);
    dst_stride[d] = dst_stride[d + 1] * padded.dim(d + 1);
  }
  const int64_t run = s.dim(rank - 1);
  const int64_t outer = src.NumElements() / run;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t si = 0, di = 0;
    for (int d = 0; d < rank - 1; ++d) {
      si += idx[d] * src_stride[d];
      di += idx[d] * dst_stride[d];
    }
    std::memcpy(out + (dst_base + di) * es, in + si * es, run * es);
    for (int d = rank - 2; d >= 0; --d) {  // odometer over the outer dims
      if (++idx[d] < s.dim(d)) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

absl::StatusOr<TensorTuple> PaddingFIFOQueue::AssembleMany(internal::RowChunks parts,
                                                           int64_t n) const {
  const auto& dtypes = component_dtypes();
  const auto& shapes = component_shapes();
  TensorTuple out;
  out.reserve(dtypes.size());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    // The padded row shape: declared dims, unknown ones at the maximum.
    TensorShape padded = shapes[i];
    for (int d = 0; d < padded.rank(); ++d) {
      if (padded.dim(d) >= 0) continue;
      int64_t m = 0;
      for (const RowChunk& c : parts) {
        const Tensor& t = c.tuple[i];
        m = std::max(m, c.stacked ? t.dim(d + 1) : t.dim(d));
      }
      padded.set_dim(d, m);
    }
    if (parts.size() == 1 && parts[0].stacked && parts[0].rows() == n &&
        parts[0].tuple[i].shape().DroppedFirst() == padded) {
      out.push_back(parts[0].tuple[i]);  // nothing to pad: no copy
      continue;
    }
    Tensor t = Tensor::Zeros(dtypes[i], padded.Prepended(n));
    if (!t.IsInitialized()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "DequeueMany on PaddingFIFOQueue '", Sv(name()), "': cannot allocate ",
          padded.Prepended(n).DebugString()));
    }
    const int64_t slot = padded.num_elements();
    int64_t row = 0;
    for (const RowChunk& c : parts) {
      for (int64_t r = 0; r < c.rows(); ++r, ++row) {
        CopyPadded(c.stacked ? c.tuple[i].Row(r) : c.tuple[i], padded, &t, row * slot);
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace sluice
