#include "core/absl_compat.h"

#include "absl/synchronization/mutex.h"

namespace sluice {

void ConfigureAbslMutexOnce() {
#ifdef NDEBUG
  static const bool kDone = [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    return true;
  }();
  (void)kDone;
#endif
}

}  // namespace sluice
