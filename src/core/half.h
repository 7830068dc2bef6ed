#pragma once
// Half: IEEE 754 binary16 storage for DType::kFloat16 (TensorFlow's
// DT_HALF). Only storage and conversion: kernels compute in float and
// round back (FloatToHalf rounds to nearest, ties to even; overflow gives
// infinity; NaN stays NaN). Bit layout as in memory on a little-endian host.

#include <cstdint>

namespace sluice {

struct Half {
  uint16_t bits = 0;
  friend bool operator==(Half a, Half b) { return a.bits == b.bits; }
};

float HalfToFloat(Half h);
Half FloatToHalf(float f);

}  // namespace sluice
