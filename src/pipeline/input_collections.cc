#include "pipeline/input_collections.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"

namespace sluice {
namespace {

std::string TagOf(const std::string& scope, const QueueInterface& q) {
  return absl::StrCat(scope, "/", q.stats().FillSummaryTag());
}

}  // namespace

void FillSummaries::Add(std::string scope, std::shared_ptr<QueueInterface> queue) {
  absl::MutexLock lock(&mu_);
  entries_.emplace_back(std::move(scope), std::move(queue));
}

std::vector<ScalarSummary> FillSummaries::Collect() const {
  absl::MutexLock lock(&mu_);
  std::vector<ScalarSummary> out;
  for (const auto& [scope, q] : entries_) {
    const QueueStats s = q->stats();
    const double v = s.min_after_dequeue > 0 ? s.FractionOverMinFull() : s.FractionFull();
    out.push_back({TagOf(scope, *q), v});
  }
  return out;
}

std::vector<std::string> FillSummaries::Tags() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [scope, q] : entries_) out.push_back(TagOf(scope, *q));
  return out;
}

}  // namespace sluice
