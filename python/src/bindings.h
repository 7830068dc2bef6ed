#pragma once
// The parts of the native module sluice._sluice, one Register function per
// binding file (module.cc calls them in order).

#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace sluice::python {

namespace py = pybind11;

void RegisterIo(py::module_& m);      // io_bindings.cc
void RegisterData(py::module_& m);    // data_bindings.cc
void RegisterQueues(py::module_& m);  // queue_bindings.cc
void RegisterImage(py::module_& m);   // image_bindings.cc (sluice.image)

// The tensors of a tuple as numpy arrays (see convert.h). Needs the GIL.
py::list TupleToNumpy(const TensorTuple& t);

}  // namespace sluice::python
