#pragma once
// TensorShape: a list of dimensions. A dimension of -1 is unknown; unknown
// dimensions appear only in declarations (queue component shapes, graph
// placeholders), never in a Tensor's own shape. Value type; not thread-safe
// for mutation.
//
// The dimensions live in a fixed inline array (rank <= kMaxRank), so a shape
// is trivially copyable: tensors are moved through queues by the million and
// a shape copy must cost a memcpy, not a loop. Exceeding kMaxRank is a
// contract violation (the process aborts with a message).

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/types/span.h"

namespace sluice {

class TensorShape {
 public:
  static constexpr int64_t kUnknownDim = -1;
  static constexpr int kMaxRank = 8;

  TensorShape() = default;  // a scalar
  TensorShape(std::initializer_list<int64_t> dims) { Assign(dims.begin(), dims.size()); }
  explicit TensorShape(absl::Span<const int64_t> dims) { Assign(dims.data(), dims.size()); }

  int rank() const { return rank_; }
  int64_t dim(int i) const { return dims_[i]; }
  absl::Span<const int64_t> dims() const { return absl::Span<const int64_t>(dims_, rank_); }
  void set_dim(int i, int64_t d) { dims_[i] = d; }
  void AddDim(int64_t d);
  void InsertDim(int i, int64_t d);
  void RemoveDim(int i);

  bool IsFullyDefined() const;
  // Product of the dimensions (1 for a scalar). Requires IsFullyDefined().
  int64_t num_elements() const;

  // True when the ranks agree and every known dimension of either matches.
  bool IsCompatibleWith(const TensorShape& other) const;

  // [n] + this.
  TensorShape Prepended(int64_t n) const;
  // This without its first dimension. Requires rank() >= 1.
  TensorShape DroppedFirst() const;

  // "[2,3]", "[?,784]", "[]".
  std::string DebugString() const;

  friend bool operator==(const TensorShape& a, const TensorShape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i) {
      if (a.dims_[i] != b.dims_[i]) return false;
    }
    return true;
  }
  friend bool operator!=(const TensorShape& a, const TensorShape& b) {
    return !(a == b);
  }

 private:
  void Assign(const int64_t* dims, size_t n);

  int64_t dims_[kMaxRank] = {};
  int rank_ = 0;
};

}  // namespace sluice
