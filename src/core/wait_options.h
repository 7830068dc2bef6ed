#pragma once
// WaitOptions: how long a blocking call may wait and what can wake it early.
// Every blocking call in sluice takes one. A call that waits past `deadline`
// returns DeadlineExceeded; a call whose `stop` token is triggered returns
// Cancelled. Both leave the object they waited on as it was (see each
// call's contract for the exact guarantee).

#include <stop_token>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sluice {

struct WaitOptions {
  absl::Time deadline = absl::InfiniteFuture();
  // A default-constructed token can never be triggered.
  std::stop_token stop;

  static WaitOptions Timeout(absl::Duration d, std::stop_token s = {}) {
    return WaitOptions{absl::Now() + d, std::move(s)};
  }
  static WaitOptions Until(absl::Time t, std::stop_token s = {}) {
    return WaitOptions{t, std::move(s)};
  }
  static WaitOptions StopOn(std::stop_token s) {
    return WaitOptions{absl::InfiniteFuture(), std::move(s)};
  }
};

}  // namespace sluice
