#pragma once
// The seam between sluice's C++ values and Python objects, used by every
// binding file of the native module sluice._sluice.
//
//  * Errors: a non-OK absl::Status becomes the sluice.errors exception of
//    the same TensorFlow name (DataLossError, OutOfRangeError, ...), its
//    message carrying the file and offset the C++ message names.
//  * Tensors to numpy: numeric tensors become arrays over the tensor's own
//    buffer (no copy); the array's base is a capsule holding a Tensor
//    handle, so the buffer lives as long as the array (or any view of it,
//    or a DLPack consumer such as torch.from_dlpack). String tensors become
//    object arrays of bytes (a copy: Python bytes own their memory).
//  * Python values to tensors: copies (numpy arrays of a numeric dtype,
//    bytes / str and sequences of them).
//
// Every function here needs the GIL.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "core/absl_compat.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace sluice::python {

namespace py = pybind11;

// Raises the sluice.errors exception for `s` (which must not be OK).
[[noreturn]] void ThrowStatus(const absl::Status& s);
inline void ThrowIfError(const absl::Status& s) {
  if (!s.ok()) ThrowStatus(s);
}
template <typename T>
T ValueOrThrow(absl::StatusOr<T> v) {
  if (!v.ok()) ThrowStatus(v.status());
  return *std::move(v);
}

// The sluice.errors class name for a code ("DataLossError", ...).
const char* ErrorClassName(absl::StatusCode code);

// A dtype argument: a sluice.DType, a numpy dtype (or anything np.dtype
// accepts), or the names "string"/"bytes". InvalidArgumentError otherwise.
DType ToDType(const py::handle& obj);
// The numpy dtype of a numeric DType (object for kString).
py::dtype NumpyDType(DType dtype);

// The name of the capsule that is the base of every array TensorToNumpy
// makes; it holds a Tensor* (so such an array can cross back without a
// copy: element.h).
inline constexpr const char* kTensorCapsuleName = "sluice.Tensor";

// Zero-copy numpy view of a numeric tensor; an object array of bytes for a
// string tensor (copied).
py::object TensorToNumpy(const Tensor& t);
// A tensor holding a copy of `obj` as `dtype` (numeric: anything
// np.asarray takes; kString: bytes, str, or a (nested) sequence or numpy
// array of them). InvalidArgumentError when it does not convert.
Tensor TensorFromPython(const py::handle& obj, DType dtype);

// The first 64 bytes of `path` (fewer for a short file; "" when it cannot
// be read: opening it again then reports the error), for compression
// detection.
std::string FileHead(const std::string& path);

}  // namespace sluice::python
