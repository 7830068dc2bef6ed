// sluice._sluice bindings behind sluice.FIFOQueue, sluice.RandomShuffleQueue
// and sluice.train.Coordinator, for Python producer and consumer threads.
//
// Blocking calls release the GIL. Waits that can be retried without
// changing the queue (enqueue, dequeue, dequeue_many, dequeue_up_to: on
// DeadlineExceeded the queue is as it was) wait in slices of 100 ms and
// check for Ctrl-C (PyErr_CheckSignals) between slices. enqueue_many
// cannot be sliced (rows it moved before a deadline stay in the queue): on
// the main thread (the only one Ctrl-C reaches) it runs on a helper thread
// while the caller waits in slices, and Ctrl-C cancels it through its stop
// token (the rows it moved stay, as on a deadline); on other threads it
// waits as one call, up to its timeout.
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "coordinator/coordinator.h"
#include "queues/fifo_queue.h"
#include "queues/random_shuffle_queue.h"

namespace sluice::python {
namespace {

constexpr absl::Duration kSlice = absl::Milliseconds(100);

absl::Time DeadlineOf(std::optional<double> timeout) {
  return timeout.has_value() ? absl::Now() + absl::Seconds(*timeout)
                             : absl::InfiniteFuture();
}

class PyCoordinator {
 public:
  void RequestStop(const std::string& why_message) {
    (void)coord_.RequestStop(why_message.empty()
                                 ? absl::OkStatus()
                                 : absl::CancelledError(why_message));
  }
  bool ShouldStop() const { return coord_.ShouldStop(); }
  // Sliced so that Ctrl-C interrupts a long wait.
  bool WaitForStop(std::optional<double> timeout) {
    const absl::Time deadline = DeadlineOf(timeout);
    while (true) {
      const absl::Time slice = std::min(deadline, absl::Now() + kSlice);
      bool stopped;
      {
        py::gil_scoped_release nogil;
        stopped = coord_.WaitForStop(slice - absl::Now());
      }
      if (stopped) return true;
      if (absl::Now() >= deadline) return false;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }
  void ClearStop() { coord_.ClearStop(); }
  std::stop_token stop_token() const { return coord_.stop_token(); }

 private:
  Coordinator coord_;
};

// Whether the caller is Python's main thread (the one signal handlers run
// on). Needs the GIL.
bool OnMainThread() {
  py::object threading = py::module_::import("threading");
  return threading.attr("current_thread")().is(threading.attr("main_thread")());
}

// A queue and the Python view of its components.
class PyQueue {
 public:
  explicit PyQueue(std::shared_ptr<QueueInterface> q) : q_(std::move(q)) {}

  void Enqueue(const py::handle& vals, std::optional<double> timeout,
               PyCoordinator* coord) {
    TensorTuple t = ToTuple(vals);
    ThrowIfError(Sliced(timeout, coord, [&](const WaitOptions& w) {
                   return AsStatusOr(q_->Enqueue(t, w));
                 }).status());
  }
  void EnqueueMany(const py::handle& vals, std::optional<double> timeout,
                   PyCoordinator* coord) {
    TensorTuple t = ToTuple(vals);
    const std::stop_token coord_stop =
        coord ? coord->stop_token() : std::stop_token();
    if (!OnMainThread()) {
      absl::Status s;
      {
        py::gil_scoped_release nogil;
        s = q_->EnqueueMany(std::move(t), {DeadlineOf(timeout), coord_stop});
      }
      ThrowIfError(s);
      return;
    }
    std::stop_source interrupt;
    std::optional<std::stop_callback<std::function<void()>>> forward;
    if (coord_stop.stop_possible()) {
      forward.emplace(coord_stop, [&interrupt] { interrupt.request_stop(); });
    }
    std::promise<absl::Status> done;
    std::future<absl::Status> result = done.get_future();
    std::thread call([&, w = WaitOptions{DeadlineOf(timeout),
                                         interrupt.get_token()}]() mutable {
      done.set_value(q_->EnqueueMany(std::move(t), w));
    });
    while (true) {
      bool finished;
      {
        py::gil_scoped_release nogil;
        finished = result.wait_for(std::chrono::milliseconds(100)) ==
                   std::future_status::ready;
      }
      if (finished) break;
      if (PyErr_CheckSignals() != 0) {
        py::error_already_set e;  // takes the KeyboardInterrupt
        interrupt.request_stop();
        {
          py::gil_scoped_release nogil;
          call.join();
        }
        throw e;
      }
    }
    {
      py::gil_scoped_release nogil;
      call.join();
    }
    ThrowIfError(result.get());
  }
  py::object Dequeue(std::optional<double> timeout, PyCoordinator* coord) {
    return FromTuple(ValueOrThrow(Sliced(
        timeout, coord, [&](const WaitOptions& w) { return q_->Dequeue(w); })));
  }
  py::object DequeueMany(int64_t n, std::optional<double> timeout,
                         PyCoordinator* coord) {
    return FromTuple(
        ValueOrThrow(Sliced(timeout, coord, [&](const WaitOptions& w) {
          return q_->DequeueMany(n, w);
        })));
  }
  py::object DequeueUpTo(int64_t n, std::optional<double> timeout,
                         PyCoordinator* coord) {
    return FromTuple(
        ValueOrThrow(Sliced(timeout, coord, [&](const WaitOptions& w) {
          return q_->DequeueUpTo(n, w);
        })));
  }
  void Close(bool cancel_pending_enqueues) {
    absl::Status s;
    {
      py::gil_scoped_release nogil;
      s = q_->Close(cancel_pending_enqueues);
    }
    ThrowIfError(s);
  }
  int64_t Size() const { return q_->Size(); }
  bool IsClosed() const { return q_->IsClosed(); }
  std::string Name() const { return std::string(q_->name()); }
  std::vector<DType> DTypes() const { return q_->component_dtypes(); }

 private:
  static absl::StatusOr<TensorTuple> AsStatusOr(absl::Status s) {
    if (!s.ok()) return s;
    return TensorTuple{};
  }

  // Runs `call` in slices of kSlice until it does not time out or the
  // caller's deadline passed; Ctrl-C between slices raises.
  template <typename Call>
  absl::StatusOr<TensorTuple> Sliced(std::optional<double> timeout,
                                     PyCoordinator* coord, Call call) {
    const absl::Time deadline = DeadlineOf(timeout);
    const std::stop_token stop =
        coord ? coord->stop_token() : std::stop_token();
    while (true) {
      WaitOptions w{std::min(deadline, absl::Now() + kSlice), stop};
      absl::StatusOr<TensorTuple> r;
      {
        py::gil_scoped_release nogil;
        r = call(w);
      }
      if (!absl::IsDeadlineExceeded(r.status()) || absl::Now() >= deadline)
        return r;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }

  // TensorFlow's rule: a list or tuple holds one value per component;
  // anything else is the single component's value.
  TensorTuple ToTuple(const py::handle& vals) const {
    const auto& dtypes = q_->component_dtypes();
    std::vector<py::object> items;
    if (py::isinstance<py::list>(vals) || py::isinstance<py::tuple>(vals)) {
      for (const py::handle& v : vals)
        items.push_back(py::reinterpret_borrow<py::object>(v));
    } else {
      items.push_back(py::reinterpret_borrow<py::object>(vals));
    }
    if (items.size() != dtypes.size()) {
      ThrowStatus(absl::InvalidArgumentError(
          absl::StrCat("queue '", Sv(q_->name()), "' has ", dtypes.size(),
                       " components, got ", items.size(), " values")));
    }
    TensorTuple t;
    for (size_t i = 0; i < items.size(); ++i)
      t.push_back(TensorFromPython(items[i], dtypes[i]));
    return t;
  }
  py::object FromTuple(const TensorTuple& t) const {
    if (t.size() == 1) return TensorToNumpy(t[0]);
    return TupleToNumpy(t);
  }

  std::shared_ptr<QueueInterface> q_;
};

QueueOptions MakeOptions(int64_t capacity, const py::list& dtypes,
                         const py::object& shapes, const std::string& name) {
  QueueOptions o;
  o.name = name;
  o.capacity = capacity;
  for (const py::handle& d : dtypes) o.dtypes.push_back(ToDType(d));
  if (!shapes.is_none()) {
    for (const py::handle& s : shapes)
      o.shapes.push_back(TensorShape(s.cast<std::vector<int64_t>>()));
  }
  return o;
}

}  // namespace

void RegisterQueues(py::module_& m) {
  py::class_<PyCoordinator>(m, "Coordinator",
                            "The C++ coordinator's stop state.")
      .def(py::init<>())
      .def("request_stop", &PyCoordinator::RequestStop, py::arg("message") = "")
      .def("should_stop", &PyCoordinator::ShouldStop)
      .def("wait_for_stop", &PyCoordinator::WaitForStop,
           py::arg("timeout") = py::none())
      .def("clear_stop", &PyCoordinator::ClearStop);

  py::class_<PyQueue>(m, "Queue", "A sluice queue of tensor tuples.")
      .def("enqueue", &PyQueue::Enqueue, py::arg("vals"),
           py::arg("timeout") = py::none(), py::arg("coord") = py::none())
      .def("enqueue_many", &PyQueue::EnqueueMany, py::arg("vals"),
           py::arg("timeout") = py::none(), py::arg("coord") = py::none())
      .def("dequeue", &PyQueue::Dequeue, py::arg("timeout") = py::none(),
           py::arg("coord") = py::none())
      .def("dequeue_many", &PyQueue::DequeueMany, py::arg("n"),
           py::arg("timeout") = py::none(), py::arg("coord") = py::none())
      .def("dequeue_up_to", &PyQueue::DequeueUpTo, py::arg("n"),
           py::arg("timeout") = py::none(), py::arg("coord") = py::none())
      .def("close", &PyQueue::Close, py::arg("cancel_pending_enqueues") = false)
      .def("size", &PyQueue::Size)
      .def("is_closed", &PyQueue::IsClosed)
      .def_property_readonly("name", &PyQueue::Name)
      .def_property_readonly("dtypes", &PyQueue::DTypes);

  m.def(
      "make_fifo_queue",
      [](int64_t capacity, const py::list& dtypes, const py::object& shapes,
         const std::string& name) {
        return PyQueue(ValueOrThrow(
            FIFOQueue::Create(MakeOptions(capacity, dtypes, shapes, name))));
      },
      py::arg("capacity"), py::arg("dtypes"), py::arg("shapes"),
      py::arg("name"));
  m.def(
      "make_random_shuffle_queue",
      [](int64_t capacity, int64_t min_after_dequeue, const py::list& dtypes,
         const py::object& shapes, uint64_t seed, const std::string& name) {
        RandomShuffleQueueOptions o;
        o.queue = MakeOptions(capacity, dtypes, shapes, name);
        o.min_after_dequeue = min_after_dequeue;
        o.seed = seed;
        return PyQueue(ValueOrThrow(RandomShuffleQueue::Create(o)));
      },
      py::arg("capacity"), py::arg("min_after_dequeue"), py::arg("dtypes"),
      py::arg("shapes"), py::arg("seed"), py::arg("name"));
}

}  // namespace sluice::python
