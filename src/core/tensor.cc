#include "core/tensor.h"

#include <cassert>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

Tensor::Tensor(DType dtype, const TensorShape& shape, Allocator* allocator)
    : dtype_(dtype), shape_(shape) {
  assert(shape.IsFullyDefined());
  num_elements_ = shape.num_elements();
  buffer_ = Buffer::Create(allocator, num_elements_ * DTypeSize(dtype));
  if (buffer_ && dtype == DType::kString) {
    auto* p = static_cast<std::string_view*>(buffer_->data());
    for (int64_t i = 0; i < num_elements_; ++i) new (p + i) std::string_view();
  }
}

Tensor::Tensor(DType dtype, TensorShape shape, RefPtr buffer, size_t offset)
    : dtype_(dtype),
      shape_(std::move(shape)),
      num_elements_(shape_.num_elements()),
      buffer_(std::move(buffer)),
      offset_(offset) {}

Tensor Tensor::FromBuffer(DType dtype, const TensorShape& shape, RefPtr buffer,
                          size_t offset) {
  if (!buffer || dtype == DType::kString || !shape.IsFullyDefined()) return Tensor();
  const size_t bytes = static_cast<size_t>(shape.num_elements()) * DTypeSize(dtype);
  if (offset > buffer->size() || bytes > buffer->size() - offset) return Tensor();
  return Tensor(dtype, shape, std::move(buffer), offset);
}

Tensor Tensor::StringScalar(std::string_view value) {
  Tensor t(DType::kString, TensorShape{});
  t.SetString(0, value);
  return t;
}

Tensor Tensor::FromStrings(const std::vector<std::string>& values,
                           const TensorShape& shape) {
  Tensor t(DType::kString, shape);
  for (size_t i = 0; i < values.size(); ++i) t.SetString(i, values[i]);
  return t;
}

Tensor Tensor::Zeros(DType dtype, const TensorShape& shape, Allocator* allocator) {
  Tensor t(dtype, shape, allocator);
  if (t.IsInitialized() && dtype != DType::kString) {
    std::memset(t.raw_data(), 0, t.ByteSize());
  }
  return t;
}

size_t Tensor::PayloadBytes() const {
  if (!IsInitialized()) return 0;
  if (dtype_ != DType::kString) return ByteSize();
  size_t total = 0;
  const std::string_view* p = data<std::string_view>();
  for (int64_t i = 0; i < num_elements_; ++i) total += p[i].size();
  return total;
}

void Tensor::SetString(int64_t i, std::string_view value) {
  data<std::string_view>()[i] = buffer_->CopyIntoArena(value);
}

void Tensor::SetStringView(int64_t i, std::string_view value, const RefPtr& owner) {
  buffer_->AddOwner(owner);
  data<std::string_view>()[i] = value;
}

Tensor Tensor::Slice(int64_t begin, int64_t end) const {
  assert(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0));
  TensorShape s = shape_;
  s.set_dim(0, end - begin);
  int64_t row_elems = dim(0) == 0 ? 0 : num_elements_ / dim(0);
  return Tensor(dtype_, std::move(s), buffer_,
                offset_ + begin * row_elems * DTypeSize(dtype_));
}

Tensor Tensor::Row(int64_t i) const {
  assert(rank() >= 1 && 0 <= i && i < dim(0));
  int64_t row_elems = num_elements_ / dim(0);
  return Tensor(dtype_, shape_.DroppedFirst(), buffer_,
                offset_ + i * row_elems * DTypeSize(dtype_));
}

Tensor Tensor::Reshaped(const TensorShape& shape) const {
  assert(shape.num_elements() == num_elements_);
  return Tensor(dtype_, shape, buffer_, offset_);
}

Tensor Tensor::DeepCopy(Allocator* allocator) const {
  Tensor t(dtype_, shape_, allocator);
  if (!t.IsInitialized()) return t;
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < num_elements_; ++i) t.SetString(i, string(i));
  } else {
    std::memcpy(t.raw_data(), raw_data(), ByteSize());
  }
  return t;
}

void Tensor::CopyRawRows(const Tensor& src, int64_t src_elem, int64_t dst_elem,
                         int64_t count) {
  if (count == 0) return;
  if (dtype_ == DType::kString) {
    buffer_->AddOwner(src.buffer_);
    std::memcpy(static_cast<void*>(data<std::string_view>() + dst_elem),
                src.data<std::string_view>() + src_elem,
                count * sizeof(std::string_view));
  } else {
    size_t es = DTypeSize(dtype_);
    std::memcpy(static_cast<char*>(raw_data()) + dst_elem * es,
                static_cast<const char*>(src.raw_data()) + src_elem * es, count * es);
  }
}

void Tensor::CopyRows(const Tensor& src, int64_t src_row, Tensor* dst,
                      int64_t dst_row, int64_t n) {
  assert(src.dtype_ == dst->dtype_);
  int64_t row_elems = src.dim(0) == 0 ? 0 : src.num_elements_ / src.dim(0);
  dst->CopyRawRows(src, src_row * row_elems, dst_row * row_elems, n * row_elems);
}

void Tensor::CopyElementToRow(const Tensor& element, Tensor* dst, int64_t dst_row) {
  assert(element.dtype_ == dst->dtype_);
  int64_t n = element.num_elements_;
  dst->CopyRawRows(element, 0, dst_row * n, n);
}

bool Tensor::ContentEquals(const Tensor& o) const {
  if (dtype_ != o.dtype_ || shape_ != o.shape_) return false;
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < num_elements_; ++i) {
      if (string(i) != o.string(i)) return false;
    }
    return true;
  }
  return std::memcmp(raw_data(), o.raw_data(), ByteSize()) == 0;
}

namespace {
template <typename T>
void AppendValues(const Tensor& t, int n, std::string* out) {
  for (int i = 0; i < n; ++i) {
    if (i > 0) absl::StrAppend(out, ", ");
    if constexpr (std::is_same_v<T, std::string_view>) {
      absl::StrAppend(out, "\"", Sv(t.string(i)), "\"");
    } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> ||
                         std::is_same_v<T, bool>) {
      absl::StrAppend(out, static_cast<int>(t.data<T>()[i]));
    } else if constexpr (std::is_same_v<T, Half>) {
      absl::StrAppend(out, HalfToFloat(t.data<T>()[i]));
    } else {
      absl::StrAppend(out, t.data<T>()[i]);
    }
  }
}
}  // namespace

std::string Tensor::DebugString(int max_entries) const {
  if (!IsInitialized()) return "<uninitialized tensor>";
  std::string out = absl::StrCat(Sv(DTypeName(dtype_)), " ", shape_.DebugString(), " {");
  int n = static_cast<int>(std::min<int64_t>(num_elements_, max_entries));
  switch (dtype_) {
    case DType::kFloat32: AppendValues<float>(*this, n, &out); break;
    case DType::kFloat64: AppendValues<double>(*this, n, &out); break;
    case DType::kInt32: AppendValues<int32_t>(*this, n, &out); break;
    case DType::kInt64: AppendValues<int64_t>(*this, n, &out); break;
    case DType::kUInt8: AppendValues<uint8_t>(*this, n, &out); break;
    case DType::kBool: AppendValues<bool>(*this, n, &out); break;
    case DType::kString: AppendValues<std::string_view>(*this, n, &out); break;
    case DType::kInt8: AppendValues<int8_t>(*this, n, &out); break;
    case DType::kUInt16: AppendValues<uint16_t>(*this, n, &out); break;
    case DType::kFloat16: AppendValues<Half>(*this, n, &out); break;
  }
  if (num_elements_ > n) absl::StrAppend(&out, ", ...");
  absl::StrAppend(&out, "}");
  return out;
}

size_t TuplePayloadBytes(const TensorTuple& t) {
  size_t total = 0;
  for (const Tensor& x : t) total += x.PayloadBytes();
  return total;
}

}  // namespace sluice
