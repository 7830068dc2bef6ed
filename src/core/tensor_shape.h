#pragma once
// TensorShape: a list of dimensions. A dimension of -1 is unknown; unknown
// dimensions appear only in declarations (queue component shapes, graph
// placeholders), never in a Tensor's own shape. Value type; not thread-safe
// for mutation.

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace sluice {

class TensorShape {
 public:
  static constexpr int64_t kUnknownDim = -1;

  TensorShape() = default;  // a scalar
  TensorShape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit TensorShape(absl::Span<const int64_t> dims)
      : dims_(dims.begin(), dims.end()) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  absl::Span<const int64_t> dims() const { return dims_; }
  void set_dim(int i, int64_t d) { dims_[i] = d; }
  void AddDim(int64_t d) { dims_.push_back(d); }
  void InsertDim(int i, int64_t d) { dims_.insert(dims_.begin() + i, d); }
  void RemoveDim(int i) { dims_.erase(dims_.begin() + i); }

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
    return a.dims_ == b.dims_;
  }
  friend bool operator!=(const TensorShape& a, const TensorShape& b) {
    return !(a == b);
  }

 private:
  absl::InlinedVector<int64_t, 4> dims_;
};

}  // namespace sluice
