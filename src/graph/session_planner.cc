// The planner, the Session's first part: builds and caches the Plan of a
// (feeds, fetches, targets) signature (contract: internal/session_plan.h),
// and keeps each plan's pool of per-run frames.
#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/internal/session_capture.h"
#include "graph/internal/session_plan.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/placement.h"

namespace sluice {
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

// Step capture: the fewest device kernels worth recording.
constexpr int kMinCapturedKernels = 4;

}  // namespace

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

absl::StatusOr<std::shared_ptr<const Session::Plan>> Session::GetPlan(
    const FeedList& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  SLUICE_RETURN_IF_ERROR(devices_status_);
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
        plan->on_capture_device[i] =
            s.node->type() == "Const" ? internal::kBothSides : s.device == dev;
      }
      absl::flat_hash_set<int> feeds_used;
      for (int i = 0; i < n && why_not.empty(); ++i) {
        const Plan::Step& s = plan->steps[i];
        for (const Plan::In& in : s.inputs) {
          if (in.feed >= 0) {
            if (plan->on_capture_device[i]) feeds_used.insert(in.feed);
          } else if (plan->on_capture_device[in.producer] != internal::kBothSides &&
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

}  // namespace sluice
