#pragma once
// QueueRegistry: queues shared by name (TensorFlow's shared_name resources).
// Thread-safe. Queues live as long as the registry or any holder of the
// returned shared_ptr.

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "queues/queue.h"

namespace sluice {

class QueueRegistry {
 public:
  // Returns the queue registered as `shared_name`, after checking that
  // `candidate` (a freshly created queue describing what the caller wants)
  // is compatible with it: InvalidArgument naming the mismatching property
  // otherwise. When none is registered, registers and returns `candidate`.
  absl::StatusOr<std::shared_ptr<QueueInterface>> GetOrCreate(
      const std::string& shared_name, std::shared_ptr<QueueInterface> candidate)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Null when nothing is registered under the name.
  std::shared_ptr<QueueInterface> Lookup(const std::string& shared_name) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<QueueInterface>> queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice
