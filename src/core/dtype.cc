#include "core/dtype.h"

namespace sluice {

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "float";
    case DType::kFloat64: return "double";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
    case DType::kInt8: return "int8";
    case DType::kUInt16: return "uint16";
    case DType::kFloat16: return "half";
  }
  return "unknown";
}

}  // namespace sluice
