// Step capture, the Session's third part: records a plan's device part
// once and launches the recording (contract: internal/session_capture.h).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/internal/session_capture.h"
#include "graph/internal/session_plan.h"

namespace sluice {
namespace {

// Eager runs before recording (the first moves variables and constants
// onto the device), the replays after which a recording has paid for
// itself, and how many recordings may be dropped before that until capture
// stops.
constexpr int kEagerRunsBeforeCapture = 2;
constexpr int64_t kReplaysToPayOff = 4;
constexpr int kMaxWastedCaptures = 3;
// Recordings of one plan that read their feeds in place (one per staging
// slot of the prefetcher feeding it; its depth is 2-4 in practice).
constexpr size_t kMaxRecordings = 8;


}  // namespace

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
    if (!cs->recordings.empty() && cs->replays < kReplaysToPayOff &&
        ++cs->wasted >= kMaxWastedCaptures) {
      cs->disabled = true;
      NoteCaptureFailure("recordings kept being invalidated (feed shapes or variables changing)");
    }
    cs->recordings.clear();
    cs->fetch_values.clear();
    cs->eager_runs = 0;
    cs->replays = 0;
  };
  // Whether every feed the device part reads is in a staging slot: a
  // recording then reads it in place. (Other device tensors change address
  // from run to run, so they are copied like host ones.)
  bool feeds_on_device = options_.capture_feeds_in_place && !plan.capture_feeds.empty();
  for (int idx : plan.capture_feeds) feeds_on_device = feeds_on_device && IsStagingSlot(feeds[idx].second);
  auto same_types = [&](const CaptureState::Recording& r) {
    for (size_t k = 0; k < plan.capture_feeds.size(); ++k) {
      const Tensor& v = feeds[plan.capture_feeds[k]].second;
      if (v.dtype() != r.dtypes[k] || v.shape() != r.shapes[k]) return false;
    }
    return true;
  };
  auto serves = [&](const CaptureState::Recording& r) {
    if (!same_types(r)) return false;
    if (!r.feeds_in_place) return !feeds_on_device;
    if (!feeds_on_device) return false;
    for (size_t k = 0; k < plan.capture_feeds.size(); ++k) {
      if (feeds[plan.capture_feeds[k]].second.raw_data() != r.feed_data[k]) return false;
    }
    return true;
  };
  auto launch = [&](const CaptureState::Recording& r) -> absl::Status {
    if (!r.feeds_in_place) {
      for (size_t k = 0; k < plan.capture_feeds.size(); ++k) {
        SLUICE_RETURN_IF_ERROR(dev->CopyInto(feeds[plan.capture_feeds[k]].second, r.feed_slots[k]));
      }
    }
    SLUICE_RETURN_IF_ERROR(r.work->Launch());
    ++cs->replays;
    cs->fetch_values = r.fetch_values;
    *replayed = true;
    {
      absl::MutexLock l(&mu_);
      ++capture_stats_.replays;
    }
    return run_pass(Pass::kHostOnly, nullptr, &feeds);
  };

  if (!cs->recordings.empty()) {
    std::vector<const void*> now;
    SLUICE_RETURN_IF_ERROR(var_memory(&now));
    bool keep = now == cs->var_memory;
    const CaptureState::Recording* match = nullptr;
    for (const CaptureState::Recording& r : cs->recordings) {
      if (keep && serves(r)) {
        match = &r;
        break;
      }
    }
    if (match != nullptr) return launch(*match);
    // Another staging slot of the same batch shape: record for it too.
    const bool new_slot = keep && feeds_on_device && same_types(cs->recordings.front()) &&
                          cs->recordings.front().feeds_in_place;
    if (!new_slot || cs->recordings.size() >= kMaxRecordings) drop();
  }
  if (cs->disabled || cs->eager_runs < kEagerRunsBeforeCapture) return eager();

  // Record. Every variable must already be in device memory (the eager
  // runs put it there), so the recording never copies one.
  std::vector<const void*> before;
  SLUICE_RETURN_IF_ERROR(var_memory(&before));
  if (std::find(before.begin(), before.end(), nullptr) != before.end()) return eager();
  uint64_t slot_bytes = 0;
  if (!feeds_on_device) {
    for (int idx : plan.capture_feeds) slot_bytes += feeds[idx].second.ByteSize() + 256;
  }
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
  CaptureState::Recording rec;
  rec.feeds_in_place = feeds_on_device;
  FeedList slot_feeds = feeds;
  absl::Status st;
  for (int idx : plan.capture_feeds) {
    const Tensor& v = feeds[idx].second;
    rec.dtypes.push_back(v.dtype());
    rec.shapes.push_back(v.shape());
    if (feeds_on_device) {
      rec.feed_data.push_back(v.raw_data());  // the address, not the tensor
      continue;
    }
    Tensor slot(v.dtype(), v.shape(), (*cap)->context()->allocator());
    if (!slot.IsInitialized()) {
      st = absl::ResourceExhaustedError("no device memory for a captured step's input");
      break;
    }
    slot_feeds[idx].second = slot;
    rec.feed_slots.push_back(std::move(slot));
  }
  if (st.ok()) st = run_pass(Pass::kCaptureDeviceOnly, (*cap)->context(), &slot_feeds);
  slot_feeds.clear();
  absl::StatusOr<std::unique_ptr<CapturedWork>> work = (*cap)->Finish();
  if (st.ok()) st = work.status();
  std::vector<const void*> after;
  if (st.ok()) st = var_memory(&after);
  if (st.ok() && after != before) {
    st = absl::FailedPreconditionError("a variable of the step is not updated in place on the device");
  }
  rec.fetch_values.assign(plan.fetches.size(), Tensor());
  for (size_t k = 0; k < plan.fetches.size() && st.ok(); ++k) {
    const Plan::Fetch& fetch = plan.fetches[k];
    if (fetch.step >= 0 && fetch.var == nullptr && plan.on_capture_device[fetch.step] == 1) {
      rec.fetch_values[k] = (*values)[fetch.step][fetch.out];
      // Holding a feed here would keep its staging slot from the prefetcher.
      for (int idx : plan.capture_feeds) {
        if (feeds_on_device && rec.fetch_values[k].SharesBufferWith(feeds[idx].second)) {
          st = absl::FailedPreconditionError("a fetch of the recorded step is a fed tensor itself");
        }
      }
    }
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
    cs->recordings.clear();
    NoteCaptureFailure(std::string(st.message()));
    return eager();
  }
  rec.work = *std::move(work);
  cs->var_memory = std::move(after);
  for (auto& v : *values) v.clear();
  cs->recordings.push_back(std::move(rec));
  {
    absl::MutexLock l(&mu_);
    ++capture_stats_.captures;
    if (capture_stats_.captures == 1 && options_.log_sink) {
      options_.log_sink("step capture: the training step's device work is recorded once and replayed");
    }
  }
  // The recording has not run yet: this run is its first launch.
  return launch(cs->recordings.back());
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

}  // namespace sluice
