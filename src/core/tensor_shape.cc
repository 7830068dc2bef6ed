#include "core/tensor_shape.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice {

bool TensorShape::IsFullyDefined() const {
  for (int64_t d : dims_) {
    if (d < 0) return false;
  }
  return true;
}

int64_t TensorShape::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims_) {
    assert(d >= 0);
    n *= d;
  }
  return n;
}

bool TensorShape::IsCompatibleWith(const TensorShape& other) const {
  if (rank() != other.rank()) return false;
  for (int i = 0; i < rank(); ++i) {
    if (dims_[i] >= 0 && other.dims_[i] >= 0 && dims_[i] != other.dims_[i]) return false;
  }
  return true;
}

TensorShape TensorShape::Prepended(int64_t n) const {
  TensorShape s = *this;
  s.dims_.insert(s.dims_.begin(), n);
  return s;
}

TensorShape TensorShape::DroppedFirst() const {
  assert(rank() >= 1);
  TensorShape s;
  s.dims_.assign(dims_.begin() + 1, dims_.end());
  return s;
}

std::string TensorShape::DebugString() const {
  return absl::StrCat(
      "[",
      absl::StrJoin(dims_, ",",
                    [](std::string* out, int64_t d) {
                      absl::StrAppend(out, d < 0 ? std::string("?") : absl::StrCat(d));
                    }),
      "]");
}

}  // namespace sluice
