#include "graph/internal/session_executor.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

#include <tbb/task_group.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {
namespace {

// Runs the executor's parallel nodes on oneTBB. oneTBB is not built with
// ThreadSanitizer, which then reports every task hand-off (the task's copy
// of its closure) as a race; TSan builds run each task on a plain thread
// instead: slower, but every hand-off is visible to the checker.
class TaskGroup {
 public:
  template <typename Fn>
  void Run(Fn fn) {
#if defined(__SANITIZE_THREAD__)
    threads_.emplace_back(std::move(fn));
#else
    tasks_.run(std::move(fn));
#endif
  }
  void Wait() {
#if defined(__SANITIZE_THREAD__)
    for (std::thread& t : threads_) t.join();
    threads_.clear();
#else
    tasks_.wait();
#endif
  }

 private:
#if defined(__SANITIZE_THREAD__)
  std::vector<std::thread> threads_;
#else
  tbb::task_group tasks_;
#endif
};

// Below this many input elements a CPU kernel is cheaper to run inline than
// to hand to a oneTBB worker (a task hand-off costs a few microseconds).
constexpr int64_t kParallelMinElements = 4096;

// How long the executor waits for a running task to hand back newly
// ready nodes before it runs pending tasks itself.
constexpr auto kTaskHandBackWait = std::chrono::microseconds(200);

// The run deadline is checked on the clock every this many nodes (and
// before every blocking kernel, which also gets the deadline itself).
constexpr int kDeadlineCheckEvery = 16;

absl::Status Annotate(const absl::Status& s, const Node& node) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), " [[node ", node.name(), " (",
                                             node.type(), ")]]"));
}

}  // namespace

namespace internal {

absl::Status ReadVariableState(const Node* var, ResourceMgr* resources, Tensor* out) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> state, GetVariableState(resources, var));
  absl::MutexLock l(&state->mu);
  if (!state->initialized) {
    return absl::FailedPreconditionError(
        absl::StrCat("Attempting to use uninitialized value ", var->name()));
  }
  *out = state->value;
  return absl::OkStatus();
}

}  // namespace internal

Session::Executor::Executor(const Plan& plan, Plan::Frame* frame, const OpKernelContext::Env& env,
                            ResourceMgr* resources, absl::Time deadline, std::stop_token stop,
                            bool record_executed)
    : plan_(plan),
      f_(*frame),
      env_(env),
      resources_(resources),
      deadline_(deadline),
      has_deadline_(deadline != absl::InfiniteFuture()),
      stop_(std::move(stop)),
      record_executed_(record_executed) {}

absl::Status Session::Executor::RunPass(Pass pass, DeviceContext* capture_ctx,
                                        const FeedList& feeds) {
  pass_ = pass;
  capture_ctx_ = capture_ctx;
  feeds_ = &feeds;
  absl::Status st = RunSteps();
  pass_ = Pass::kAll;
  capture_ctx_ = nullptr;
  feeds_ = nullptr;
  return st;
}

bool Session::Executor::Skipped(int i) const {
  switch (pass_) {
    case Pass::kAll: return false;
    case Pass::kCaptureDeviceOnly: return plan_.on_capture_device[i] == 0;
    case Pass::kHostOnly: return plan_.on_capture_device[i] == 1;
  }
  return false;
}

absl::Status Session::Executor::Execute(int i) {
  const Plan::Step& step = plan_.steps[i];
  DeviceContext* ctx = capture_ctx_ != nullptr && plan_.on_capture_device[i] != 0 &&
                               step.device == plan_.capture_device
                           ? capture_ctx_
                           : step.device->context();
  std::vector<Tensor>& inputs = f_.inputs[i];
  inputs.resize(step.inputs.size());
  for (size_t k = 0; k < step.inputs.size(); ++k) {
    const Plan::In& in = step.inputs[k];
    if (in.ref_input) continue;
    if (in.feed >= 0) {
      inputs[k] = (*feeds_)[in.feed].second;
    } else if (in.var != nullptr) {
      SLUICE_RETURN_IF_ERROR(internal::ReadVariableState(in.var, resources_, &inputs[k]));
    } else {
      inputs[k] = f_.values[in.producer][in.out];
    }
    // Host<->device copy insertion point: an edge between devices moves
    // the tensor through host memory.
    if (in.src_device != step.device) {
      SLUICE_ASSIGN_OR_RETURN(Tensor host, in.src_device->context()->CopyToHost(inputs[k]));
      SLUICE_ASSIGN_OR_RETURN(inputs[k], ctx->CopyToDevice(host));
    }
  }
  OpKernelContext::Env e = env_;
  e.device = ctx;
  OpKernelContext kctx(step.node, std::move(inputs), std::move(f_.values[i]), e);
  if (ctx->type() != DeviceType::kCPU) {
    SLUICE_RETURN_IF_ERROR(Annotate(ctx->BindToThread(), *step.node));
  }
  absl::Status st = step.kernel->fn(&kctx);
  // Keep the input vector for the next run, without this run's tensors.
  inputs = kctx.TakeInputs();
  inputs.clear();
  SLUICE_RETURN_IF_ERROR(Annotate(st, *step.node));
  for (int k = 0; k < step.node->num_outputs(); ++k) {
    if (!kctx.outputs()[k].IsInitialized()) {
      return absl::InternalError(absl::StrCat("Kernel for '", step.node->name(), "' (",
                                              step.node->type(), ") did not set output ", k));
    }
  }
  f_.values[i] = std::move(kctx.outputs());
  if (fetch_ready_ != nullptr && step.device->type() == DeviceType::kCPU) {
    for (size_t k = 0; k < plan_.fetches.size(); ++k) {
      const Plan::Fetch& fetch = plan_.fetches[k];
      if (fetch.step == i && fetch.feed < 0 && fetch.var == nullptr) {
        (*fetch_ready_)(static_cast<int>(k), f_.values[i][fetch.out]);
      }
    }
  }
  return absl::OkStatus();
}

// Device kernels only queue work on their stream: never a task.
bool Session::Executor::WorthATask(int i) const {
  const Plan::Step& step = plan_.steps[i];
  if (step.kernel->blocking || step.kernel->inexpensive ||
      step.device->type() != DeviceType::kCPU) {
    return false;
  }
  int64_t elements = 0;
  for (const Plan::In& in : step.inputs) {
    if (in.feed >= 0) {
      elements += (*feeds_)[in.feed].second.NumElements();
    } else if (in.var == nullptr && in.producer >= 0) {
      elements += f_.values[in.producer][in.out].NumElements();
    }
  }
  return elements >= kParallelMinElements;
}

// The calling thread runs nodes inline in topological (FIFO) order with no
// lock; only while tasks are in flight do finished tasks hand their newly
// ready successors back through f_.mu / f_.task_ready.
absl::Status Session::Executor::RunSteps() {
  const int n = static_cast<int>(plan_.steps.size());
  f_.head = f_.tail = 0;
  for (int i = 0; i < n; ++i) {
    const int deps = plan_.steps[i].num_deps;
    f_.pending[i].store(deps, std::memory_order_relaxed);
    if (deps == 0) f_.ready[f_.tail++] = i;
  }
  absl::Status status;
  int done = 0;
  std::atomic<int> tasks_done{0};
  int tasks_in_flight = 0;   // guarded by f_.mu once a task is started
  absl::Status task_status;  // guarded by f_.mu
  std::optional<TaskGroup> tasks;
  auto release_successors = [&](int i, std::vector<int>* out, int* tail) {
    for (int succ : plan_.steps[i].successors) {
      if (f_.pending[succ].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        if (tail != nullptr) {
          f_.ready[(*tail)++] = succ;
        } else {
          out->push_back(succ);
        }
      }
    }
  };
  int dispatched = 0;
  bool tasks_started = false;
  while (true) {
    if (tasks_started) {
      std::unique_lock<std::mutex> l(f_.mu);
      auto progress = [&] { return !f_.task_ready.empty() || tasks_in_flight == 0; };
      if (f_.head == f_.tail && !f_.cv.wait_for(l, kTaskHandBackWait, progress)) {
        // No task has handed anything back: run the pending ones here.
        // A task spawned from this (non-worker) thread sits in its own
        // pool until a worker steals it, and oneTBB's single worker on a
        // 2-core machine was seen asleep beside it for good (`sluice
        // train` hung); waiting on the group executes them instead.
        l.unlock();
        tasks->Wait();
        l.lock();
      }
      for (int succ : f_.task_ready) f_.ready[f_.tail++] = succ;
      f_.task_ready.clear();
      if (!task_status.ok()) {
        status = task_status;
        break;
      }
      // All tasks done: back to the lock-free inline path.
      if (tasks_in_flight == 0) tasks_started = false;
    }
    if (f_.head == f_.tail) break;  // nothing ready and no task in flight
    const int i = f_.ready[f_.head++];
    if (Skipped(i)) {
      ++done;
      release_successors(i, nullptr, &f_.tail);
      continue;
    }
    const Plan::Step& step = plan_.steps[i];
    if (has_deadline_ && (dispatched % kDeadlineCheckEvery == 0 || step.kernel->blocking) &&
        absl::Now() > deadline_) {
      status = absl::DeadlineExceededError("Run deadline_ exceeded");
      break;
    }
    if (stop_.stop_requested()) {
      status = absl::CancelledError("Run was cancelled (session closed or stop requested)");
      break;
    }
    ++dispatched;
    if (f_.head != f_.tail && WorthATask(i)) {
      if (!tasks) tasks.emplace();
      {
        std::lock_guard<std::mutex> l(f_.mu);
        ++tasks_in_flight;
      }
      tasks_started = true;
      tasks->Run([&, i] {
        absl::Status s = Execute(i);
        std::lock_guard<std::mutex> l(f_.mu);
        --tasks_in_flight;
        if (s.ok()) {
          tasks_done.fetch_add(1, std::memory_order_relaxed);
          if (record_executed_) f_.executed.push_back(i);
          release_successors(i, &f_.task_ready, nullptr);
        } else if (task_status.ok()) {
          task_status = std::move(s);
        }
        f_.cv.notify_all();
      });
      continue;
    }
    absl::Status s = Execute(i);
    if (!s.ok()) {
      status = std::move(s);
      break;
    }
    ++done;
    if (record_executed_) {
      if (tasks_started) {
        std::lock_guard<std::mutex> l(f_.mu);
        f_.executed.push_back(i);
      } else {
        f_.executed.push_back(i);
      }
    }
    release_successors(i, nullptr, &f_.tail);
  }
  // Wait for tasks in flight (also on error: they reference this frame).
  if (tasks) tasks->Wait();
  if (status.ok() && !task_status.ok()) status = task_status;
  SLUICE_RETURN_IF_ERROR(status);
  done += tasks_done.load(std::memory_order_relaxed);
  if (done != n) return absl::InternalError("Run finished with nodes not executed");
  return absl::OkStatus();
}

}  // namespace sluice
