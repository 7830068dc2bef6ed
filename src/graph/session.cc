#include "graph/session.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>

#include <tbb/task_group.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/absl_compat.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/placement.h"

namespace sluice {

struct Session::Plan {
  struct In {
    int feed = -1;              // index into the run's feeds
    int producer = -1;          // step index
    int out = 0;                // producer output
    const Node* var = nullptr;  // ref edge: read this variable when the step runs
    bool ref_input = false;     // the kernel takes the variable itself
    const Device* src_device = nullptr;
  };
  struct Step {
    const Node* node = nullptr;
    const KernelDef* kernel = nullptr;
    const Device* device = nullptr;
    std::vector<In> inputs;
    std::vector<int> successors;
    int num_deps = 0;
  };
  struct Fetch {
    int feed = -1;
    int step = -1;
    int out = 0;
    const Node* var = nullptr;  // fetched variable: read when the run ends
  };
  std::vector<Step> steps;
  std::vector<Fetch> fetches;

  // Step capture: set when the plan's part on `capture_device` may be
  // recorded (SessionOptions::capture_device_steps and the conditions in
  // session.h); null otherwise.
  const Device* capture_device = nullptr;
  std::vector<char> on_capture_device;    // per step: 0 no, 1 yes, kBothSides
  std::vector<int> capture_feeds;         // feeds read by capture-device steps
  std::vector<const Node*> capture_vars;  // variables on the capture device
  std::unique_ptr<CaptureState> capture;

  // Per-run scratch, sized once per plan and reused so that a run makes no
  // per-node heap allocation in the executor. Concurrent runs of one plan
  // each take their own frame from the pool.
  struct Frame {
    explicit Frame(const Plan& plan);
    std::vector<std::vector<Tensor>> values;  // step outputs
    std::vector<std::vector<Tensor>> inputs;  // step input storage, kept empty
    std::unique_ptr<std::atomic<int>[]> pending;
    std::vector<int> ready;         // FIFO of runnable steps (each pushed once)
    int head = 0, tail = 0;
    std::vector<int> task_ready;    // made runnable by tasks; guarded by mu
    std::vector<int> executed;      // completion order, for RunMetadata
    std::mutex mu;  // std::mutex: cv waits on it
    std::condition_variable cv;
  };
  std::unique_ptr<Frame> AcquireFrame() const;
  void ReleaseFrame(std::unique_ptr<Frame> f) const;
  mutable absl::Mutex pool_mu;
  mutable std::vector<std::unique_ptr<Frame>> pool ABSL_GUARDED_BY(pool_mu);
};

Session::Plan::Frame::Frame(const Plan& plan)
    : values(plan.steps.size()),
      inputs(plan.steps.size()),
      pending(new std::atomic<int>[plan.steps.size()]),
      ready(plan.steps.size()) {
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    values[i].reserve(plan.steps[i].node->num_outputs());
    inputs[i].reserve(plan.steps[i].inputs.size());
  }
  task_ready.reserve(plan.steps.size());
  executed.reserve(plan.steps.size());
}

// Which nodes a run pass executes: all, only the capture device's, or
// only the others (the captured part is launched instead).
enum class Session::Pass : int { kAll, kCaptureDeviceOnly, kHostOnly };

// The recording of one plan's device part, and when to make or drop it.
struct Session::CaptureState {
  absl::Mutex mu;  // held for a whole run of the plan while capture is on
  int eager_runs ABSL_GUARDED_BY(mu) = 0;  // since the last recording was dropped
  uint64_t arena_bytes ABSL_GUARDED_BY(mu) = 0;  // largest device allocation of an eager run
  int wasted ABSL_GUARDED_BY(mu) = 0;  // recordings dropped before they paid off
  bool disabled ABSL_GUARDED_BY(mu) = false;
  int64_t replays ABSL_GUARDED_BY(mu) = 0;  // of the current recording
  std::unique_ptr<CapturedWork> work ABSL_GUARDED_BY(mu);
  std::vector<Tensor> feed_slots ABSL_GUARDED_BY(mu);     // per capture_feeds
  std::vector<Tensor> fetch_values ABSL_GUARDED_BY(mu);   // per fetch (capture-device steps)
  std::vector<std::shared_ptr<VariableState>> vars ABSL_GUARDED_BY(mu);  // per capture_vars
  std::vector<const void*> var_memory ABSL_GUARDED_BY(mu);
};

std::unique_ptr<Session::Plan::Frame> Session::Plan::AcquireFrame() const {
  {
    absl::MutexLock l(&pool_mu);
    if (!pool.empty()) {
      std::unique_ptr<Frame> f = std::move(pool.back());
      pool.pop_back();
      return f;
    }
  }
  return std::make_unique<Frame>(*this);
}

void Session::Plan::ReleaseFrame(std::unique_ptr<Frame> f) const {
  // Drop this run's tensors (they may be large, or device memory) but keep
  // the vectors' capacity.
  for (auto& v : f->values) v.clear();
  for (auto& v : f->inputs) v.clear();  // non-empty only after an error
  f->task_ready.clear();
  f->executed.clear();
  absl::MutexLock l(&pool_mu);
  pool.push_back(std::move(f));
}

namespace {

// The plan cache key: the (node, output) pairs of feeds, fetches and
// targets as raw bytes. Nodes live as long as the graph, so their addresses
// identify them; building it by names cost a few allocations per run.
void PlanKey(const FeedList& feeds, const std::vector<Output>& fetches,
             const std::vector<Operation>& targets, std::string* key) {
  key->clear();
  auto add = [key](const Node* n, int index) {
    key->append(reinterpret_cast<const char*>(&n), sizeof(n));
    key->append(reinterpret_cast<const char*>(&index), sizeof(index));
  };
  for (const auto& f : feeds) add(f.first.node(), f.first.index());
  add(nullptr, -1);
  for (const auto& f : fetches) add(f.node(), f.index());
  add(nullptr, -2);
  for (const auto& t : targets) add(t.valid() ? t.node() : nullptr, 0);
}

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
// Step capture: eager runs before recording (the first moves variables
// and constants onto the device), the fewest device kernels worth
// recording, the replays after which a recording has paid for itself, and
// how many recordings may be dropped before that until capture stops.
constexpr int kEagerRunsBeforeCapture = 2;
constexpr char kBothSides = 2;  // Plan::on_capture_device of a Const
constexpr int kMinCapturedKernels = 4;
constexpr int64_t kReplaysToPayOff = 4;
constexpr int kMaxWastedCaptures = 3;

// How long the executor waits for a running task to hand back newly
// ready nodes before it runs pending tasks itself.
constexpr auto kTaskHandBackWait = std::chrono::microseconds(200);

// The run deadline is checked on the clock every this many nodes (and
// before every blocking kernel, which also gets the deadline itself).
constexpr int kDeadlineCheckEvery = 16;

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

absl::Status Annotate(const absl::Status& s, const Node& node) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), " [[node ", node.name(), " (",
                                             node.type(), ")]]"));
}

}  // namespace

Session::Session(Graph* graph, SessionOptions options)
    : graph_(graph),
      options_(std::move(options)),
      devices_(options_.devices ? options_.devices : DeviceSet::Local()),
      print_(options_.print_sink) {
  ConfigureAbslMutexOnce();
}

Session::~Session() { (void)Close(); }

absl::Status Session::Close() {
  if (!closed_.exchange(true)) close_source_.request_stop();
  return absl::OkStatus();
}

std::vector<std::string> Session::placement_log() const {
  absl::MutexLock l(&mu_);
  return placement_log_;
}

absl::StatusOr<std::shared_ptr<const Session::Plan>> Session::GetPlan(
    const FeedList& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  thread_local std::string key;
  PlanKey(feeds, fetches, targets, &key);
  {
    absl::ReaderMutexLock l(&mu_);
    auto it = plans_.find(absl::string_view(key.data(), key.size()));
    if (it != plans_.end()) return it->second;
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, BuildPlan(feeds, fetches, targets));
  absl::MutexLock l(&mu_);
  plans_.emplace(key, plan);
  return plan;
}

absl::StatusOr<std::shared_ptr<const Session::Plan>> Session::BuildPlan(
    const FeedList& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  auto check_graph = [&](Graph* g, const std::string& what) -> absl::Status {
    if (g != graph_) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " belongs to graph '", g ? g->name() : std::string("<none>"),
          "', not to this session's graph '", graph_->name(), "'"));
    }
    return absl::OkStatus();
  };
  absl::flat_hash_map<Output, int> feed_index;
  for (size_t i = 0; i < feeds.size(); ++i) {
    const Output& o = feeds[i].first;
    if (!o.valid()) return absl::InvalidArgumentError("Cannot feed an invalid Output");
    SLUICE_RETURN_IF_ERROR(check_graph(o.graph(), absl::StrCat("Fed tensor ", o.name())));
    feed_index[o] = static_cast<int>(i);
  }
  auto plan = std::make_shared<Plan>();
  absl::flat_hash_map<const Node*, int> step_of;
  // Iterative post-order DFS: a node's step index comes after its inputs'.
  auto need = [&](const Node* root) -> absl::Status {
    if (step_of.contains(root)) return absl::OkStatus();
    std::vector<std::pair<const Node*, bool>> stack{{root, false}};
    absl::flat_hash_set<const Node*> on_stack;
    while (!stack.empty()) {
      auto [n, expanded] = stack.back();
      stack.pop_back();
      if (step_of.contains(n)) continue;
      if (expanded) {
        if (n->type() == "Placeholder") {
          const TensorShape* shape = n->attr<TensorShape>("shape");
          return absl::InvalidArgumentError(absl::StrCat(
              "You must feed a value for placeholder tensor '", n->name(), "' with dtype ",
              Sv(DTypeName(n->output_dtype(0))),
              shape != nullptr && n->output_rank_known(0)
                  ? absl::StrCat(" and shape ", shape->DebugString())
                  : std::string()));
        }
        step_of[n] = static_cast<int>(plan->steps.size());
        plan->steps.push_back(Plan::Step{n});
        continue;
      }
      if (on_stack.contains(n)) continue;
      on_stack.insert(n);
      stack.push_back({n, true});
      for (const Output& in : n->inputs()) {
        if (feed_index.contains(in)) continue;
        if (!step_of.contains(in.node())) stack.push_back({in.node(), false});
      }
      for (const Node* c : n->control_inputs()) {
        if (!step_of.contains(c)) stack.push_back({c, false});
      }
    }
    return absl::OkStatus();
  };
  for (const Output& f : fetches) {
    if (!f.valid()) return absl::InvalidArgumentError("Cannot fetch an invalid Output");
    SLUICE_RETURN_IF_ERROR(check_graph(f.graph(), absl::StrCat("Fetched tensor ", f.name())));
    if (!feed_index.contains(f)) SLUICE_RETURN_IF_ERROR(need(f.node()));
  }
  for (const Operation& t : targets) {
    if (!t.valid()) return absl::InvalidArgumentError("Cannot run an invalid Operation");
    SLUICE_RETURN_IF_ERROR(check_graph(t.graph(), absl::StrCat("Target ", t.name())));
    SLUICE_RETURN_IF_ERROR(need(t.node()));
  }

  Placer placer(devices_.get(), options_.allow_soft_placement);
  std::vector<std::string> new_log;
  for (Plan::Step& s : plan->steps) {
    SLUICE_ASSIGN_OR_RETURN(s.device, placer.Place(s.node));
    s.kernel = KernelRegistry::Global()->Find(*s.node, s.device->type());
    if (s.kernel == nullptr) {
      return absl::NotFoundError(absl::StrCat("No registered '", s.node->type(), "' OpKernel for ",
                                              Sv(DeviceTypeName(s.device->type())),
                                              " devices compatible with node '", s.node->name(),
                                              "' (dtype ", Sv(DTypeName(KernelDType(*s.node))),
                                              ")"));
    }
  }
  const int n = static_cast<int>(plan->steps.size());
  for (int i = 0; i < n; ++i) {
    Plan::Step& s = plan->steps[i];
    const auto& ref_inputs = s.node->op_def().ref_inputs;
    absl::flat_hash_set<int> deps;
    for (int k = 0; k < s.node->num_inputs(); ++k) {
      const Output& in = s.node->input(k);
      Plan::In edge;
      auto fit = feed_index.find(in);
      if (fit != feed_index.end()) {
        edge.feed = fit->second;
        edge.src_device = devices_->cpu();
      } else {
        edge.producer = step_of.at(in.node());
        edge.out = in.index();
        edge.src_device = plan->steps[edge.producer].device;
        deps.insert(edge.producer);
        if (in.node()->op_def().ref_output && in.index() == 0) {
          edge.var = in.node();
          edge.ref_input =
              std::find(ref_inputs.begin(), ref_inputs.end(), k) != ref_inputs.end();
        }
      }
      s.inputs.push_back(edge);
    }
    for (const Node* c : s.node->control_inputs()) deps.insert(step_of.at(c));
    s.num_deps = static_cast<int>(deps.size());
    for (int d : deps) plan->steps[d].successors.push_back(i);
  }
  for (const Output& f : fetches) {
    Plan::Fetch fetch;
    auto fit = feed_index.find(f);
    if (fit != feed_index.end()) {
      fetch.feed = fit->second;
    } else {
      fetch.step = step_of.at(f.node());
      fetch.out = f.index();
      if (f.node()->op_def().ref_output && f.index() == 0) fetch.var = f.node();
    }
    plan->fetches.push_back(fetch);
  }
  if (options_.capture_device_steps) {
    std::string why_not;
    const Device* dev = nullptr;
    int kernels = 0;
    for (const Plan::Step& s : plan->steps) {
      if (s.device->type() == DeviceType::kCPU) continue;
      if (dev != nullptr && dev != s.device) why_not = "nodes on more than one device";
      dev = s.device;
      if (s.kernel->blocking) why_not = absl::StrCat("blocking node ", s.node->name());
      if (!s.kernel->inexpensive) ++kernels;
    }
    if (dev != nullptr && kernels >= kMinCapturedKernels && why_not.empty()) {
      // A Const runs in both passes: its value is host memory whichever
      // device it is placed on, so it may feed nodes on either side.
      plan->on_capture_device.resize(n);
      for (int i = 0; i < n; ++i) {
        const Plan::Step& s = plan->steps[i];
        plan->on_capture_device[i] = s.node->type() == "Const" ? kBothSides : s.device == dev;
      }
      absl::flat_hash_set<int> feeds_used;
      for (int i = 0; i < n && why_not.empty(); ++i) {
        const Plan::Step& s = plan->steps[i];
        for (const Plan::In& in : s.inputs) {
          if (in.feed >= 0) {
            if (plan->on_capture_device[i]) feeds_used.insert(in.feed);
          } else if (plan->on_capture_device[in.producer] != kBothSides &&
                     plan->on_capture_device[in.producer] != plan->on_capture_device[i]) {
            why_not = absl::StrCat(plan->steps[in.producer].node->name(), " on ",
                                   plan->steps[in.producer].device->name(), " feeds ",
                                   s.node->name(), " on ", s.device->name());
            break;
          }
        }
        if (plan->on_capture_device[i] == 1 && s.node->op_def().ref_output) {
          plan->capture_vars.push_back(s.node);
        }
      }
      if (why_not.empty()) {
        plan->capture_device = dev;
        plan->capture_feeds.assign(feeds_used.begin(), feeds_used.end());
        std::sort(plan->capture_feeds.begin(), plan->capture_feeds.end());
        plan->capture = std::make_unique<CaptureState>();
      } else {
        plan->on_capture_device.clear();
        plan->capture_vars.clear();
      }
    }
    if (!why_not.empty() && options_.log_sink) {
      options_.log_sink(absl::StrCat("step capture off for a run signature: ", why_not));
    }
  }
  {
    absl::MutexLock l(&mu_);
    for (const Plan::Step& s : plan->steps) {
      auto [it, inserted] = placed_.emplace(s.node, s.device->name());
      if (inserted && options_.log_device_placement) {
        new_log.push_back(Placer::LogLine(*s.node, *s.device));
        placement_log_.push_back(new_log.back());
      }
    }
  }
  for (const std::string& line : new_log) {
    if (options_.log_sink) {
      options_.log_sink(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }
  return std::shared_ptr<const Plan>(std::move(plan));
}

absl::Status Session::Run(const FeedList& feeds, const std::vector<Output>& fetches,
                          std::vector<Tensor>* outputs) {
  return Run(RunOptions{}, feeds, fetches, {}, outputs);
}

absl::Status Session::Run(const FeedList& feeds, const std::vector<Output>& fetches,
                          const std::vector<Operation>& targets, std::vector<Tensor>* outputs) {
  return Run(RunOptions{}, feeds, fetches, targets, outputs);
}

absl::Status Session::Run(const RunOptions& run_options, const FeedList& feeds,
                          const std::vector<Output>& fetches,
                          const std::vector<Operation>& targets, std::vector<Tensor>* outputs,
                          RunMetadata* metadata) {
  if (closed()) return absl::FailedPreconditionError("Attempted to use a closed Session.");
  runs_in_flight_.fetch_add(1, std::memory_order_acq_rel);
  struct InFlight {
    std::atomic<int64_t>* n;
    ~InFlight() { n->fetch_sub(1, std::memory_order_acq_rel); }
  } in_flight{&runs_in_flight_};
  for (const auto& [out, value] : feeds) {
    if (!out.valid()) return absl::InvalidArgumentError("Cannot feed an invalid Output");
    if (!value.IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat("Fed value for ", out.name(), " is empty"));
    }
    if (value.dtype() != out.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot feed value of dtype ", Sv(DTypeName(value.dtype())), " for Tensor '", out.name(),
          "', which has dtype ", Sv(DTypeName(out.dtype()))));
    }
    if (out.rank_known() && !value.shape().IsCompatibleWith(out.shape())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Cannot feed value of shape ", value.shape().DebugString(), " for Tensor '", out.name(),
          "', which has shape ", out.shape().DebugString()));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, GetPlan(feeds, fetches, targets));

  // The run's stop token: Close()'s own when the caller gives none (no
  // allocation), else one source triggered by either.
  std::optional<std::stop_source> run_stop;
  std::optional<std::stop_callback<std::function<void()>>> on_close, on_caller_stop;
  std::stop_token stop_token = close_source_.get_token();
  if (run_options.stop.stop_possible()) {
    run_stop.emplace();
    on_close.emplace(stop_token, std::function<void()>([&run_stop] { run_stop->request_stop(); }));
    on_caller_stop.emplace(run_options.stop,
                           std::function<void()>([&run_stop] { run_stop->request_stop(); }));
    stop_token = run_stop->get_token();
  }
  absl::Time deadline = run_options.deadline;
  if (options_.operation_timeout != absl::InfiniteDuration()) {
    deadline = std::min(deadline, absl::Now() + options_.operation_timeout);
  }
  const bool has_deadline = deadline != absl::InfiniteFuture();
  const WaitOptions wait{deadline, stop_token};
  OpKernelContext::Env env;
  env.resources = &resources_;
  env.wait = &wait;
  env.print = &print_;
  env.update_variables_in_place = options_.capture_device_steps;

  const int n = static_cast<int>(plan->steps.size());
  std::unique_ptr<Plan::Frame> frame = plan->AcquireFrame();
  Plan::Frame& f = *frame;
  auto& values = f.values;

  // Per pass: which nodes run, the feeds they see (a capture reads its
  // input slots), and the context capture-device nodes run against.
  Pass pass = Pass::kAll;
  const FeedList* run_feeds = &feeds;
  DeviceContext* capture_ctx = nullptr;
  auto skipped = [&](int i) {
    switch (pass) {
      case Pass::kAll: return false;
      case Pass::kCaptureDeviceOnly: return plan->on_capture_device[i] == 0;
      case Pass::kHostOnly: return plan->on_capture_device[i] == 1;
    }
    return false;
  };

  auto execute = [&](int i) -> absl::Status {
    const Plan::Step& step = plan->steps[i];
    DeviceContext* ctx = capture_ctx != nullptr && plan->on_capture_device[i] != 0 &&
                                 step.device == plan->capture_device
                             ? capture_ctx
                             : step.device->context();
    std::vector<Tensor>& inputs = f.inputs[i];
    inputs.resize(step.inputs.size());
    for (size_t k = 0; k < step.inputs.size(); ++k) {
      const Plan::In& in = step.inputs[k];
      if (in.ref_input) continue;
      if (in.feed >= 0) {
        inputs[k] = (*run_feeds)[in.feed].second;
      } else if (in.var != nullptr) {
        SLUICE_RETURN_IF_ERROR(ReadVariableState(in.var, &resources_, &inputs[k]));
      } else {
        inputs[k] = values[in.producer][in.out];
      }
      // Host<->device copy insertion point: an edge between devices moves
      // the tensor through host memory.
      if (in.src_device != step.device) {
        SLUICE_ASSIGN_OR_RETURN(Tensor host, in.src_device->context()->CopyToHost(inputs[k]));
        SLUICE_ASSIGN_OR_RETURN(inputs[k], ctx->CopyToDevice(host));
      }
    }
    OpKernelContext::Env e = env;
    e.device = ctx;
    OpKernelContext kctx(step.node, std::move(inputs), std::move(values[i]), e);
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
    values[i] = std::move(kctx.outputs());
    return absl::OkStatus();
  };
  // Worth a oneTBB task: a CPU kernel with enough input to amortise the
  // hand-off. Device kernels only queue work on their stream: never.
  auto worth_a_task = [&](int i) {
    const Plan::Step& step = plan->steps[i];
    if (step.kernel->blocking || step.kernel->inexpensive ||
        step.device->type() != DeviceType::kCPU) {
      return false;
    }
    int64_t elements = 0;
    for (const Plan::In& in : step.inputs) {
      if (in.feed >= 0) {
        elements += (*run_feeds)[in.feed].second.NumElements();
      } else if (in.var == nullptr && in.producer >= 0) {
        elements += values[in.producer][in.out].NumElements();
      }
    }
    return elements >= kParallelMinElements;
  };

  // One pass over the plan: the calling thread runs nodes inline in
  // topological (FIFO) order with no lock; only while tasks are in flight
  // do finished tasks hand their newly ready successors back through
  // f.mu / f.task_ready. Skipped nodes count as done at once.
  auto run_pass = [&]() -> absl::Status {
    f.head = f.tail = 0;
    for (int i = 0; i < n; ++i) {
      const int deps = plan->steps[i].num_deps;
      f.pending[i].store(deps, std::memory_order_relaxed);
      if (deps == 0) f.ready[f.tail++] = i;
    }
    absl::Status status;
    int done = 0;
    std::atomic<int> tasks_done{0};
    int tasks_in_flight = 0;   // guarded by f.mu once a task is started
    absl::Status task_status;  // guarded by f.mu
    std::optional<TaskGroup> tasks;
    auto release_successors = [&](int i, std::vector<int>* out, int* tail) {
      for (int succ : plan->steps[i].successors) {
        if (f.pending[succ].fetch_sub(1, std::memory_order_acq_rel) == 1) {
          if (tail != nullptr) {
            f.ready[(*tail)++] = succ;
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
        std::unique_lock<std::mutex> l(f.mu);
        auto progress = [&] { return !f.task_ready.empty() || tasks_in_flight == 0; };
        if (f.head == f.tail && !f.cv.wait_for(l, kTaskHandBackWait, progress)) {
          // No task has handed anything back: run the pending ones here.
          // A task spawned from this (non-worker) thread sits in its own
          // pool until a worker steals it, and oneTBB's single worker on a
          // 2-core machine was seen asleep beside it for good (`sluice
          // train` hung); waiting on the group executes them instead.
          l.unlock();
          tasks->Wait();
          l.lock();
        }
        for (int succ : f.task_ready) f.ready[f.tail++] = succ;
        f.task_ready.clear();
        if (!task_status.ok()) {
          status = task_status;
          break;
        }
        // All tasks done: back to the lock-free inline path.
        if (tasks_in_flight == 0) tasks_started = false;
      }
      if (f.head == f.tail) break;  // nothing ready and no task in flight
      const int i = f.ready[f.head++];
      if (skipped(i)) {
        ++done;
        release_successors(i, nullptr, &f.tail);
        continue;
      }
      const Plan::Step& step = plan->steps[i];
      if (has_deadline && (dispatched % kDeadlineCheckEvery == 0 || step.kernel->blocking) &&
          absl::Now() > deadline) {
        status = absl::DeadlineExceededError("Run deadline exceeded");
        break;
      }
      if (stop_token.stop_requested()) {
        status = absl::CancelledError("Run was cancelled (session closed or stop requested)");
        break;
      }
      ++dispatched;
      if (f.head != f.tail && worth_a_task(i)) {
        if (!tasks) tasks.emplace();
        {
          std::lock_guard<std::mutex> l(f.mu);
          ++tasks_in_flight;
        }
        tasks_started = true;
        tasks->Run([&, i] {
          absl::Status s = execute(i);
          std::lock_guard<std::mutex> l(f.mu);
          --tasks_in_flight;
          if (s.ok()) {
            tasks_done.fetch_add(1, std::memory_order_relaxed);
            if (metadata != nullptr) f.executed.push_back(i);
            release_successors(i, &f.task_ready, nullptr);
          } else if (task_status.ok()) {
            task_status = std::move(s);
          }
          f.cv.notify_all();
        });
        continue;
      }
      absl::Status s = execute(i);
      if (!s.ok()) {
        status = std::move(s);
        break;
      }
      ++done;
      if (metadata != nullptr) {
        if (tasks_started) {
          std::lock_guard<std::mutex> l(f.mu);
          f.executed.push_back(i);
        } else {
          f.executed.push_back(i);
        }
      }
      release_successors(i, nullptr, &f.tail);
    }
    // Wait for tasks in flight (also on error: they reference this frame).
    if (tasks) tasks->Wait();
    if (status.ok() && !task_status.ok()) status = task_status;
    SLUICE_RETURN_IF_ERROR(status);
    done += tasks_done.load(std::memory_order_relaxed);
    if (done != n) return absl::InternalError("Run finished with nodes not executed");
    return absl::OkStatus();
  };

  // Step capture: decide how this run goes, holding the plan's capture
  // lock to the end of the run (the recording's slots and outputs are
  // shared by its launches).
  CaptureState* cs = metadata == nullptr ? plan->capture.get() : nullptr;
  struct Unlock {
    absl::Mutex* mu = nullptr;
    ~Unlock() {
      if (mu != nullptr) mu->Unlock();
    }
  } unlock;
  bool replayed = false;  // fetches of capture-device nodes come from cs
  absl::Status status;
  if (cs == nullptr) {
    status = run_pass();
  } else {
    cs->mu.Lock();
    unlock.mu = &cs->mu;
    status = RunCapturable(*plan, cs, feeds, [&](Pass p, DeviceContext* ctx, const FeedList* fl) {
      pass = p;
      capture_ctx = ctx;
      run_feeds = fl;
      absl::Status st = run_pass();
      pass = Pass::kAll;
      capture_ctx = nullptr;
      run_feeds = &feeds;
      return st;
    }, &values, &replayed);
  }
  auto release = [&] { plan->ReleaseFrame(std::move(frame)); };
  if (!status.ok()) {
    release();
    return status;
  }

  if (outputs != nullptr) {
    outputs->clear();
    for (size_t k = 0; k < plan->fetches.size(); ++k) {
      const Plan::Fetch& fetch = plan->fetches[k];
      Tensor t;
      if (fetch.feed >= 0) {
        t = feeds[fetch.feed].second;
      } else if (fetch.var != nullptr) {
        absl::Status st = ReadVariableState(fetch.var, &resources_, &t);
        if (!st.ok()) {
          release();
          return st;
        }
      } else if (replayed && plan->on_capture_device[fetch.step] == 1) {
        t = cs->fetch_values[k];
      } else {
        t = values[fetch.step][fetch.out];
      }
      const Device* dev = fetch.step >= 0 ? plan->steps[fetch.step].device : devices_->cpu();
      absl::StatusOr<Tensor> host = dev->context()->CopyToHost(t);
      if (!host.ok()) {
        release();
        return host.status();
      }
      outputs->push_back(*std::move(host));
    }
  }
  if (metadata != nullptr) {
    metadata->nodes_executed = n;
    metadata->executed.clear();
    for (int i : f.executed) metadata->executed.push_back(plan->steps[i].node->name());
  }
  release();
  return absl::OkStatus();
}

absl::Status Session::RunCapturable(
    const Plan& plan, CaptureState* cs, const FeedList& feeds,
    const std::function<absl::Status(Pass, DeviceContext*, const FeedList*)>& run_pass,
    std::vector<std::vector<Tensor>>* values, bool* replayed) {
  DeviceContext* dev = plan.capture_device->context();
  auto eager = [&]() -> absl::Status {
    const uint64_t before = dev->bytes_allocated();
    SLUICE_RETURN_IF_ERROR(run_pass(Pass::kAll, nullptr, &feeds));
    cs->arena_bytes = std::max<uint64_t>(cs->arena_bytes, dev->bytes_allocated() - before);
    ++cs->eager_runs;
    return absl::OkStatus();
  };
  // The memory each variable of the device part is in now (null: not
  // initialised or not on the device).
  auto var_memory = [&](std::vector<const void*>* out) -> absl::Status {
    out->clear();
    if (cs->vars.empty()) {
      for (const Node* v : plan.capture_vars) {
        SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> st, GetVariableState(&resources_, v));
        cs->vars.push_back(std::move(st));
      }
    }
    for (const auto& st : cs->vars) {
      absl::MutexLock l(&st->mu);
      const bool on_device = st->initialized && st->value.IsInitialized() &&
                             st->value.buffer()->allocator()->kind() == MemoryKind::kDevice;
      out->push_back(on_device ? st->value.raw_data() : nullptr);
    }
    return absl::OkStatus();
  };
  auto drop = [&] {
    if (cs->work != nullptr && cs->replays < kReplaysToPayOff && ++cs->wasted >= kMaxWastedCaptures) {
      cs->disabled = true;
      NoteCaptureFailure("recordings kept being invalidated (feed shapes or variables changing)");
    }
    cs->work.reset();
    cs->feed_slots.clear();
    cs->fetch_values.clear();
    cs->eager_runs = 0;
    cs->replays = 0;
  };
  auto launch = [&]() -> absl::Status {
    for (size_t k = 0; k < plan.capture_feeds.size(); ++k) {
      SLUICE_RETURN_IF_ERROR(dev->CopyInto(feeds[plan.capture_feeds[k]].second, cs->feed_slots[k]));
    }
    SLUICE_RETURN_IF_ERROR(cs->work->Launch());
    ++cs->replays;
    *replayed = true;
    return run_pass(Pass::kHostOnly, nullptr, &feeds);
  };

  if (cs->work != nullptr) {
    bool valid = true;
    for (size_t k = 0; k < plan.capture_feeds.size() && valid; ++k) {
      const Tensor& v = feeds[plan.capture_feeds[k]].second;
      valid = v.dtype() == cs->feed_slots[k].dtype() && v.shape() == cs->feed_slots[k].shape();
    }
    std::vector<const void*> now;
    SLUICE_RETURN_IF_ERROR(var_memory(&now));
    if (valid && now == cs->var_memory) {
      SLUICE_RETURN_IF_ERROR(launch());
      absl::MutexLock l(&mu_);
      ++capture_stats_.replays;
      return absl::OkStatus();
    }
    drop();
  }
  if (cs->disabled || cs->eager_runs < kEagerRunsBeforeCapture) return eager();

  // Record. Every variable must already be in device memory (the eager
  // runs put it there), so the recording never copies one.
  std::vector<const void*> before;
  SLUICE_RETURN_IF_ERROR(var_memory(&before));
  if (std::find(before.begin(), before.end(), nullptr) != before.end()) return eager();
  uint64_t slot_bytes = 0;
  for (int idx : plan.capture_feeds) slot_bytes += feeds[idx].second.ByteSize() + 256;
  const size_t arena = 2 * cs->arena_bytes + slot_bytes + (1u << 20);
  absl::StatusOr<std::unique_ptr<DeviceCapture>> cap = dev->BeginCapture(arena);
  if (!cap.ok()) {
    if (!absl::IsUnavailable(cap.status())) {
      cs->disabled = true;
      NoteCaptureFailure(std::string(cap.status().message()));
    }
    return eager();
  }
  std::vector<Tensor> saved;  // the variables' values, restored if recording fails
  for (const auto& st : cs->vars) {
    absl::MutexLock l(&st->mu);
    saved.push_back(st->value);
  }
  FeedList slot_feeds = feeds;
  std::vector<Tensor> slots;
  absl::Status st;
  for (int idx : plan.capture_feeds) {
    const Tensor& v = feeds[idx].second;
    Tensor slot(v.dtype(), v.shape(), (*cap)->context()->allocator());
    if (!slot.IsInitialized()) {
      st = absl::ResourceExhaustedError("no device memory for a captured step's input");
      break;
    }
    slot_feeds[idx].second = slot;
    slots.push_back(std::move(slot));
  }
  if (st.ok()) st = run_pass(Pass::kCaptureDeviceOnly, (*cap)->context(), &slot_feeds);
  absl::StatusOr<std::unique_ptr<CapturedWork>> work = (*cap)->Finish();
  if (st.ok()) st = work.status();
  std::vector<const void*> after;
  if (st.ok()) st = var_memory(&after);
  if (st.ok() && after != before) {
    st = absl::FailedPreconditionError("a variable of the step is not updated in place on the device");
  }
  if (!st.ok()) {
    // Nothing recorded ran: put the variables back and run the step as
    // usual, without capture from now on.
    for (size_t k = 0; k < cs->vars.size(); ++k) {
      absl::MutexLock l(&cs->vars[k]->mu);
      cs->vars[k]->value = saved[k];
    }
    for (auto& v : *values) v.clear();
    cs->disabled = true;
    NoteCaptureFailure(std::string(st.message()));
    return eager();
  }
  cs->work = *std::move(work);
  cs->feed_slots = std::move(slots);
  cs->var_memory = std::move(after);
  cs->fetch_values.assign(plan.fetches.size(), Tensor());
  for (size_t k = 0; k < plan.fetches.size(); ++k) {
    const Plan::Fetch& fetch = plan.fetches[k];
    if (fetch.step >= 0 && fetch.var == nullptr && plan.on_capture_device[fetch.step] == 1) {
      cs->fetch_values[k] = (*values)[fetch.step][fetch.out];
    }
  }
  for (auto& v : *values) v.clear();
  {
    absl::MutexLock l(&mu_);
    ++capture_stats_.captures;
    if (capture_stats_.captures == 1 && options_.log_sink) {
      options_.log_sink("step capture: the training step's device work is recorded once and replayed");
    }
  }
  // The recording has not run yet: this run is its first launch.
  SLUICE_RETURN_IF_ERROR(launch());
  absl::MutexLock l(&mu_);
  ++capture_stats_.replays;
  return absl::OkStatus();
}

void Session::NoteCaptureFailure(const std::string& why) {
  {
    absl::MutexLock l(&mu_);
    ++capture_stats_.failures;
    capture_stats_.last_failure = why;
  }
  if (options_.log_sink) options_.log_sink(absl::StrCat("step capture off for a run signature: ", why));
}

CaptureStats Session::capture_stats() const {
  absl::MutexLock l(&mu_);
  return capture_stats_;
}

absl::StatusOr<Tensor> Session::ReadVariable(const Variable& var) {
  if (!var.valid()) return absl::InvalidArgumentError("ReadVariable: invalid variable");
  Tensor t;
  SLUICE_RETURN_IF_ERROR(ReadVariableState(var.record()->var, &resources_, &t));
  return t;
}

absl::Status Session::AssignVariable(const Variable& var, const Tensor& value) {
  if (!var.valid()) return absl::InvalidArgumentError("AssignVariable: invalid variable");
  if (value.dtype() != var.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat("AssignVariable ", var.op_name(), ": dtype ",
                                                   Sv(DTypeName(value.dtype())), " != ",
                                                   Sv(DTypeName(var.dtype()))));
  }
  if (var.record()->validate_shape && !value.shape().IsCompatibleWith(var.shape())) {
    return absl::InvalidArgumentError(absl::StrCat("AssignVariable ", var.op_name(), ": shape ",
                                                   value.shape().DebugString(), " != ",
                                                   var.shape().DebugString()));
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> state,
                          GetVariableState(&resources_, var.record()->var));
  absl::MutexLock l(&state->mu);
  state->value = value;
  state->initialized = true;
  return absl::OkStatus();
}

bool Session::IsVariableInitialized(const Variable& var) {
  if (!var.valid()) return false;
  auto state = GetVariableState(&resources_, var.record()->var);
  if (!state.ok()) return false;
  absl::MutexLock l(&(*state)->mu);
  return (*state)->initialized;
}

}  // namespace sluice

namespace sluice {

absl::StatusOr<std::shared_ptr<QueueInterface>> Session::GetQueue(const Output& queue_handle) {
  if (!queue_handle.valid() || queue_handle.graph() != graph_) {
    return absl::InvalidArgumentError("GetQueue: not a queue handle of this session's graph");
  }
  if (auto q = resources_.Lookup<QueueInterface>(queue_handle.node())) return q;
  // Running the queue op creates the queue in this session.
  std::vector<Tensor> ignored;
  SLUICE_RETURN_IF_ERROR(Run({}, {queue_handle}, &ignored));
  auto q = resources_.Lookup<QueueInterface>(queue_handle.node());
  if (q == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", queue_handle.node()->name(), "' is not a queue op"));
  }
  return q;
}

}  // namespace sluice
