#pragma once
// Tensor: a typed, shaped view of a refcounted Buffer.
//
// Copying a Tensor copies the handle (one atomic increment), never the
// bytes: two copies see the same memory. A tensor that has been handed to a
// queue or another thread must not be written any more; make a new one.
// Slice() and Row() are views into the same buffer.
//
// String tensors store std::string_view elements. The bytes they point to
// are kept alive by the buffer: either copied into its arena (SetString) or
// owned by another Buffer registered as an owner (SetStringView). A view
// into a large chunk keeps the whole chunk alive; code that holds records
// for long (shuffle buffers) should copy them.
//
// Thread-safety: a Tensor object is not thread-safe for mutation; distinct
// Tensor objects sharing a buffer may be read concurrently.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "core/allocator.h"
#include "core/buffer.h"
#include "core/dtype.h"
#include "core/tensor_shape.h"

namespace sluice {

class Tensor {
 public:
  // An uninitialised tensor (IsInitialized() is false).
  Tensor() = default;
  // Allocates a tensor of `shape` (fully defined). Numeric contents are
  // uninitialised; string elements are empty. If the allocator fails the
  // result is uninitialised.
  Tensor(DType dtype, const TensorShape& shape,
         Allocator* allocator = HostAllocator());

  template <typename T>
  static Tensor Scalar(T value);
  static Tensor StringScalar(std::string_view value);
  // A tensor of `shape` holding `values` (row-major). Requires
  // values.size() == shape.num_elements().
  template <typename T>
  static Tensor FromVector(absl::Span<const T> values, const TensorShape& shape);
  template <typename T>
  static Tensor FromVector(std::initializer_list<T> values, const TensorShape& shape) {
    return FromVector<T>(absl::Span<const T>(values.begin(), values.size()), shape);
  }
  static Tensor FromStrings(const std::vector<std::string>& values,
                            const TensorShape& shape);
  // A tensor whose every byte is zero (numeric 0, false, empty strings).
  static Tensor Zeros(DType dtype, const TensorShape& shape,
                      Allocator* allocator = HostAllocator());

  // A numeric tensor over `bytes` of an existing buffer starting at
  // `offset` (pooled pinned or device memory). Requires a fully defined
  // shape whose bytes fit: offset + num_elements * DTypeSize <= size.
  // Returns an uninitialised tensor otherwise, and for kString.
  static Tensor FromBuffer(DType dtype, const TensorShape& shape, RefPtr buffer,
                           size_t offset = 0);

  bool IsInitialized() const { return static_cast<bool>(buffer_); }
  DType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int64_t NumElements() const { return num_elements_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_.dim(i); }
  // Bytes of element storage (NumElements() * DTypeSize(dtype())).
  size_t ByteSize() const { return num_elements_ * DTypeSize(dtype_); }
  // Bytes of payload: ByteSize() for numeric tensors, the total string
  // length for string tensors.
  size_t PayloadBytes() const;

  const RefPtr& buffer() const { return buffer_; }
  bool SharesBufferWith(const Tensor& o) const { return buffer_ == o.buffer_; }

  void* raw_data() const {
    return static_cast<char*>(buffer_->data()) + offset_;
  }
  template <typename T>
  T* data() const {
    return reinterpret_cast<T*>(raw_data());
  }
  template <typename T>
  absl::Span<T> flat() const {
    return absl::Span<T>(data<T>(), num_elements_);
  }
  template <typename T>
  T& scalar() const {
    return *data<T>();
  }

  // String elements. i indexes the flattened tensor.
  std::string_view string(int64_t i) const { return data<std::string_view>()[i]; }
  // Copies `value` into this tensor's buffer.
  void SetString(int64_t i, std::string_view value);
  // Stores a view of bytes kept alive by `owner` (no copy).
  void SetStringView(int64_t i, std::string_view value, const RefPtr& owner);

  // Rows [begin, end) of dimension 0, sharing this tensor's buffer.
  Tensor Slice(int64_t begin, int64_t end) const;
  // Row i of dimension 0, with that dimension removed, sharing the buffer.
  Tensor Row(int64_t i) const;
  // The same elements with another shape of the same element count.
  Tensor Reshaped(const TensorShape& shape) const;
  // A tensor with fresh storage and the same contents. Strings are copied
  // into the new buffer's arena (so it keeps nothing else alive).
  Tensor DeepCopy(Allocator* allocator = HostAllocator()) const;

  // Copies `n` rows (dimension 0) of `src` starting at `src_row` into
  // `dst` starting at `dst_row`. Row shapes must have the same element
  // count and dtypes must agree. Strings are copied as views; `dst` keeps
  // `src`'s buffer alive.
  static void CopyRows(const Tensor& src, int64_t src_row, Tensor* dst,
                       int64_t dst_row, int64_t n);
  // Copies all of `element` (one row's worth) into row `dst_row` of `dst`.
  static void CopyElementToRow(const Tensor& element, Tensor* dst, int64_t dst_row);

  // Element-wise equality of dtype, shape and contents.
  bool ContentEquals(const Tensor& o) const;

  // "int64 [2,3] {1, 2, 3, ...}" with at most `max_entries` values.
  std::string DebugString(int max_entries = 8) const;

 private:
  Tensor(DType dtype, TensorShape shape, RefPtr buffer, size_t offset);
  void CopyRawRows(const Tensor& src, int64_t src_elem, int64_t dst_elem, int64_t count);

  DType dtype_ = DType::kFloat32;
  TensorShape shape_;
  int64_t num_elements_ = 0;
  RefPtr buffer_;
  size_t offset_ = 0;  // bytes from buffer_->data()
};

// A queue element: one tensor per component.
using TensorTuple = absl::InlinedVector<Tensor, 4>;

// Sum of ByteSize() (numeric) or string payload over the tuple's tensors.
size_t TuplePayloadBytes(const TensorTuple& t);

template <typename T>
Tensor Tensor::Scalar(T value) {
  Tensor t(DTypeOf<T>::value, TensorShape{});
  *t.data<T>() = value;
  return t;
}

template <typename T>
Tensor Tensor::FromVector(absl::Span<const T> values, const TensorShape& shape) {
  Tensor t(DTypeOf<T>::value, shape);
  if constexpr (std::is_same_v<T, bool>) {
    for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  } else {
    std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  }
  return t;
}

}  // namespace sluice
