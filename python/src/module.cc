// sluice._sluice: the native half of the sluice Python package. The
// public API is the pure-Python package around it (python/sluice/), which
// documents every name; this module is an implementation detail.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "core/dtype.h"

namespace py = pybind11;

PYBIND11_MODULE(_sluice, m) {
  m.doc() =
      "Native core of the sluice package (use the `sluice` package, not this "
      "module).";
  py::enum_<sluice::DType>(m, "DType",
                           "Element type of a tensor (TensorFlow's names).")
      .value("float32", sluice::DType::kFloat32)
      .value("float64", sluice::DType::kFloat64)
      .value("int32", sluice::DType::kInt32)
      .value("int64", sluice::DType::kInt64)
      .value("uint8", sluice::DType::kUInt8)
      .value("bool", sluice::DType::kBool)
      .value("string", sluice::DType::kString)
      .value("int8", sluice::DType::kInt8)
      .value("uint16", sluice::DType::kUInt16)
      .value("float16", sluice::DType::kFloat16);
  sluice::python::RegisterIo(m);
  sluice::python::RegisterData(m);
  sluice::python::RegisterQueues(m);
  sluice::python::RegisterImage(m);
}
