// sluice._sluice bindings behind sluice.io: the TFRecord record iterator and
// writer, Example serialization, the native parse function, decode_raw.
// Every call that reads or writes a file releases the GIL.
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "parse_fn.h"
#include "readers/compression.h"
#include "readers/decode_raw.h"
#include "readers/example_builder.h"
#include "readers/record_reader.h"
#include "readers/record_writer.h"

namespace sluice::python {
namespace {

// Reads the records of one file in batches of 64, yielding bytes.
class RecordIterator {
 public:
  RecordIterator(std::string path, std::optional<std::string> compression,
                 const std::string& on_corrupt, int64_t buffer_size) {
    RecordReaderOptions o;
    o.compression = compression.has_value()
                        ? ValueOrThrow(ParseCompression(*compression))
                        : DetectCompression(FileHead(path));
    o.corrupt_policy = ValueOrThrow(ParseCorruptRecordPolicy(on_corrupt));
    if (buffer_size > 0) o.buffer_size = static_cast<size_t>(buffer_size);
    absl::StatusOr<std::unique_ptr<RecordReader>> r;
    {
      py::gil_scoped_release nogil;
      r = RecordReader::Open(std::move(path), o);
    }
    reader_ = ValueOrThrow(std::move(r));
    compression_ = CompressionName(o.compression);
  }

  py::bytes Next() {
    if (next_ >= batch_.size()) {
      if (reader_ == nullptr) throw py::stop_iteration();
      absl::Status s;
      {
        py::gil_scoped_release nogil;
        s = reader_->ReadMany(64, &batch_);
      }
      if (absl::IsOutOfRange(s)) {
        reader_.reset();  // the file closes at the end, not when Python
                          // collects us
        batch_.Clear();
        throw py::stop_iteration();
      }
      ThrowIfError(s);
      next_ = 0;
    }
    const std::string_view r = batch_.record(next_++);
    return py::bytes(r.data(), r.size());
  }

  // Offset of the next record in the decompressed stream.
  uint64_t offset() const { return reader_ ? reader_->offset() : 0; }
  const char* compression() const { return compression_; }
  void Close() {
    reader_.reset();
    batch_.Clear();
    next_ = 0;
  }

 private:
  std::unique_ptr<RecordReader> reader_;
  const char* compression_ = "";
  RecordBatch batch_;
  size_t next_ = 0;
};

// A byte view of bytes, bytearray, memoryview or any C-contiguous buffer.
std::string_view BytesView(const py::handle& obj, py::buffer_info* keep) {
  if (PyBytes_Check(obj.ptr())) {
    return std::string_view(PyBytes_AS_STRING(obj.ptr()),
                            static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr())));
  }
  if (!PyObject_CheckBuffer(obj.ptr())) {
    ThrowStatus(absl::InvalidArgumentError(
        absl::StrCat("expected bytes or a buffer, got ",
                     std::string(py::str(obj.get_type().attr("__name__"))))));
  }
  *keep = py::reinterpret_borrow<py::buffer>(obj).request();
  return std::string_view(static_cast<const char*>(keep->ptr),
                          static_cast<size_t>(keep->size * keep->itemsize));
}

class PyRecordWriter {
 public:
  PyRecordWriter(std::string path, const std::string& compression,
                 int compression_level) {
    RecordWriterOptions o;
    o.compression = ValueOrThrow(ParseCompression(compression));
    o.compression_level = compression_level;
    path_ = path;
    absl::StatusOr<std::unique_ptr<RecordWriter>> w;
    {
      py::gil_scoped_release nogil;
      w = RecordWriter::Open(std::move(path), o);
    }
    writer_ = ValueOrThrow(std::move(w));
  }
  void Write(const py::handle& record) {
    py::buffer_info keep;
    const std::string_view r = BytesView(record, &keep);
    ThrowIfError(Live()->Write(r));
  }
  void Flush() {
    RecordWriter* w = Live();
    absl::Status s;
    {
      py::gil_scoped_release nogil;
      s = w->Flush();
    }
    ThrowIfError(s);
  }
  void Close() {
    if (writer_ == nullptr) return;
    absl::Status s;
    {
      py::gil_scoped_release nogil;
      s = writer_->Close();
    }
    writer_.reset();
    ThrowIfError(s);
  }

 private:
  RecordWriter* Live() {
    if (writer_ == nullptr) {
      ThrowStatus(absl::FailedPreconditionError(
          absl::StrCat("TFRecordWriter for ", path_, " is closed")));
    }
    return writer_.get();
  }
  std::string path_;
  std::unique_ptr<RecordWriter> writer_;
};

// One serialized Feature from a Python value: bytes/str (or a list of
// them), ints/bools (int64_list), floats (float_list), or a numpy array
// of any of these.
std::string EncodeFeature(const std::string& key, const py::handle& value) {
  py::object v = py::reinterpret_borrow<py::object>(value);
  if (py::isinstance<py::bytes>(v) || py::isinstance<py::str>(v) ||
      py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) ||
      py::isinstance<py::bool_>(v)) {
    v = py::list(py::make_tuple(v));
  }
  if (py::isinstance<py::array>(v)) {
    py::array a = v.cast<py::array>();
    const char kind = a.dtype().kind();
    if (kind == 'f') {
      Tensor t = TensorFromPython(a.attr("ravel")(), DType::kFloat32);
      return EncodeFloatFeature(t.flat<float>());
    }
    if (kind == 'i' || kind == 'u' || kind == 'b') {
      Tensor t = TensorFromPython(a.attr("ravel")(), DType::kInt64);
      return EncodeInt64Feature(t.flat<int64_t>());
    }
    v = a.attr("ravel")().attr("tolist")();
  }
  if (!py::isinstance<py::sequence>(v)) {
    ThrowStatus(absl::InvalidArgumentError(absl::StrCat(
        "feature '", key,
        "': expected bytes, str, int, float or a list of them, got ",
        std::string(py::str(v.get_type().attr("__name__"))))));
  }
  py::sequence seq = v.cast<py::sequence>();
  if (py::len(seq) == 0) return EncodeEmptyFeature();
  bool any_float = false, all_number = true, all_bytes = true;
  for (const py::handle& item : seq) {
    const bool is_bytes =
        py::isinstance<py::bytes>(item) || py::isinstance<py::str>(item);
    const bool is_float = py::isinstance<py::float_>(item) ||
                          (py::isinstance<py::array>(item) &&
                           py::cast<py::array>(item).dtype().kind() == 'f');
    const bool is_int = py::isinstance<py::int_>(item) ||
                        PyLong_Check(item.ptr()) ||
                        py::hasattr(item, "__index__");
    any_float |= is_float;
    all_number &= (is_float || is_int) && !is_bytes;
    all_bytes &= is_bytes;
  }
  if (all_bytes) {
    Tensor t = TensorFromPython(seq, DType::kString);
    return EncodeBytesFeature(t.flat<std::string_view>());
  }
  if (!all_number) {
    ThrowStatus(absl::InvalidArgumentError(
        absl::StrCat("feature '", key,
                     "': a list must hold only bytes/str, or only numbers")));
  }
  if (any_float)
    return EncodeFloatFeature(
        TensorFromPython(seq, DType::kFloat32).flat<float>());
  return EncodeInt64Feature(
      TensorFromPython(seq, DType::kInt64).flat<int64_t>());
}

py::bytes SerializeExample(const py::dict& features) {
  ExampleBuilder b;
  for (const auto& [k, v] : features) {
    const std::string key = py::str(k);
    b.AddFeature(key, EncodeFeature(key, v));
  }
  const std::string s = b.Serialize();
  return py::bytes(s);
}

// dense: [(key, dtype, shape, default or None)], sparse: [(key, dtype)].
std::shared_ptr<const ParseFn> MakeParseFn(const py::list& dense,
                                           const py::list& sparse,
                                           const py::dict& decode_raw) {
  std::vector<FixedLenFeature> d;
  for (const py::handle& item : dense) {
    py::tuple t = item.cast<py::tuple>();
    FixedLenFeature f;
    f.key = t[0].cast<std::string>();
    f.dtype = ToDType(t[1]);
    f.shape = TensorShape(t[2].cast<std::vector<int64_t>>());
    if (!t[3].is_none()) f.default_value = TensorFromPython(t[3], f.dtype);
    d.push_back(std::move(f));
  }
  std::vector<VarLenFeature> s;
  for (const py::handle& item : sparse) {
    py::tuple t = item.cast<py::tuple>();
    s.push_back(VarLenFeature{t[0].cast<std::string>(), ToDType(t[1])});
  }
  std::map<std::string, DType> raw;
  for (const auto& [k, v] : decode_raw) raw[py::str(k)] = ToDType(v);
  return ValueOrThrow(
      ParseFn::Create(std::move(d), std::move(s), std::move(raw)));
}

}  // namespace

py::list TupleToNumpy(const TensorTuple& t) {
  py::list out;
  for (const Tensor& x : t) out.append(TensorToNumpy(x));
  return out;
}

void RegisterIo(py::module_& m) {
  py::class_<RecordIterator>(
      m, "RecordIterator",
      "Iterator over the records (bytes) of one TFRecord file.")
      .def(py::init<std::string, std::optional<std::string>, const std::string&,
                    int64_t>(),
           py::arg("path"), py::arg("compression") = py::none(),
           py::arg("on_corrupt") = "fail", py::arg("buffer_size") = 0)
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &RecordIterator::Next)
      .def("close", &RecordIterator::Close,
           "Closes the file; iteration then ends.")
      .def_property_readonly(
          "offset", &RecordIterator::offset,
          "Offset of the next record in the decompressed stream.")
      .def_property_readonly("compression", &RecordIterator::compression,
                             "The stream's compression: NONE, ZLIB or GZIP.");

  py::class_<PyRecordWriter>(m, "RecordWriter", "Writes TFRecord files.")
      .def(py::init<std::string, const std::string&, int>(), py::arg("path"),
           py::arg("compression") = "", py::arg("compression_level") = -1)
      .def("write", &PyRecordWriter::Write, py::arg("record"))
      .def("flush", &PyRecordWriter::Flush)
      .def("close", &PyRecordWriter::Close);

  m.def("serialize_example", &SerializeExample, py::arg("features"),
        "Serializes {key: values} as a tf.train.Example.");

  py::class_<ParseFn, std::shared_ptr<ParseFn>>(
      m, "ParseFn", "A native tf.train.Example parse function.")
      .def_property_readonly("num_outputs",
                             [](const ParseFn& f) {
                               return f.spec().dense().size() +
                                      3 * f.spec().sparse().size();
                             })
      .def(
          "__call__",
          [](const ParseFn& f, const py::handle& serialized) {
            Tensor in = TensorFromPython(serialized, DType::kString);
            absl::StatusOr<TensorTuple> out;
            {
              py::gil_scoped_release nogil;
              out = f(in);
            }
            return TupleToNumpy(ValueOrThrow(std::move(out)));
          },
          py::arg("serialized"),
          "Parses a bytes record or a sequence of them; returns the flat list "
          "of outputs.");
  m.def(
      "make_parse_fn",
      [](const py::list& dense, const py::list& sparse,
         const py::dict& decode_raw) {
        return std::const_pointer_cast<ParseFn>(
            MakeParseFn(dense, sparse, decode_raw));
      },
      py::arg("dense"), py::arg("sparse"), py::arg("decode_raw"));

  m.def(
      "decode_raw",
      [](const py::handle& bytes, const py::handle& out_type,
         bool little_endian) {
        Tensor in = TensorFromPython(bytes, DType::kString);
        return TensorToNumpy(
            ValueOrThrow(DecodeRaw(in, ToDType(out_type), little_endian)));
      },
      py::arg("input_bytes"), py::arg("out_type"),
      py::arg("little_endian") = true,
      "Reinterprets bytes as numbers (tf.io.decode_raw).");
  m.def(
      "detect_compression",
      [](const std::string& path) {
        return CompressionName(DetectCompression(FileHead(path)));
      },
      py::arg("path"),
      "NONE, ZLIB or GZIP, guessed from the file's first bytes.");
}

}  // namespace sluice::python
