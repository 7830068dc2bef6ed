#include "convert.h"

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice::python {

const char* ErrorClassName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled:
      return "CancelledError";
    case absl::StatusCode::kInvalidArgument:
      return "InvalidArgumentError";
    case absl::StatusCode::kDeadlineExceeded:
      return "DeadlineExceededError";
    case absl::StatusCode::kNotFound:
      return "NotFoundError";
    case absl::StatusCode::kAlreadyExists:
      return "AlreadyExistsError";
    case absl::StatusCode::kPermissionDenied:
      return "PermissionDeniedError";
    case absl::StatusCode::kResourceExhausted:
      return "ResourceExhaustedError";
    case absl::StatusCode::kFailedPrecondition:
      return "FailedPreconditionError";
    case absl::StatusCode::kAborted:
      return "AbortedError";
    case absl::StatusCode::kOutOfRange:
      return "OutOfRangeError";
    case absl::StatusCode::kUnimplemented:
      return "UnimplementedError";
    case absl::StatusCode::kInternal:
      return "InternalError";
    case absl::StatusCode::kUnavailable:
      return "UnavailableError";
    case absl::StatusCode::kDataLoss:
      return "DataLossError";
    case absl::StatusCode::kUnauthenticated:
      return "UnauthenticatedError";
    default:
      return "UnknownError";
  }
}

void ThrowStatus(const absl::Status& s) {
  py::object errors = py::module_::import("sluice.errors");
  py::object cls = errors.attr(ErrorClassName(s.code()));
  py::object exc = cls(std::string(s.message()), static_cast<int>(s.code()));
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

DType ToDType(const py::handle& obj) {
  if (py::isinstance<DType>(obj)) return obj.cast<DType>();
  if (py::isinstance<py::str>(obj)) {
    const std::string s = obj.cast<std::string>();
    if (s == "string" || s == "bytes") return DType::kString;
  }
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyBytes_Type))
    return DType::kString;
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  } catch (py::error_already_set&) {
    ThrowStatus(absl::InvalidArgumentError(
        absl::StrCat("not a dtype: ", std::string(py::str(py::repr(obj))))));
  }
  const char kind = dt.kind();
  const size_t size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::kFloat32;
  if (kind == 'f' && size == 8) return DType::kFloat64;
  if (kind == 'i' && size == 4) return DType::kInt32;
  if (kind == 'i' && size == 8) return DType::kInt64;
  if (kind == 'u' && size == 1) return DType::kUInt8;
  if (kind == 'i' && size == 1) return DType::kInt8;
  if (kind == 'u' && size == 2) return DType::kUInt16;
  if (kind == 'f' && size == 2) return DType::kFloat16;
  if (kind == 'b') return DType::kBool;
  if (kind == 'S' || kind == 'O') return DType::kString;
  ThrowStatus(absl::InvalidArgumentError(
      absl::StrCat("unsupported dtype ", std::string(py::str(py::repr(obj))),
                   " (want float16, float32, float64, int8, int32, int64, "
                   "uint8, uint16, bool "
                   "or string)")));
}

std::string FileHead(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string head(64, '\0');
  f.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(f ? head.size() : static_cast<size_t>(f.gcount()));
  return head;
}

py::dtype NumpyDType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return py::dtype::of<float>();
    case DType::kFloat64:
      return py::dtype::of<double>();
    case DType::kInt32:
      return py::dtype::of<int32_t>();
    case DType::kInt64:
      return py::dtype::of<int64_t>();
    case DType::kUInt8:
      return py::dtype::of<uint8_t>();
    case DType::kBool:
      return py::dtype::of<bool>();
    case DType::kString:
      return py::dtype("O");
    case DType::kInt8:
      return py::dtype::of<int8_t>();
    case DType::kUInt16:
      return py::dtype::of<uint16_t>();
    case DType::kFloat16:
      return py::dtype("float16");
  }
  return py::dtype("O");
}

py::object TensorToNumpy(const Tensor& t) {
  std::vector<py::ssize_t> shape;
  for (int i = 0; i < t.rank(); ++i) shape.push_back(t.dim(i));
  if (t.dtype() == DType::kString) {
    py::array out(py::dtype("O"), shape);
    PyObject** items = static_cast<PyObject**>(out.mutable_data());
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      const std::string_view v = t.string(i);
      PyObject* b = PyBytes_FromStringAndSize(
          v.data(), static_cast<py::ssize_t>(v.size()));
      if (b == nullptr) throw py::error_already_set();
      Py_XDECREF(items[i]);  // numpy fills object arrays with None
      items[i] = b;
    }
    return out;
  }
  if (!t.IsInitialized() || t.NumElements() == 0) {
    return py::array(NumpyDType(t.dtype()), shape);
  }
  // The capsule owns one handle to the buffer: numpy (and any DLPack
  // consumer of the array) keeps the capsule, and so the bytes, alive.
  auto* keep = new Tensor(t);
  PyObject* cap = PyCapsule_New(keep, kTensorCapsuleName, [](PyObject* c) {
    delete static_cast<Tensor*>(PyCapsule_GetPointer(c, kTensorCapsuleName));
  });
  if (cap == nullptr) {
    delete keep;
    throw py::error_already_set();
  }
  py::object base = py::reinterpret_steal<py::object>(cap);
  return py::array(NumpyDType(t.dtype()), shape, t.raw_data(), base);
}

namespace {

void CollectStrings(const py::handle& obj, std::vector<std::string>* out,
                    std::vector<int64_t>* shape, int depth) {
  if (py::isinstance<py::bytes>(obj)) {
    out->push_back(obj.cast<std::string>());
    return;
  }
  if (py::isinstance<py::str>(obj)) {
    out->push_back(obj.cast<std::string>());  // UTF-8
    return;
  }
  if (PyObject_CheckBuffer(obj.ptr()) && !py::isinstance<py::array>(obj)) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(obj).request();
    out->emplace_back(static_cast<const char*>(info.ptr),
                      info.size * info.itemsize);
    return;
  }
  if (!py::isinstance<py::sequence>(obj) && !py::isinstance<py::array>(obj)) {
    ThrowStatus(absl::InvalidArgumentError(
        absl::StrCat("expected bytes, str or a sequence of them, got ",
                     std::string(py::str(obj.get_type().attr("__name__"))))));
  }
  py::sequence seq =
      py::isinstance<py::array>(obj)
          ? py::sequence(
                py::reinterpret_borrow<py::object>(obj).attr("tolist")())
          : py::reinterpret_borrow<py::sequence>(obj);
  const int64_t n = static_cast<int64_t>(py::len(seq));
  if (static_cast<int>(shape->size()) == depth) {
    shape->push_back(n);
  } else if ((*shape)[depth] != n) {
    ThrowStatus(
        absl::InvalidArgumentError("ragged nested sequence of strings"));
  }
  for (const py::handle& item : seq)
    CollectStrings(item, out, shape, depth + 1);
}

}  // namespace

Tensor TensorFromPython(const py::handle& obj, DType dtype) {
  if (dtype == DType::kString) {
    std::vector<std::string> values;
    std::vector<int64_t> shape;
    CollectStrings(obj, &values, &shape, 0);
    return Tensor::FromStrings(values, TensorShape(shape));
  }
  py::array arr;
  try {
    // asarray keeps 0-d values 0-d (ascontiguousarray would make them 1-d).
    arr = py::array(
        py::module_::import("numpy").attr("asarray")(obj, NumpyDType(dtype)));
    if (!(arr.flags() & py::array::c_style))
      arr = py::array(arr.attr("copy")("C"));
  } catch (py::error_already_set& e) {
    ThrowStatus(absl::InvalidArgumentError(
        absl::StrCat("cannot convert ",
                     std::string(py::str(obj.get_type().attr("__name__"))),
                     " to ", Sv(DTypeName(dtype)), ": ", e.what())));
  }
  std::vector<int64_t> shape(arr.shape(), arr.shape() + arr.ndim());
  Tensor t(dtype, TensorShape(shape));
  if (t.ByteSize() > 0) std::memcpy(t.raw_data(), arr.data(), t.ByteSize());
  return t;
}

}  // namespace sluice::python
