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
#include "pipeline/prefetch/pinned_memory.h"

#ifdef SLUICE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

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

#ifdef SLUICE_HAVE_CUDA

absl::Status CudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(e)));
}

class CudaDeviceMemory final : public Allocator {
 public:
  std::string_view name() const override { return "cuda_staging"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t, size_t) override { return nullptr; }  // not used: slots own memory
  void Deallocate(void*, size_t) override {}
};

CudaDeviceMemory* StagingMemory() {
  static CudaDeviceMemory* m = new CudaDeviceMemory();
  return m;
}

struct Slot {
  void* device = nullptr;
  size_t capacity = 0;
  cudaEvent_t ready = nullptr;
  // Recorded on the consumer stream when the slot's batch was dropped
  // (DevicePrefetchOptions::consumer_stream); the next copy waits for it.
  cudaEvent_t consumed = nullptr;
  bool consumed_recorded = false;  // guarded by the prefetcher's slot mutex
  bool in_use = false;       // guarded by the prefetcher's slot mutex
  TensorTuple host;          // kept until the copy is known complete
};

struct CudaItem {
  absl::Status status;
  DeviceBatch batch;
  bool end = false;
};

class CudaPrefetcher final : public DevicePrefetcher {
 public:
  static absl::StatusOr<std::unique_ptr<DevicePrefetcher>> Make(BatchSource source,
                                                                DevicePrefetchOptions o) {
    auto p = std::unique_ptr<CudaPrefetcher>(new CudaPrefetcher(std::move(source), o));
    SLUICE_RETURN_IF_ERROR(p->Init());
    p->thread_ = std::jthread([raw = p.get()](std::stop_token st) { raw->Run(st); });
    return std::unique_ptr<DevicePrefetcher>(std::move(p));
  }
  ~CudaPrefetcher() override {
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
    // lifetime); wait for the copies, then free.
    q_.Clear();
    (void)cudaSetDevice(o_.device);
    if (stream_ != nullptr) (void)cudaStreamSynchronize(stream_);
    for (Slot& s : *slots_) {
      if (s.ready != nullptr) (void)cudaEventDestroy(s.ready);
      if (s.consumed != nullptr) (void)cudaEventDestroy(s.consumed);
      if (s.device != nullptr) (void)cudaFree(s.device);
    }
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }
  absl::StatusOr<DeviceBatch> Next(const WaitOptions& w) override {
    if (ended_) return absl::OutOfRangeError("End of sequence");
    const int64_t c0 = ConsumerWaitNs();
    const int64_t t0 = NowNs();
    absl::StatusOr<CudaItem> popped = q_.Pop(w);
    // The part of this wait during which the prefetch thread itself waited
    // for the consumer's stream to free a slot.
    consumer_bound_ns_.fetch_add(std::min(NowNs() - t0, ConsumerWaitNs() - c0),
                                 std::memory_order_relaxed);
    SLUICE_ASSIGN_OR_RETURN(CudaItem item, std::move(popped));
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
  // slot, then the consumer stream's release of it), the current wait
  // included.
  int64_t ConsumerWaitNs() const {
    const int64_t since = consumer_wait_since_.load(std::memory_order_relaxed);
    return consumer_wait_ns_.load(std::memory_order_relaxed) + (since > 0 ? NowNs() - since : 0);
  }
  void BeginConsumerWait() { consumer_wait_since_.store(NowNs(), std::memory_order_relaxed); }
  void EndConsumerWait() {
    const int64_t since = consumer_wait_since_.exchange(0, std::memory_order_relaxed);
    if (since > 0) consumer_wait_ns_.fetch_add(NowNs() - since, std::memory_order_relaxed);
  }

  CudaPrefetcher(BatchSource source, DevicePrefetchOptions o)
      : source_(std::move(source)),
        o_(o),
        q_(static_cast<size_t>(o.depth)),
        slots_(std::make_shared<std::vector<Slot>>(o.depth)) {}

  absl::Status Init() {
    SLUICE_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(o_.device), "cudaSetDevice"));
    SLUICE_RETURN_IF_ERROR(
        CudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"));
    for (Slot& s : *slots_) {
      SLUICE_RETURN_IF_ERROR(CudaCheck(
          cudaEventCreateWithFlags(&s.ready, cudaEventDisableTiming), "cudaEventCreate"));
      if (o_.consumer_stream != nullptr) {
        SLUICE_RETURN_IF_ERROR(CudaCheck(
            cudaEventCreateWithFlags(&s.consumed, cudaEventDisableTiming), "cudaEventCreate"));
      }
    }
    return absl::OkStatus();
  }

  // Waits for a free slot; -1 when stopping.
  int AcquireSlot() {
    std::unique_lock<std::mutex> lock(slot_mu_);
    while (true) {
      if (stopping_) return -1;
      for (size_t i = 0; i < slots_->size(); ++i) {
        const size_t k = (next_slot_ + i) % slots_->size();
        if (!(*slots_)[k].in_use) {
          (*slots_)[k].in_use = true;
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
      Slot& s = (*slots_)[k];
      if (s.consumed != nullptr) {
        // Everything the consumer queued on the batch so far comes first.
        s.consumed_recorded =
            cudaEventRecord(s.consumed, static_cast<cudaStream_t>(o_.consumer_stream)) == cudaSuccess;
      }
      s.in_use = false;
    }
    slot_cv_.notify_all();
  }

  // Issues the copies of `host` into slot k; returns the device batch.
  absl::StatusOr<DeviceBatch> Stage(int k, TensorTuple host) {
    Slot& s = (*slots_)[k];
    // The slot's previous copy must be complete before its memory and its
    // host tensors are reused.
    absl::Status synced = CudaCheck(cudaEventSynchronize(s.ready), "cudaEventSynchronize");
    EndConsumerWait();
    SLUICE_RETURN_IF_ERROR(synced);
    bool consumed;
    {
      std::lock_guard<std::mutex> lock(slot_mu_);
      consumed = s.consumed_recorded;
      s.consumed_recorded = false;
    }
    if (consumed) {
      // The copy below overwrites what the consumer's queued kernels read.
      SLUICE_RETURN_IF_ERROR(
          CudaCheck(cudaStreamWaitEvent(stream_, s.consumed, 0), "cudaStreamWaitEvent(consumed)"));
    }
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
      if (s.device != nullptr) {
        SLUICE_RETURN_IF_ERROR(CudaCheck(cudaFree(s.device), "cudaFree"));
        s.device = nullptr;
        s.capacity = 0;
      }
      SLUICE_RETURN_IF_ERROR(CudaCheck(cudaMalloc(&s.device, total), "cudaMalloc"));
      s.capacity = total;
    }
    for (size_t i = 0; i < host.size(); ++i) {
      const Tensor& t = host[i];
      if (t.ByteSize() == 0) continue;
      SLUICE_RETURN_IF_ERROR(CudaCheck(
          cudaMemcpyAsync(static_cast<char*>(s.device) + offsets[i], t.raw_data(), t.ByteSize(),
                          cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync"));
    }
    SLUICE_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(s.ready, stream_), "cudaEventRecord"));
    // One lease over the slot: when the last tensor of this batch goes,
    // the slot is free again.
    RefPtr lease = Buffer::Wrap(s.device, s.capacity, StagingMemory(),
                                [this, k] { ReleaseSlot(k); });
    DeviceBatch b;
    b.on_device = true;
    b.ready_event = s.ready;
    for (size_t i = 0; i < host.size(); ++i) {
      b.tensors.push_back(Tensor::FromBuffer(host[i].dtype(), host[i].shape(), lease, offsets[i]));
    }
    s.host = std::move(host);
    return b;
  }

  void Run(std::stop_token st) {
    PhaseClock clock(o_.metrics);
    if (cudaSetDevice(o_.device) != cudaSuccess) {
      CudaItem item;
      item.status = absl::InternalError("cudaSetDevice failed on the prefetch thread");
      (void)q_.Push(std::move(item));
      return;
    }
    while (!st.stop_requested()) {
      clock.Switch(StagePhase::kInputWait);
      CudaItem item;
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
  ResultQueue<CudaItem> q_;
  std::shared_ptr<std::vector<Slot>> slots_;
  std::mutex slot_mu_;  // std::mutex: slot_cv_ waits on it
  std::condition_variable slot_cv_;
  size_t next_slot_ = 0;   // guarded by slot_mu_
  bool stopping_ = false;  // guarded by slot_mu_
  cudaStream_t stream_ = nullptr;
  bool ended_ = false;
  std::atomic<int64_t> consumer_wait_ns_{0};
  std::atomic<int64_t> consumer_wait_since_{0};  // 0: not waiting
  std::atomic<int64_t> consumer_bound_ns_{0};
  std::jthread thread_;
};

#endif  // SLUICE_HAVE_CUDA

}  // namespace

absl::StatusOr<std::unique_ptr<DevicePrefetcher>> DevicePrefetcher::Create(
    BatchSource source, DevicePrefetchOptions options) {
  if (!source) return absl::InvalidArgumentError("DevicePrefetcher: empty source");
  if (options.depth < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DevicePrefetcher: depth must be >= 1, got ", options.depth));
  }
#ifdef SLUICE_HAVE_CUDA
  if (!options.force_host && CudaDeviceAvailable()) {
    return CudaPrefetcher::Make(std::move(source), options);
  }
#endif
  return std::unique_ptr<DevicePrefetcher>(
      std::make_unique<HostPrefetcher>(std::move(source), options));
}

}  // namespace sluice
