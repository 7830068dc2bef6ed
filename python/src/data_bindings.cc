// sluice._sluice bindings behind sluice.data: a Pipeline (a C++ Dataset
// built from the op list sluice.data's Dataset records, with the stage
// metrics of one run) and its Iterator.
//
// The Iterator calls the C++ iterator on the calling thread with the GIL
// released; batches, not records, cross into Python. A call returns as soon
// as the pipeline has an element, so Ctrl-C is seen (PyErr_CheckSignals)
// after at most one element's production. Dropping the Iterator destroys
// the C++ iterator, which stops its threads (with the GIL released, so
// threads that need it cannot deadlock).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "element.h"
#include "parse_fn.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/stage_metrics.h"
#include "py_map_fn.h"
#include "readers/compression.h"

namespace sluice::python {
namespace {

// Records per call in records mode (elements are single records).
constexpr int64_t kRecordsPerCall = 256;

struct Pipeline {
  // Declared first so that it outlives the dataset (whose stages point
  // into it) and every iterator (which holds this Pipeline).
  PipelineMetrics metrics;
  std::optional<Dataset> dataset;
  bool records_mode = false;  // elements are scalar strings
  // How the final element looks in Python (learned at the first call when
  // the last map is a Python function). Guarded by the GIL.
  std::shared_ptr<StructureCell> structure;
};

// A cell that is known now.
std::shared_ptr<StructureCell> KnownStructure(ElementStructure s) {
  auto c = std::make_shared<StructureCell>();
  c->s = std::move(s);
  c->known = true;
  return c;
}

// The dict a ParseFn's flat outputs form: dense keys, then sparse ones.
ElementStructure ParseFnStructure(const ParseFn& fn) {
  ElementStructure s;
  s.kind = ElementStructure::Kind::kDict;
  for (const FixedLenFeature& f : fn.spec().dense()) {
    s.keys.push_back(f.key);
    s.sparse.push_back(false);
  }
  for (const VarLenFeature& f : fn.spec().sparse()) {
    s.keys.push_back(f.key);
    s.sparse.push_back(true);
  }
  return s;
}

std::optional<int> OptionalInt(const py::handle& h) {
  if (h.is_none()) return std::nullopt;
  return h.cast<int>();
}

// ops: [("tfrecord", files, compression|None, num_parallel_reads|None,
// on_corrupt, buffer_size, map_file), ("shard", n, i), ("shuffle", buffer,
// seed, reshuffle), ("repeat", count), ("map", ParseFn, parallel|None,
// deterministic), ("pymap", callable, parallel|None, deterministic),
// ("batch", n, drop_remainder), ("prefetch", n)].
std::shared_ptr<Pipeline> MakePipeline(const py::list& ops) {
  auto p = std::make_shared<Pipeline>();
  bool scalar_strings = true;
  for (const py::handle& item : ops) {
    py::tuple op = item.cast<py::tuple>();
    const std::string kind = op[0].cast<std::string>();
    if (kind != "tfrecord" && !p->dataset.has_value()) {
      ThrowStatus(absl::InvalidArgumentError(
          "a pipeline starts with a tfrecord source"));
    }
    if (kind == "tfrecord") {
      std::vector<std::string> files = op[1].cast<std::vector<std::string>>();
      TFRecordDatasetOptions o;
      // None: each file's compression is detected from its first bytes
      // when it is opened (a list may mix them).
      if (op[2].is_none()) {
        o.detect_compression = true;
      } else {
        o.compression =
            ValueOrThrow(ParseCompression(op[2].cast<std::string>()));
      }
      o.num_parallel_reads = OptionalInt(op[3]);
      if (o.num_parallel_reads.has_value() && *o.num_parallel_reads <= 1 &&
          *o.num_parallel_reads != kAutotune) {
        o.num_parallel_reads.reset();
      }
      o.corrupt_policy =
          ValueOrThrow(ParseCorruptRecordPolicy(op[4].cast<std::string>()));
      const int64_t buffer_size = op[5].cast<int64_t>();
      if (buffer_size > 0) o.buffer_size = buffer_size;
      o.map_file = op[6].cast<bool>();
      o.metrics = p->metrics.Stage("read");
      p->dataset = TFRecordDataset(std::move(files), o);
      p->structure = KnownStructure({.sparse = {false}});
    } else if (kind == "shard") {
      p->dataset =
          p->dataset->Shard(op[1].cast<int64_t>(), op[2].cast<int64_t>());
    } else if (kind == "shuffle") {
      ShuffleOptions so;
      so.seed = op[2].cast<uint64_t>();
      so.reshuffle_each_iteration = op[3].cast<bool>();
      p->dataset = p->dataset->Shuffle(op[1].cast<int64_t>(), so);
    } else if (kind == "repeat") {
      p->dataset = p->dataset->Repeat(op[1].cast<int64_t>());
    } else if (kind == "map") {
      std::shared_ptr<ParseFn> fn = op[1].cast<std::shared_ptr<ParseFn>>();
      MapOptions mo;
      mo.num_parallel_calls = OptionalInt(op[2]);
      mo.deterministic = op[3].cast<bool>();
      mo.metrics = p->metrics.Stage("map");
      p->dataset = p->dataset->Map(
          [fn](TensorTuple in) -> absl::StatusOr<TensorTuple> {
            if (in.size() != 1) {
              return absl::InvalidArgumentError(
                  "a parse function takes one string component");
            }
            return (*fn)(in[0]);
          },
          mo);
      p->structure = KnownStructure(ParseFnStructure(*fn));
      scalar_strings = false;
    } else if (kind == "pymap") {
      auto fn = std::make_shared<PyMapFn>(
          py::reinterpret_borrow<py::object>(op[1]), p->structure);
      MapOptions mo;
      mo.num_parallel_calls = OptionalInt(op[2]);
      mo.deterministic = op[3].cast<bool>();
      mo.metrics = p->metrics.Stage("map");
      p->dataset = p->dataset->Map(
          [fn](TensorTuple in) -> absl::StatusOr<TensorTuple> {
            return (*fn)(in);
          },
          mo);
      p->structure = fn->output();
      scalar_strings = false;
    } else if (kind == "batch") {
      p->dataset = p->dataset->Batch(op[1].cast<int64_t>(), op[2].cast<bool>());
      scalar_strings = false;
    } else if (kind == "prefetch") {
      p->dataset = p->dataset->Prefetch(op[1].cast<int64_t>(),
                                        p->metrics.Stage("prefetch"));
    } else {
      ThrowStatus(absl::InvalidArgumentError(
          absl::StrCat("unknown dataset op '", kind, "'")));
    }
  }
  if (!p->dataset.has_value())
    ThrowStatus(absl::InvalidArgumentError("empty pipeline"));
  ThrowIfError(p->dataset->status());
  p->records_mode = scalar_strings;
  return p;
}

// One pass over a Pipeline, yielding final Python objects (no Python code
// runs per element unless the dataset maps a Python function: PyMapFn).
// Not thread-safe (Python iterators never are).
class PyIterator {
 public:
  explicit PyIterator(std::shared_ptr<Pipeline> p) : p_(std::move(p)) {
    consume_ = p_->metrics.Stage("consume");
    absl::StatusOr<std::unique_ptr<Iterator>> it;
    {
      py::gil_scoped_release nogil;
      it = p_->dataset->MakeIterator();
    }
    it_ = ValueOrThrow(std::move(it));
  }
  ~PyIterator() { Close(); }

  // The next record (bytes), or the element in its structure (an array,
  // a dict of arrays, a tuple, ...). StopIteration at the end; a
  // pipeline error raises its sluice.errors exception (the next call goes
  // on after it, as the C++ iterator does).
  py::object Next() {
    if (p_->records_mode) {
      if (next_record_ >= records_.NumElements()) {
        records_ = Fetch()[0];  // up to 256 records per call
        next_record_ = 0;
      }
      const std::string_view v = records_.string(next_record_++);
      return py::bytes(v.data(), v.size());
    }
    const TensorTuple t = Fetch();
    return ElementToPython(t, p_->structure->s);
  }

  // Stops the pipeline's threads and frees its buffers. Idempotent.
  void Close() {
    records_ = Tensor();
    if (it_ == nullptr) return;
    std::unique_ptr<Iterator> it = std::move(it_);
    if (PyGILState_Check()) {
      py::gil_scoped_release nogil;
      it.reset();
    } else {
      it.reset();
    }
  }

 private:
  // One call into the pipeline, with the GIL released; the consumer
  // stage's time is split into waiting for it and Python's time between.
  TensorTuple Fetch() {
    if (it_ == nullptr) throw py::stop_iteration();
    absl::StatusOr<TensorTuple> r;
    const int64_t t0 = MonotonicNanos();
    if (last_return_ns_ == 0) {
      consume_->AddThreads(1);
    } else {
      consume_->AddTime(StagePhase::kBusy, t0 - last_return_ns_);
    }
    {
      py::gil_scoped_release nogil;
      r = p_->records_mode ? it_->GetNextMany(kRecordsPerCall) : it_->GetNext();
    }
    last_return_ns_ = MonotonicNanos();
    consume_->AddTime(StagePhase::kInputWait, last_return_ns_ - t0);
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (absl::IsOutOfRange(r.status())) {
      Close();
      throw py::stop_iteration();
    }
    ThrowIfError(r.status());
    consume_->AddItems(p_->records_mode ? (*r)[0].NumElements() : 1);
    return *std::move(r);
  }

  std::shared_ptr<Pipeline> p_;
  std::unique_ptr<Iterator> it_;
  Tensor records_;  // records mode: the current batch of records
  int64_t next_record_ = 0;
  StageMetrics* consume_ = nullptr;
  int64_t last_return_ns_ = 0;
};

py::list Stats(const Pipeline& p) {
  py::list out;
  for (const StageSnapshot& s : p.metrics.Snapshot()) {
    py::dict d;
    const double thread_ns =
        static_cast<double>(s.wall_ns) * std::max(1, s.threads);
    auto frac = [&](int64_t ns) {
      return thread_ns > 0 ? static_cast<double>(ns) / thread_ns : 0.0;
    };
    d["stage"] = s.name;
    d["threads"] = s.threads;
    d["busy"] = frac(s.busy_ns);
    d["input_wait"] = frac(s.input_wait_ns);
    d["output_wait"] = frac(s.output_wait_ns);
    d["busy_seconds"] = 1e-9 * static_cast<double>(s.busy_ns);
    d["input_wait_seconds"] = 1e-9 * static_cast<double>(s.input_wait_ns);
    d["output_wait_seconds"] = 1e-9 * static_cast<double>(s.output_wait_ns);
    d["items"] = s.items;
    d["wall_seconds"] = 1e-9 * static_cast<double>(s.wall_ns);
    py::dict params;  // AUTOTUNE's choices and fixed settings
    for (const auto& [name, value] : s.parameters) params[py::str(name)] = value;
    d["parameters"] = params;
    out.append(d);
  }
  return out;
}

// Runs a whole pass in C++ (no Python per element) and returns (elements,
// rows of component 0, sum of the int64 component `sum_component`, or 0):
// the same pipeline's rate without the language boundary, for benchmarks.
py::tuple Drain(const std::shared_ptr<Pipeline>& p, int sum_component) {
  int64_t elements = 0, rows = 0, sum = 0;
  absl::Status status;
  {
    py::gil_scoped_release nogil;
    absl::StatusOr<std::unique_ptr<Iterator>> it = p->dataset->MakeIterator();
    status = it.status();
    while (status.ok()) {
      absl::StatusOr<TensorTuple> r = (*it)->GetNext();
      if (absl::IsOutOfRange(r.status())) break;
      status = r.status();
      if (!status.ok()) break;
      ++elements;
      rows += (*r)[0].rank() == 0 ? 1 : (*r)[0].dim(0);
      if (sum_component >= 0 && sum_component < static_cast<int>(r->size()) &&
          (*r)[sum_component].dtype() == DType::kInt64) {
        for (int64_t v : (*r)[sum_component].flat<int64_t>()) sum += v;
      }
    }
  }
  ThrowIfError(status);
  return py::make_tuple(elements, rows, sum);
}

}  // namespace

void RegisterData(py::module_& m) {
  py::class_<Pipeline, std::shared_ptr<Pipeline>>(
      m, "Pipeline", "A built C++ Dataset and its stage metrics.")
      .def(py::init(&MakePipeline), py::arg("ops"))
      .def_property_readonly("records_mode",
                             [](const Pipeline& p) { return p.records_mode; })
      .def("stats", &Stats,
           "Per-stage busy / wait fractions of this pipeline's run.")
      .def(
          "report", [](const Pipeline& p) { return p.metrics.Report(); },
          "One summary line per stage.")
      .def("drain", &Drain, py::arg("sum_component") = -1,
           "Runs one pass in C++; returns (elements, rows, sum of an int64 "
           "component).");
  py::class_<PyIterator>(m, "Iterator", "One pass over a Pipeline.")
      .def(py::init<std::shared_ptr<Pipeline>>(), py::arg("pipeline"))
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &PyIterator::Next)
      .def("close", &PyIterator::Close, "Stops the pipeline's threads now.");
}

}  // namespace sluice::python
