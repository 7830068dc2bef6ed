#pragma once
// PyMapFn: a Python callable applied by a Dataset Map stage (sluice.data's
// `Dataset.map(lambda element: ...)`), on whichever pipeline thread runs the
// map: the parallel map's workers, the prefetch thread or the consumer.
//
// Each call takes the GIL only around Python: converting the input tensors
// to the element Python sees (numpy views, no copy), running the callable,
// and converting its result back (a whole view of a sluice tensor crosses
// back without a copy; other values are copied). C++ kernels the callable
// calls (sluice.image, sluice.io) release the GIL while they compute, so
// several map workers decode at once while one runs Python.
//
// Structures: the input element's structure is the stage before's
// (`input`), the output's is learned from the callable's first result and
// every later result must match it (InvalidArgument otherwise). Both cells
// are read and written only with the GIL held.
//
// Errors from the callable become a Status as TensorFlow's py_func maps
// them: a sluice.errors.OpError keeps its code; ValueError and TypeError
// are InvalidArgument, StopIteration OutOfRange, NotImplementedError
// Unimplemented, anything else Unknown; the message is the exception's
// type, text and traceback. KeyboardInterrupt is Cancelled and the
// interrupt is raised again on the main thread (the iterator then raises
// it). During interpreter shutdown every call is Cancelled.
//
// Thread-safe (the GIL serializes the Python parts). The destructor takes
// the GIL to drop the callable, so a PyMapFn may be destroyed on any
// thread.

#include <memory>

#include "absl/status/statusor.h"

#include "bindings.h"
#include "element.h"

namespace sluice::python {

// A structure that may be learned later (at a Python map's first call).
// Guarded by the GIL.
struct StructureCell {
  ElementStructure s;
  bool known = false;
};

class PyMapFn {
 public:
  // Needs the GIL.
  PyMapFn(py::object fn, std::shared_ptr<StructureCell> input);
  ~PyMapFn();
  PyMapFn(const PyMapFn&) = delete;
  PyMapFn& operator=(const PyMapFn&) = delete;

  absl::StatusOr<TensorTuple> operator()(const TensorTuple& in) const;

  const std::shared_ptr<StructureCell>& output() const { return output_; }

 private:
  py::object fn_;
  std::shared_ptr<StructureCell> input_;
  std::shared_ptr<StructureCell> output_;
};

}  // namespace sluice::python
