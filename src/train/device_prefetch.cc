#include "train/device_prefetch.h"

namespace sluice::train {

DevicePrefetcher::DevicePrefetcher(std::unique_ptr<Iterator> it, DeviceContext* device, int depth,
                                   std::vector<int> copy_components, StageMetrics* metrics)
    : it_(std::move(it)),
      device_(device),
      depth_(depth < 1 ? 1 : depth),
      copy_(std::move(copy_components)),
      metrics_(metrics) {
  thread_ = std::thread([this] { Loop(); });
}

DevicePrefetcher::~DevicePrefetcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DevicePrefetcher::Loop() {
  PhaseClock clock(metrics_);
  while (true) {
    clock.Switch(StagePhase::kInputWait);
    absl::StatusOr<TensorTuple> host = it_->GetNext();
    clock.Switch(StagePhase::kBusy);
    absl::Status st = host.status();
    TensorTuple batch;
    if (st.ok()) {
      batch = std::move(*host);
      for (int c : copy_) {
        if (c >= static_cast<int>(batch.size())) continue;
        absl::StatusOr<Tensor> d = device_->CopyToDevice(batch[c]);
        if (!d.ok()) {
          st = d.status();
          break;
        }
        batch[c] = std::move(*d);
      }
      if (metrics_ != nullptr && st.ok()) metrics_->AddItems(1, TuplePayloadBytes(batch));
    }
    clock.Switch(StagePhase::kOutputWait);
    std::unique_lock<std::mutex> l(mu_);
    if (!st.ok()) {
      if (!absl::IsOutOfRange(st)) error_ = st;
      done_ = true;
      cv_.notify_all();
      return;
    }
    cv_.wait(l, [&] { return stop_ || ready_.size() < depth_; });
    if (stop_) return;
    ready_.push_back(std::move(batch));
    cv_.notify_all();
  }
}

absl::StatusOr<std::optional<TensorTuple>> DevicePrefetcher::Next() {
  std::unique_lock<std::mutex> l(mu_);
  last_fill_ = static_cast<double>(ready_.size()) / static_cast<double>(depth_);
  cv_.wait(l, [&] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    TensorTuple t = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return std::optional<TensorTuple>(std::move(t));
  }
  if (!error_.ok()) return error_;
  return std::optional<TensorTuple>();
}

}  // namespace sluice::train
