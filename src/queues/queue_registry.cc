#include "queues/queue_registry.h"

namespace sluice {

absl::StatusOr<std::shared_ptr<QueueInterface>> QueueRegistry::GetOrCreate(
    const std::string& shared_name, std::shared_ptr<QueueInterface> candidate) {
  if (candidate == nullptr) {
    return absl::InvalidArgumentError("QueueRegistry::GetOrCreate: null candidate queue");
  }
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(shared_name);
  if (it == queues_.end()) {
    queues_.emplace(shared_name, candidate);
    return candidate;
  }
  SLUICE_RETURN_IF_ERROR(it->second->CheckCompatibleForSharing(*candidate));
  return it->second;
}

std::shared_ptr<QueueInterface> QueueRegistry::Lookup(const std::string& shared_name) const {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(shared_name);
  return it == queues_.end() ? nullptr : it->second;
}

}  // namespace sluice
