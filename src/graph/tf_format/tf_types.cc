#include "graph/internal/tf_types.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"

namespace sluice::internal {
namespace {

struct DTypePair {
  DType dtype;
  tensorflow::DataType tf;
};
// One row per sluice dtype: the only place the two enumerations meet.
constexpr DTypePair kDTypes[] = {
    {DType::kFloat32, tensorflow::DT_FLOAT}, {DType::kFloat64, tensorflow::DT_DOUBLE},
    {DType::kInt32, tensorflow::DT_INT32},   {DType::kInt64, tensorflow::DT_INT64},
    {DType::kUInt8, tensorflow::DT_UINT8},   {DType::kBool, tensorflow::DT_BOOL},
    {DType::kString, tensorflow::DT_STRING},
    {DType::kInt8, tensorflow::DT_INT8},     {DType::kUInt16, tensorflow::DT_UINT16},
    {DType::kFloat16, tensorflow::DT_HALF},
};

// Fills t from a typed repeated field; a shorter field repeats its last
// value (an empty one leaves zeros).
template <typename T, typename Field>
absl::Status FillFrom(const Field& values, Tensor* t, std::string_view what) {
  const int64_t n = t->NumElements();
  if (values.size() > n) {
    return absl::InvalidArgumentError(absl::StrCat("TensorProto for ", Sv(what), " has ", values.size(),
                                                   " values but its shape holds ", n));
  }
  T* out = t->data<T>();
  for (int64_t i = 0; i < n; ++i) {
    if (values.empty()) {
      out[i] = T{};
    } else {
      out[i] = static_cast<T>(values[static_cast<int>(std::min<int64_t>(i, values.size() - 1))]);
    }
  }
  return absl::OkStatus();
}

}  // namespace

tensorflow::DataType ToTfDataType(DType dtype) {
  for (const DTypePair& p : kDTypes) {
    if (p.dtype == dtype) return p.tf;
  }
  return tensorflow::DT_INVALID;
}

absl::StatusOr<DType> FromTfDataType(int dtype, std::string_view what) {
  const int base = dtype > 100 ? dtype - 100 : dtype;
  for (const DTypePair& p : kDTypes) {
    if (p.tf == base) return p.dtype;
  }
  std::string name = tensorflow::DataType_IsValid(dtype) ? tensorflow::DataType_Name(
                                                               static_cast<tensorflow::DataType>(dtype))
                                                         : absl::StrCat("DataType ", dtype);
  return absl::InvalidArgumentError(absl::StrCat(Sv(what), ": sluice has no dtype for TensorFlow's ", name));
}

void ToTfShape(const TensorShape& shape, tensorflow::TensorShapeProto* out) {
  out->Clear();
  for (int64_t d : shape.dims()) out->add_dim()->set_size(d);
}

absl::StatusOr<TensorShape> FromTfShape(const tensorflow::TensorShapeProto& shape, std::string_view what,
                                        bool* rank_known) {
  if (rank_known != nullptr) *rank_known = !shape.unknown_rank();
  TensorShape out;
  if (shape.unknown_rank()) return out;
  for (const auto& d : shape.dim()) {
    if (d.size() < -1) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(what), ": shape has dimension ", d.size()));
    }
    out.AddDim(d.size());
  }
  return out;
}

void ToTensorProto(const Tensor& t, tensorflow::TensorProto* out) {
  out->Clear();
  out->set_dtype(ToTfDataType(t.dtype()));
  ToTfShape(t.shape(), out->mutable_tensor_shape());
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.NumElements(); ++i) out->add_string_val(std::string(t.string(i)));
  } else {
    out->set_tensor_content(std::string(static_cast<const char*>(t.raw_data()), t.ByteSize()));
  }
}

absl::StatusOr<Tensor> FromTensorProto(const tensorflow::TensorProto& proto, std::string_view what) {
  SLUICE_ASSIGN_OR_RETURN(DType dtype, FromTfDataType(proto.dtype(), what));
  bool rank_known = true;
  SLUICE_ASSIGN_OR_RETURN(TensorShape shape, FromTfShape(proto.tensor_shape(), what, &rank_known));
  if (!rank_known || !shape.IsFullyDefined()) {
    return absl::InvalidArgumentError(absl::StrCat("TensorProto for ", Sv(what), " has a partial shape"));
  }
  Tensor t(dtype, shape);
  if (!t.IsInitialized() && t.NumElements() > 0) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate the tensor of ", Sv(what)));
  }
  if (dtype == DType::kString) {
    const auto& v = proto.string_val();
    if (v.size() > t.NumElements()) {
      return absl::InvalidArgumentError(absl::StrCat("TensorProto for ", Sv(what), " has too many strings"));
    }
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      t.SetString(i, v.empty() ? std::string_view() : std::string_view(v[static_cast<int>(std::min<int64_t>(i, v.size() - 1))]));
    }
    return t;
  }
  if (!proto.tensor_content().empty()) {
    if (proto.tensor_content().size() != t.ByteSize()) {
      return absl::InvalidArgumentError(absl::StrCat("TensorProto for ", Sv(what), " has ",
                                                     proto.tensor_content().size(), " content bytes, its shape ",
                                                     shape.DebugString(), " needs ", t.ByteSize()));
    }
    std::memcpy(t.raw_data(), proto.tensor_content().data(), t.ByteSize());
    return t;
  }
  absl::Status s;
  switch (dtype) {
    case DType::kFloat32: s = FillFrom<float>(proto.float_val(), &t, what); break;
    case DType::kFloat64: s = FillFrom<double>(proto.double_val(), &t, what); break;
    case DType::kInt32: s = FillFrom<int32_t>(proto.int_val(), &t, what); break;
    case DType::kUInt8: s = FillFrom<uint8_t>(proto.int_val(), &t, what); break;
    case DType::kInt64: s = FillFrom<int64_t>(proto.int64_val(), &t, what); break;
    case DType::kBool: s = FillFrom<bool>(proto.bool_val(), &t, what); break;
    default:
      s = absl::InvalidArgumentError(absl::StrCat("TensorProto for ", Sv(what), ": unsupported dtype"));
  }
  SLUICE_RETURN_IF_ERROR(s);
  return t;
}

}  // namespace sluice::internal
