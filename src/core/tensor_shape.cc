#include "core/tensor_shape.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice {

namespace {
[[noreturn]] void RankTooLarge(size_t rank) {
  std::fprintf(stderr, "sluice: TensorShape rank %zu exceeds kMaxRank (%d)\n", rank,
               TensorShape::kMaxRank);
  std::abort();
}
}  // namespace

void TensorShape::Assign(const int64_t* dims, size_t n) {
  if (n > kMaxRank) RankTooLarge(n);
  for (size_t i = 0; i < n; ++i) dims_[i] = dims[i];
  rank_ = static_cast<int>(n);
}

void TensorShape::AddDim(int64_t d) {
  if (rank_ >= kMaxRank) RankTooLarge(rank_ + 1);
  dims_[rank_++] = d;
}

void TensorShape::InsertDim(int i, int64_t d) {
  if (rank_ >= kMaxRank) RankTooLarge(rank_ + 1);
  for (int k = rank_; k > i; --k) dims_[k] = dims_[k - 1];
  dims_[i] = d;
  ++rank_;
}

void TensorShape::RemoveDim(int i) {
  for (int k = i; k + 1 < rank_; ++k) dims_[k] = dims_[k + 1];
  --rank_;
}

bool TensorShape::IsFullyDefined() const {
  for (int i = 0; i < rank_; ++i) {
    if (dims_[i] < 0) return false;
  }
  return true;
}

int64_t TensorShape::num_elements() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    assert(dims_[i] >= 0);
    n *= dims_[i];
  }
  return n;
}

bool TensorShape::IsCompatibleWith(const TensorShape& other) const {
  if (rank() != other.rank()) return false;
  for (int i = 0; i < rank_; ++i) {
    if (dims_[i] >= 0 && other.dims_[i] >= 0 && dims_[i] != other.dims_[i]) return false;
  }
  return true;
}

TensorShape TensorShape::Prepended(int64_t n) const {
  TensorShape s = *this;
  s.InsertDim(0, n);
  return s;
}

TensorShape TensorShape::DroppedFirst() const {
  assert(rank_ >= 1);
  TensorShape s = *this;
  s.RemoveDim(0);
  return s;
}

std::string TensorShape::DebugString() const {
  return absl::StrCat(
      "[",
      absl::StrJoin(dims(), ",",
                    [](std::string* out, int64_t d) {
                      absl::StrAppend(out, d < 0 ? std::string("?") : absl::StrCat(d));
                    }),
      "]");
}

}  // namespace sluice
