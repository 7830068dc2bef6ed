#pragma once
// Internal to the graph area (includes generated protobuf code): sluice's
// dtypes, shapes and tensors <-> TensorFlow's DataType, TensorShapeProto and
// TensorProto, shared by the checkpoint index and GraphDef code.

#include <string_view>

#include "absl/status/statusor.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"
#include "graph/tf_format/proto/tensor.pb.h"
#include "graph/tf_format/proto/tensor_shape.pb.h"
#include "graph/tf_format/proto/types.pb.h"

namespace sluice::internal {

// DT_FLOAT .. DT_STRING for the dtypes sluice has.
tensorflow::DataType ToTfDataType(DType dtype);
// A _REF type maps as its base type. InvalidArgument naming `what` (the
// tensor, node or attribute) for a type sluice lacks.
absl::StatusOr<DType> FromTfDataType(int dtype, std::string_view what);

// -1 dims are written as unknown (-1), as TensorFlow does.
void ToTfShape(const TensorShape& shape, tensorflow::TensorShapeProto* out);
// unknown_rank=true gives `*rank_known` false (and an empty shape).
// InvalidArgument for a dimension below -1.
absl::StatusOr<TensorShape> FromTfShape(const tensorflow::TensorShapeProto& shape, std::string_view what,
                                        bool* rank_known = nullptr);

// Numbers go into tensor_content (little-endian), strings into string_val.
void ToTensorProto(const Tensor& t, tensorflow::TensorProto* out);
// Accepts tensor_content and the typed *_val fields (a shorter *_val is
// padded with its last value, TensorFlow's rule for constants).
absl::StatusOr<Tensor> FromTensorProto(const tensorflow::TensorProto& proto, std::string_view what);

}  // namespace sluice::internal
