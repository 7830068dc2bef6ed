#pragma once
// Kernels: the code that runs a node, registered per (op type, device type,
// dtype). CPU kernels wrap the Eigen functions of src/kernels; the CUDA
// issue registers DeviceType::kGPU kernels for the same op names and the
// placer starts choosing them without other changes.
//
// A kernel reads its inputs and attributes from an OpKernelContext and sets
// every output. Kernels that can block (queue operations) are marked
// `blocking`: the session runs them on its own thread, never inside a oneTBB
// task, and they must pass ctx->wait() to every blocking call so that run
// deadlines and Session::Close() wake them.
//
// Thread-safe: registration and lookup may happen from any thread; a
// kernel function may run concurrently with itself on different nodes (and
// on the same node in concurrent runs).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "graph/graph.h"
#include "graph/resource_mgr.h"
#include "device/device_context.h"

namespace sluice {

class OpKernelContext;
using KernelFn = std::function<absl::Status(OpKernelContext*)>;

struct KernelDef {
  std::string op;
  DeviceType device = DeviceType::kCPU;
  // Accepted values of the node's kernel dtype (KernelDType); empty: any.
  std::vector<DType> dtypes;
  bool blocking = false;
  // Cheap kernels (constants, identity, variable refs) run inline instead
  // of as a oneTBB task.
  bool inexpensive = false;
  KernelFn fn;
};

// The dtype a kernel is chosen by: attr "T" when present, else "dtype",
// else output 0's dtype, else input 0's, else float.
DType KernelDType(const Node& node);

class KernelRegistry {
 public:
  // The process-wide registry, with the built-in CPU kernels registered.
  static KernelRegistry* Global();

  void Register(KernelDef def) ABSL_LOCKS_EXCLUDED(mu_);
  // The kernel for `node` on `device`, or null. Stable pointer.
  const KernelDef* Find(const Node& node, DeviceType device) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<KernelDef>>> kernels_
      ABSL_GUARDED_BY(mu_);
};

// What a running kernel sees. Made by the session for one node execution;
// not thread-safe (one kernel call uses it).
class OpKernelContext {
 public:
  const Node& node() const { return *node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // Input i's value. For ref inputs (OpDef::ref_inputs) this is empty: use
  // variable(i).
  const Tensor& input(int i) const { return inputs_[i]; }
  // The variable behind ref input i (created uninitialised on first use).
  absl::StatusOr<std::shared_ptr<VariableState>> variable(int i) const;
  void set_output(int i, Tensor t);

  template <typename T>
  absl::StatusOr<T> GetAttr(std::string_view name) const {
    return node_->GetAttr<T>(name);
  }

  DeviceContext* device() const { return device_; }
  ResourceMgr* resources() const { return resources_; }
  // Deadline and stop token of the run (Session::Close and RunOptions).
  const WaitOptions& wait() const { return *wait_; }
  // Writes one line to the session's print sink (Print op).
  void Print(std::string_view line) const;
  // Whether a variable update should write the variable's current device
  // tensor in place instead of a new one (sessions with step capture, so
  // every run signature sees the same variable memory; see session.h).
  bool update_variables_in_place() const { return in_place_; }

  // For the executor.
  struct Env {
    DeviceContext* device = nullptr;
    ResourceMgr* resources = nullptr;
    const WaitOptions* wait = nullptr;
    const std::function<void(std::string_view)>* print = nullptr;
    bool update_variables_in_place = false;
  };
  OpKernelContext(const Node* node, std::vector<Tensor> inputs, const Env& env);
  // Same, with `outputs` as storage to reuse (cleared, then sized to the
  // node's outputs): with TakeInputs(), lets the executor keep both vectors
  // across runs instead of allocating two per node execution.
  OpKernelContext(const Node* node, std::vector<Tensor> inputs, std::vector<Tensor> outputs,
                  const Env& env);
  std::vector<Tensor>& outputs() { return outputs_; }
  // The input vector back, once the kernel has returned.
  std::vector<Tensor> TakeInputs() { return std::move(inputs_); }

 private:
  const Node* node_;
  std::vector<Tensor> inputs_;
  std::vector<Tensor> outputs_;
  DeviceContext* device_;
  ResourceMgr* resources_;
  const WaitOptions* wait_;
  const std::function<void(std::string_view)>* print_;
  bool in_place_;
};

// The VariableState of a VariableV2 node in `resources` (created on first
// use, uninitialised).
absl::StatusOr<std::shared_ptr<VariableState>> GetVariableState(ResourceMgr* resources,
                                                                const Node* var_node);

}  // namespace sluice
