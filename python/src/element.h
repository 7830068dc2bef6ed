#pragma once
// How a dataset element (a flat TensorTuple in C++) looks in Python, and
// the conversions both ways, for sluice.data's iterator and for Python
// functions inside Dataset.map.
//
// An ElementStructure is one of
//   kSingle  one value: an array (a rank-0 string tensor is `bytes`, as a
//            record is) or, when `sparse[0]`, a SparseTensorValue of three
//            components (indices, values, dense_shape);
//   kTuple   a tuple of entries;
//   kDict    a dict of entries keyed by `keys` (str), in that order.
// Entries are dense (one component) or sparse (three).
//
// Python -> C++ (ElementFromPython) learns the structure of a Python map
// function's first result and checks every later result against it. A
// numpy array that is a whole view of a sluice tensor (one this module
// made, e.g. an input array returned unchanged) crosses back without a
// copy; any other value is copied.
//
// Every function here needs the GIL; an ElementStructure holds no Python
// object, so it may be copied and destroyed without it.

#include <string>
#include <vector>

#include "bindings.h"
#include "convert.h"
#include "core/tensor.h"

namespace sluice::python {

struct ElementStructure {
  enum class Kind { kSingle, kTuple, kDict };
  Kind kind = Kind::kSingle;
  std::vector<std::string> keys;  // kDict
  std::vector<bool> sparse;       // per entry
  size_t entries() const { return sparse.size(); }
  // Flat components: 1 per dense entry, 3 per sparse one.
  size_t components() const;
  bool operator==(const ElementStructure& o) const {
    return kind == o.kind && keys == o.keys && sparse == o.sparse;
  }
  // "dict(image, label)", "tuple of 2", "one array": for error messages.
  std::string DebugString() const;
};

// The Python value of `t` (components() tensors) under `s`.
// InvalidArgument (as a Python exception) when the counts disagree.
py::object ElementToPython(const TensorTuple& t, const ElementStructure& s);

// The tensors of `value` (a dict, tuple / list, SparseTensorValue or one
// array-like). With `learn` unset (`*learned` false) the structure is
// recorded in *s; else `value` must have structure *s. InvalidArgument
// (as an absl::Status) naming the entry that does not convert or match.
absl::StatusOr<TensorTuple> ElementFromPython(const py::handle& value,
                                              ElementStructure* s,
                                              bool* learned);

}  // namespace sluice::python
