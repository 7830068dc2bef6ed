#pragma once
// Per-session state owned by stateful nodes: variable values, queues, the
// random generators of random ops. TensorFlow keeps these in a session's
// ResourceMgr; so does sluice, keyed by the node that owns them, so two
// sessions over one graph have separate variables and queues.
//
// Thread-safe.

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/random.h"
#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"

namespace sluice {

// A variable's value in one session. Readers take a handle to `value`
// under `mu`; writers store a new tensor, or update in place only when no
// one else holds the buffer (so a handle once read never changes).
struct VariableState {
  absl::Mutex mu;
  Tensor value ABSL_GUARDED_BY(mu);
  bool initialized ABSL_GUARDED_BY(mu) = false;
};

// The generator of one random op; runs draw successive values.
struct RandomState {
  explicit RandomState(uint64_t seed, uint64_t seed2) : rng(seed, seed2) {}
  absl::Mutex mu;
  Random rng ABSL_GUARDED_BY(mu);
};

class ResourceMgr {
 public:
  // The resource of `node`, created by `create` on first use. The creator
  // runs at most once per node (under the manager's lock: keep it cheap and
  // non-blocking). Its error is returned and nothing is stored.
  template <typename T>
  absl::StatusOr<std::shared_ptr<T>> LookupOrCreate(
      const Node* node, const std::function<absl::StatusOr<std::shared_ptr<T>>()>& create) {
    absl::MutexLock l(&mu_);
    auto it = resources_.find(node);
    if (it != resources_.end()) return std::static_pointer_cast<T>(it->second);
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<T> r, create());
    resources_[node] = r;
    return r;
  }
  // Null when the node has no resource yet.
  template <typename T>
  std::shared_ptr<T> Lookup(const Node* node) const {
    absl::MutexLock l(&mu_);
    auto it = resources_.find(node);
    return it == resources_.end() ? nullptr : std::static_pointer_cast<T>(it->second);
  }
  // Every resource, for shutdown (Session::Close closes queues).
  std::vector<std::pair<const Node*, std::shared_ptr<void>>> All() const {
    absl::MutexLock l(&mu_);
    return {resources_.begin(), resources_.end()};
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<const Node*, std::shared_ptr<void>> resources_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice
