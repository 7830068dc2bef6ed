#pragma once
// Element types of tensors. Strings are stored as std::string_view entries
// whose bytes are kept alive by the owning Buffer (see tensor.h).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/half.h"

namespace sluice {

enum class DType : uint8_t {
  kFloat32,
  kFloat64,
  kInt32,
  kInt64,
  kUInt8,
  kBool,
  kString,
  // Appended (values above are stable: checkpoints store them).
  kInt8,
  kUInt16,
  kFloat16,  // IEEE binary16 (core/half.h); kernels compute in float
};

// Bytes one element occupies in a tensor buffer (a string element is one
// std::string_view).
constexpr size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUInt8: return 1;
    case DType::kBool: return 1;
    case DType::kString: return sizeof(std::string_view);
    case DType::kInt8: return 1;
    case DType::kUInt16: return 2;
    case DType::kFloat16: return 2;
  }
  return 0;
}

// TensorFlow's spelling: "float", "double", "int32", "int64", "uint8",
// "bool", "string", "int8", "uint16", "half".
std::string_view DTypeName(DType t);

// The C++ type stored for each dtype.
template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kInt8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::kUInt16; };
template <> struct DTypeOf<Half> { static constexpr DType value = DType::kFloat16; };
template <> struct DTypeOf<std::string_view> { static constexpr DType value = DType::kString; };

}  // namespace sluice
