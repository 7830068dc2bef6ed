#pragma once
// The [N, H, W, C] view of an image tensor (HWC images are N = 1), shared
// by the image area's .cc files. Private to src/image.

#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"

namespace sluice::internal {

struct ImageDims {
  int64_t n = 1, h = 0, w = 0, c = 0;
  bool batched = false;
  int64_t pixels() const { return h * w; }
  int64_t image_elements() const { return h * w * c; }
  // The shape of an output with this batching and (h, w, c).
  TensorShape Shape(int64_t oh, int64_t ow, int64_t oc) const {
    return batched ? TensorShape{n, oh, ow, oc} : TensorShape{oh, ow, oc};
  }
};

// InvalidArgument naming `op` unless `t` is a rank-3 or rank-4 tensor of
// a numeric dtype (uint8, uint16, int32, int64, float, double).
inline absl::StatusOr<ImageDims> ImageDimsOf(const Tensor& t, const char* op) {
  if (!t.IsInitialized())
    return absl::InvalidArgumentError(absl::StrCat(op, ": no image"));
  if (t.rank() != 3 && t.rank() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": 'image' must be 3-D [H, W, C] or 4-D ",
                     "[N, H, W, C], got shape ", t.shape().DebugString()));
  }
  if (t.dtype() == DType::kString || t.dtype() == DType::kBool) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": images must be numeric, got ", Sv(DTypeName(t.dtype()))));
  }
  ImageDims d;
  d.batched = t.rank() == 4;
  const int o = d.batched ? 1 : 0;
  d.n = d.batched ? t.dim(0) : 1;
  d.h = t.dim(o);
  d.w = t.dim(o + 1);
  d.c = t.dim(o + 2);
  return d;
}

// As ImageDimsOf, and the dtype must be uint8 or float32.
inline absl::StatusOr<ImageDims> U8OrFloatDimsOf(const Tensor& t,
                                                 const char* op) {
  SLUICE_ASSIGN_OR_RETURN(ImageDims d, ImageDimsOf(t, op));
  if (t.dtype() != DType::kUInt8 && t.dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": images must be uint8 or float, got ", Sv(DTypeName(t.dtype()))));
  }
  return d;
}

}  // namespace sluice::internal
