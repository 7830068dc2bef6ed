#pragma once
// DecodeRaw: reinterprets the bytes of string elements as numbers, as
// TensorFlow's tf.io.decode_raw does. Every element of the input must have
// the same length, a multiple of the output element size; the result has the
// input's shape plus one dimension of length / element size.
// little_endian = false reads big-endian values (bytes are swapped on this
// little-endian host). kBool output maps each byte to (byte != 0).
//
// Errors: InvalidArgument for a string or unsupported output dtype, a
// length that is not a multiple of the element size, or elements of
// different lengths (the message names the element index).
//
// Thread-safety: pure functions.

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace sluice {

absl::StatusOr<Tensor> DecodeRaw(const Tensor& bytes, DType out_type, bool little_endian = true);

// One element straight into caller memory: writes bytes.size() /
// DTypeSize(out_type) values to `out` (which must have room).
absl::Status DecodeRawInto(std::string_view bytes, DType out_type, bool little_endian, void* out);

}  // namespace sluice
