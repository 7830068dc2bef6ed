#include "py_map_fn.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::python {
namespace {

bool Finalizing() { return _Py_IsFinalizing() != 0; }

// The Status for the Python exception in `e` (consumed). Needs the GIL.
absl::Status StatusFromPython(py::error_already_set& e) {
  const std::string what = e.what();
  auto code = absl::StatusCode::kUnknown;
  if (e.matches(PyExc_KeyboardInterrupt)) {
    PyErr_SetInterrupt();  // raised again when the main thread checks signals
    return absl::CancelledError(
        "interrupted (KeyboardInterrupt in a map function)");
  }
  py::object op_error = py::module_::import("sluice.errors").attr("OpError");
  if (e.matches(op_error)) {
    const int c = e.value().attr("error_code").cast<int>();
    code = static_cast<absl::StatusCode>(c);
    return absl::Status(code, e.value().attr("message").cast<std::string>());
  }
  if (e.matches(PyExc_ValueError) || e.matches(PyExc_TypeError)) {
    code = absl::StatusCode::kInvalidArgument;
  } else if (e.matches(PyExc_StopIteration)) {
    code = absl::StatusCode::kOutOfRange;
  } else if (e.matches(PyExc_NotImplementedError)) {
    code = absl::StatusCode::kUnimplemented;
  }
  return absl::Status(code, absl::StrCat("a map function raised ", what));
}

}  // namespace

PyMapFn::PyMapFn(py::object fn, std::shared_ptr<StructureCell> input)
    : fn_(std::move(fn)),
      input_(std::move(input)),
      output_(std::make_shared<StructureCell>()) {}

PyMapFn::~PyMapFn() {
  if (Finalizing() || !Py_IsInitialized()) {
    fn_.release();  // the interpreter is going: leak one reference
    return;
  }
  py::gil_scoped_acquire gil;
  fn_ = py::object();
}

absl::StatusOr<TensorTuple> PyMapFn::operator()(const TensorTuple& in) const {
  if (Finalizing())
    return absl::CancelledError("the interpreter is shutting down");
  py::gil_scoped_acquire gil;
  try {
    if (!input_->known) {
      return absl::InternalError("a map function's input structure is unknown");
    }
    py::object result = fn_(ElementToPython(in, input_->s));
    return ElementFromPython(result, &output_->s, &output_->known);
  } catch (py::error_already_set& e) {
    return StatusFromPython(e);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("a map function: ", e.what()));
  }
}

}  // namespace sluice::python
