#include "element.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice::python {
namespace {

py::object SparseTensorValueType() {
  return py::module_::import("sluice.io").attr("SparseTensorValue");
}

py::object ComponentToPython(const Tensor& t, bool single) {
  if (single && t.dtype() == DType::kString && t.rank() == 0) {
    const std::string_view v = t.string(0);
    return py::bytes(v.data(), v.size());
  }
  return TensorToNumpy(t);
}

// A whole, C-ordered numpy view of a tensor this module handed out: that
// tensor (sharing its buffer). Unset for anything else.
std::optional<Tensor> SluiceTensorOf(const py::array& a) {
  const py::object base_obj = a.base();
  PyObject* base = base_obj.ptr();
  if (base == nullptr || !PyCapsule_IsValid(base, kTensorCapsuleName))
    return std::nullopt;
  const auto* t = static_cast<const Tensor*>(
      PyCapsule_GetPointer(base, kTensorCapsuleName));
  if (t == nullptr || !t->IsInitialized() || t->dtype() == DType::kString ||
      a.data() != t->raw_data() || a.ndim() != t->rank() ||
      !(a.flags() & py::array::c_style)) {
    return std::nullopt;
  }
  for (int i = 0; i < t->rank(); ++i)
    if (a.shape(i) != t->dim(i)) return std::nullopt;
  if (ToDType(a.dtype()) != t->dtype()) return std::nullopt;
  return *t;
}

// One dense value as a tensor (throws py::error_already_set on failure).
Tensor ComponentFromPython(const py::handle& v) {
  if (py::isinstance<py::bytes>(v) || py::isinstance<py::str>(v))
    return TensorFromPython(v, DType::kString);
  py::array a =
      py::isinstance<py::array>(v)
          ? py::reinterpret_borrow<py::array>(v)
          : py::array(py::module_::import("numpy").attr("asarray")(v));
  if (std::optional<Tensor> t = SluiceTensorOf(a)) return *std::move(t);
  return TensorFromPython(a, ToDType(a.dtype()));
}

std::string ExplainPythonError(py::error_already_set& e) {
  std::string what = e.what();
  e.restore();
  PyErr_Clear();
  return what;
}

}  // namespace

size_t ElementStructure::components() const {
  size_t n = 0;
  for (bool s : sparse) n += s ? 3 : 1;
  return n;
}

std::string ElementStructure::DebugString() const {
  switch (kind) {
    case Kind::kSingle:
      return sparse.empty() || !sparse[0] ? "one array"
                                          : "one SparseTensorValue";
    case Kind::kTuple:
      return absl::StrCat("a tuple of ", sparse.size());
    case Kind::kDict:
      return absl::StrCat("dict(", absl::StrJoin(keys, ", "), ")");
  }
  return "?";
}

py::object ElementToPython(const TensorTuple& t, const ElementStructure& s) {
  if (t.size() != s.components()) {
    ThrowStatus(absl::InvalidArgumentError(absl::StrCat(
        "element of ", t.size(), " tensors does not match its structure, ",
        s.DebugString())));
  }
  const bool single = s.kind == ElementStructure::Kind::kSingle;
  size_t k = 0;
  auto entry = [&](bool sparse) -> py::object {
    if (!sparse) return ComponentToPython(t[k++], single);
    py::object v = SparseTensorValueType()(
        TensorToNumpy(t[k]), TensorToNumpy(t[k + 1]), TensorToNumpy(t[k + 2]));
    k += 3;
    return v;
  };
  switch (s.kind) {
    case ElementStructure::Kind::kSingle:
      return entry(!s.sparse.empty() && s.sparse[0]);
    case ElementStructure::Kind::kTuple: {
      py::tuple out(s.entries());
      for (size_t i = 0; i < s.entries(); ++i) out[i] = entry(s.sparse[i]);
      return out;
    }
    case ElementStructure::Kind::kDict: {
      py::dict out;
      for (size_t i = 0; i < s.entries(); ++i)
        out[py::str(s.keys[i])] = entry(s.sparse[i]);
      return out;
    }
  }
  return py::none();
}

absl::StatusOr<TensorTuple> ElementFromPython(const py::handle& value,
                                              ElementStructure* s,
                                              bool* learned) {
  ElementStructure got;
  std::vector<py::object> entries;
  const py::object sparse_type = SparseTensorValueType();
  auto is_sparse = [&](const py::handle& v) {
    return py::isinstance(v, sparse_type);
  };
  if (py::isinstance<py::dict>(value)) {
    got.kind = ElementStructure::Kind::kDict;
    for (auto [k, v] : py::reinterpret_borrow<py::dict>(value)) {
      if (!py::isinstance<py::str>(k)) {
        return absl::InvalidArgumentError(
            absl::StrCat("a map function's dict keys must be str, got ",
                         std::string(py::str(py::repr(k)))));
      }
      got.keys.push_back(k.cast<std::string>());
      entries.push_back(py::reinterpret_borrow<py::object>(v));
    }
  } else if ((py::isinstance<py::tuple>(value) && !is_sparse(value)) ||
             py::isinstance<py::list>(value)) {
    got.kind = ElementStructure::Kind::kTuple;
    for (const py::handle& v : value)
      entries.push_back(py::reinterpret_borrow<py::object>(v));
  } else {
    entries.push_back(py::reinterpret_borrow<py::object>(value));
  }
  for (const py::object& e : entries) got.sparse.push_back(is_sparse(e));
  if (*learned && !(got == *s)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a map function returned ", got.DebugString(), " after returning ",
        s->DebugString(), " (every element must have the same structure)"));
  }
  TensorTuple out;
  out.reserve(got.components());
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where = got.kind == ElementStructure::Kind::kDict
                                  ? absl::StrCat("entry '", got.keys[i], "'")
                                  : absl::StrCat("entry ", i);
    try {
      if (!got.sparse[i]) {
        out.push_back(ComponentFromPython(entries[i]));
        continue;
      }
      for (const char* part : {"indices", "values", "dense_shape"})
        out.push_back(ComponentFromPython(entries[i].attr(part)));
    } catch (py::error_already_set& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a map function's result, ", where,
          ", does not convert to a tensor: ", ExplainPythonError(e)));
    }
  }
  if (!*learned) {
    *s = std::move(got);
    *learned = true;
  }
  return out;
}

}  // namespace sluice::python
