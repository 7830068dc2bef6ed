#include "graph/gradient_registry.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

GradientRegistry* GradientRegistry::Global() {
  static GradientRegistry* r = new GradientRegistry();
  return r;
}

absl::Status GradientRegistry::Register(std::string_view op, GradFunc fn) {
  absl::MutexLock l(&mu_);
  auto [it, inserted] = fns_.emplace(std::string(op), std::move(fn));
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("Gradient for op '", Sv(op), "' already registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GradFunc> GradientRegistry::Lookup(std::string_view op) const {
  absl::MutexLock l(&mu_);
  auto it = fns_.find(std::string(op));
  if (it == fns_.end()) {
    return absl::NotFoundError(absl::StrCat("No gradient defined for op: ", Sv(op)));
  }
  return it->second;
}

bool GradientRegistry::Has(std::string_view op) const {
  absl::MutexLock l(&mu_);
  return fns_.contains(std::string(op));
}

}  // namespace sluice
