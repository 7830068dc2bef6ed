#include "pipeline/prefetch/device_prefetcher.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {
namespace {

// A bounded FIFO of results filled by a thread; shared by both paths.
template <typename Item>
class ResultQueue {
 public:
  explicit ResultQueue(size_t limit) : limit_(limit) {}
  // False when stopped.
  bool Push(Item item) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || items_.size() < limit_; });
    if (stopped_) return false;
    items_.push_back(std::move(item));
    lock.unlock();
    cv_.notify_all();
    return true;
  }
  // Waits for an item, honouring `w`.
  absl::StatusOr<Item> Pop(const WaitOptions& w) {
    std::unique_lock<std::mutex> lock(mu_);
    std::stop_callback on_stop(w.stop, [this] { cv_.notify_all(); });
    while (items_.empty()) {
      if (w.stop.stop_requested()) return absl::CancelledError("prefetch wait cancelled");
      if (w.deadline == absl::InfiniteFuture()) {
        cv_.wait(lock);
      } else {
        const absl::Duration left = w.deadline - absl::Now();
        if (left <= absl::ZeroDuration()) {
          return absl::DeadlineExceededError("prefetch wait timed out");
        }
        cv_.wait_for(lock, absl::ToChronoNanoseconds(left));
      }
    }
    Item item = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    cv_.notify_all();
    return item;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  // Drops the items not taken (their batches release what they hold).
  void Clear() {
    std::deque<Item> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      dropped.swap(items_);
    }
  }
  double fill_fraction() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<double>(items_.size()) / static_cast<double>(limit_);
  }

 private:
  const size_t limit_;
  mutable std::mutex mu_;  // std::mutex: cv_ waits on it
  std::condition_variable cv_;
  std::deque<Item> items_;  // guarded by mu_
  bool stopped_ = false;    // guarded by mu_
};

struct HostItem {
  absl::Status status;
  TensorTuple batch;
  bool end = false;
};

class HostPrefetcher final : public DevicePrefetcher {
 public:
  HostPrefetcher(BatchSource source, DevicePrefetchOptions o)
      : source_(std::move(source)), o_(o), q_(static_cast<size_t>(o.depth)) {
    thread_ = std::jthread([this](std::stop_token st) { Run(st); });
  }
  ~HostPrefetcher() override {
    thread_.request_stop();
    q_.Stop();
  }
  double fill_fraction() const override { return q_.fill_fraction(); }
  int64_t consumer_bound_wait_ns() const override { return 0; }  // never waits on slots
  absl::StatusOr<DeviceBatch> Next(const WaitOptions& w) override {
    if (ended_) return absl::OutOfRangeError("End of sequence");
    SLUICE_ASSIGN_OR_RETURN(HostItem item, q_.Pop(w));
    if (item.end) {
      ended_ = true;
      return absl::OutOfRangeError("End of sequence");
    }
    SLUICE_RETURN_IF_ERROR(item.status);
    DeviceBatch b;
    b.tensors = std::move(item.batch);
    return b;
  }
  bool on_device() const override { return false; }

 private:
  void Run(std::stop_token st) {
    PhaseClock clock(o_.metrics);
    while (!st.stop_requested()) {
      clock.Switch(StagePhase::kInputWait);
      HostItem item;
      absl::StatusOr<TensorTuple> b = source_(WaitOptions::StopOn(st));
      if (b.ok()) {
        item.batch = *std::move(b);
      } else if (absl::IsOutOfRange(b.status())) {
        item.end = true;
      } else {
        if (st.stop_requested()) return;
        item.status = b.status();
      }
      clock.Switch(StagePhase::kOutputWait);
      const bool end = item.end;
      if (!q_.Push(std::move(item)) || end) return;
    }
  }
  BatchSource source_;
  const DevicePrefetchOptions o_;
  ResultQueue<HostItem> q_;
  bool ended_ = false;
  std::jthread thread_;  // last: stopped and joined first
};

struct Slot {
  void* device = nullptr;
  size_t capacity = 0;
  std::unique_ptr<DeviceEvent> ready;  // after the slot's copies, on the staging stream
  // Recorded on the device's compute stream when the slot's batch was
  // dropped (or its memory allocated); the next copy waits for it.
  std::unique_ptr<DeviceEvent> consumed;
  bool consumed_recorded = false;  // guarded by the prefetcher's slot mutex
  bool in_use = false;             // guarded by the prefetcher's slot mutex
  TensorTuple host;                // kept until the copy is known complete
};

struct StagedItem {
  absl::Status status;
  DeviceBatch batch;
  bool end = false;
};

// The device path, on DeviceContext / DeviceStream / DeviceEvent only.
class StagingPrefetcher final : public DevicePrefetcher {
 public:
  static absl::StatusOr<std::unique_ptr<DevicePrefetcher>> Make(BatchSource source,
                                                                DevicePrefetchOptions o) {
    auto p = std::unique_ptr<StagingPrefetcher>(new StagingPrefetcher(std::move(source), o));
    SLUICE_RETURN_IF_ERROR(p->Init());
    p->thread_ = std::jthread([raw = p.get()](std::stop_token st) { raw->Run(st); });
    return std::unique_ptr<DevicePrefetcher>(std::move(p));
  }
  ~StagingPrefetcher() override {
    thread_.request_stop();
    q_.Stop();
    {
      std::lock_guard<std::mutex> lock(slot_mu_);
      stopping_ = true;
    }
    slot_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    // Batches staged but never taken release their slots now, while the
    // slots exist. Consumers must have dropped theirs (documented
    // lifetime); wait for the copies, then free (the device's allocator
    // frees in the compute stream's order, after the consumers' reads).
    q_.Clear();
    if (stream_ != nullptr) (void)stream_->Synchronize();
    for (Slot& s : slots_) {
      if (s.device != nullptr) device_->allocator()->Deallocate(s.device, s.capacity);
    }
  }
  absl::StatusOr<DeviceBatch> Next(const WaitOptions& w) override {
    if (ended_) return absl::OutOfRangeError("End of sequence");
    const int64_t c0 = ConsumerWaitNs();
    const int64_t t0 = NowNs();
    absl::StatusOr<StagedItem> popped = q_.Pop(w);
    // The part of this wait during which the prefetch thread itself waited
    // for the consumer's stream to free a slot.
    consumer_bound_ns_.fetch_add(std::min(NowNs() - t0, ConsumerWaitNs() - c0),
                                 std::memory_order_relaxed);
    SLUICE_ASSIGN_OR_RETURN(StagedItem item, std::move(popped));
    if (item.end) {
      ended_ = true;
      return absl::OutOfRangeError("End of sequence");
    }
    SLUICE_RETURN_IF_ERROR(item.status);
    return std::move(item.batch);
  }
  bool on_device() const override { return true; }
  double fill_fraction() const override { return q_.fill_fraction(); }
  int64_t consumer_bound_wait_ns() const override {
    return consumer_bound_ns_.load(std::memory_order_relaxed);
  }

 private:
  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Time the prefetch thread has spent waiting for the consumer (a free
  // slot, then the device's release of it), the current wait included.
  int64_t ConsumerWaitNs() const {
    const int64_t since = consumer_wait_since_.load(std::memory_order_relaxed);
    return consumer_wait_ns_.load(std::memory_order_relaxed) + (since > 0 ? NowNs() - since : 0);
  }
  void BeginConsumerWait() { consumer_wait_since_.store(NowNs(), std::memory_order_relaxed); }
  void EndConsumerWait() {
    const int64_t since = consumer_wait_since_.exchange(0, std::memory_order_relaxed);
    if (since > 0) consumer_wait_ns_.fetch_add(NowNs() - since, std::memory_order_relaxed);
  }

  StagingPrefetcher(BatchSource source, DevicePrefetchOptions o)
      : source_(std::move(source)),
        o_(o),
        device_(o.device),
        q_(static_cast<size_t>(o.depth)),
        slots_(o.depth) {}

  absl::Status Init() {
    SLUICE_ASSIGN_OR_RETURN(stream_, device_->NewStream());
    for (Slot& s : slots_) {
      SLUICE_ASSIGN_OR_RETURN(s.ready, device_->NewEvent());
      SLUICE_ASSIGN_OR_RETURN(s.consumed, device_->NewEvent());
    }
    return absl::OkStatus();
  }

  // Waits for a free slot; -1 when stopping.
  int AcquireSlot() {
    std::unique_lock<std::mutex> lock(slot_mu_);
    while (true) {
      if (stopping_) return -1;
      for (size_t i = 0; i < slots_.size(); ++i) {
        const size_t k = (next_slot_ + i) % slots_.size();
        if (!slots_[k].in_use) {
          slots_[k].in_use = true;
          next_slot_ = k + 1;
          return static_cast<int>(k);
        }
      }
      slot_cv_.wait(lock);
    }
  }
  // Runs where the batch's last tensor is dropped (the consumer's thread).
  void ReleaseSlot(int k) {
    {
      std::lock_guard<std::mutex> lock(slot_mu_);
      Slot& s = slots_[k];
      // Everything the consumer queued on the batch so far comes first.
      s.consumed_recorded = device_->compute_stream()->Record(s.consumed.get()).ok();
      s.in_use = false;
    }
    slot_cv_.notify_all();
  }

  // Issues the copies of `host` into slot k; returns the device batch.
  absl::StatusOr<DeviceBatch> Stage(int k, TensorTuple host) {
    Slot& s = slots_[k];
    // The slot's previous copy must be complete before its host tensors
    // are dropped and its memory refilled.
    absl::Status synced = s.ready->Synchronize();
    EndConsumerWait();
    SLUICE_RETURN_IF_ERROR(synced);
    s.host.clear();
    size_t total = 0;
    std::vector<size_t> offsets;
    for (const Tensor& t : host) {
      if (t.dtype() == DType::kString) {
        return absl::InvalidArgumentError("string tensors cannot be staged on a device");
      }
      offsets.push_back(total);
      total += (t.ByteSize() + 255) / 256 * 256;
    }
    if (total > s.capacity) {
      Allocator* memory = device_->allocator();
      if (s.device != nullptr) memory->Deallocate(s.device, s.capacity);
      s.capacity = 0;
      s.device = memory->Allocate(total, 256);
      if (s.device == nullptr) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "device out of memory for a staging slot of ", total, " bytes"));
      }
      s.capacity = total;
      // Device memory is handed out in the compute stream's order: the
      // copies below come after that point.
      SLUICE_RETURN_IF_ERROR(device_->compute_stream()->Record(s.consumed.get()));
      std::lock_guard<std::mutex> lock(slot_mu_);
      s.consumed_recorded = true;
    }
    bool consumed;
    {
      std::lock_guard<std::mutex> lock(slot_mu_);
      consumed = s.consumed_recorded;
      s.consumed_recorded = false;
    }
    // The copies below overwrite what the consumer's queued kernels read.
    if (consumed) SLUICE_RETURN_IF_ERROR(stream_->Wait(*s.consumed));
    for (size_t i = 0; i < host.size(); ++i) {
      const Tensor& t = host[i];
      SLUICE_RETURN_IF_ERROR(
          stream_->Memcpy(static_cast<char*>(s.device) + offsets[i], t.raw_data(), t.ByteSize()));
    }
    SLUICE_RETURN_IF_ERROR(stream_->Record(s.ready.get()));
    // One lease over the slot: when the last tensor of this batch goes,
    // the slot is free again.
    RefPtr lease = Buffer::Wrap(s.device, s.capacity, StagingSlotAllocator(),
                                [this, k] { ReleaseSlot(k); });
    DeviceBatch b;
    b.on_device = true;
    b.ready = s.ready.get();
    for (size_t i = 0; i < host.size(); ++i) {
      b.tensors.push_back(Tensor::FromBuffer(host[i].dtype(), host[i].shape(), lease, offsets[i]));
    }
    s.host = std::move(host);
    return b;
  }

  void Run(std::stop_token st) {
    PhaseClock clock(o_.metrics);
    while (!st.stop_requested()) {
      clock.Switch(StagePhase::kInputWait);
      StagedItem item;
      absl::StatusOr<TensorTuple> b = source_(WaitOptions::StopOn(st));
      clock.Switch(StagePhase::kBusy);
      if (b.ok()) {
        clock.Switch(StagePhase::kOutputWait);
        BeginConsumerWait();  // ends once the slot's previous copy is done (Stage)
        const int k = AcquireSlot();
        clock.Switch(StagePhase::kBusy);
        if (k < 0) return;
        absl::StatusOr<DeviceBatch> staged = Stage(k, *std::move(b));
        if (staged.ok()) {
          item.batch = *std::move(staged);
          if (o_.metrics != nullptr) o_.metrics->AddItems(1);
        } else {
          ReleaseSlot(k);
          item.status = staged.status();
        }
      } else if (absl::IsOutOfRange(b.status())) {
        item.end = true;
      } else {
        if (st.stop_requested()) return;
        item.status = b.status();
      }
      clock.Switch(StagePhase::kOutputWait);
      const bool end = item.end;
      if (!q_.Push(std::move(item)) || end) return;
    }
  }

  BatchSource source_;
  const DevicePrefetchOptions o_;
  DeviceContext* const device_;
  ResultQueue<StagedItem> q_;
  std::vector<Slot> slots_;
  std::mutex slot_mu_;  // std::mutex: slot_cv_ waits on it
  std::condition_variable slot_cv_;
  size_t next_slot_ = 0;   // guarded by slot_mu_
  bool stopping_ = false;  // guarded by slot_mu_
  std::unique_ptr<DeviceStream> stream_;  // the copies
  bool ended_ = false;
  std::atomic<int64_t> consumer_wait_ns_{0};
  std::atomic<int64_t> consumer_wait_since_{0};  // 0: not waiting
  std::atomic<int64_t> consumer_bound_ns_{0};
  std::jthread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DevicePrefetcher>> DevicePrefetcher::Create(
    BatchSource source, DevicePrefetchOptions options) {
  if (!source) return absl::InvalidArgumentError("DevicePrefetcher: empty source");
  if (options.depth < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DevicePrefetcher: depth must be >= 1, got ", options.depth));
  }
  if (options.device != nullptr && options.device->compute_stream() != nullptr) {
    return StagingPrefetcher::Make(std::move(source), options);
  }
  return std::unique_ptr<DevicePrefetcher>(
      std::make_unique<HostPrefetcher>(std::move(source), options));
}

}  // namespace sluice
