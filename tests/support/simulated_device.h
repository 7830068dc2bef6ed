#pragma once
// A simulated asynchronous device for CPU tests of stream-ordered code
// (device prefetch, step capture): DeviceStream / DeviceEvent over host
// memory, so the logic that a GPU runs with CUDA streams and events runs in
// CI without one.
//
//   * SimStream: an in-order queue of work. Threaded streams run it on a
//     worker thread; a test can Pause() one (its work is held, as a busy
//     GPU holds it) and Resume() it. Inline streams run each call at once
//     on the caller's thread (a device that is never behind).
//   * SimEvent: a point in a stream, done when the stream has run up to it.
//   * SimMemory: "device memory" that is host memory, counting bytes.
//   * SimDevice: a DeviceContext (type GPU) with a compute stream, new
//     streams and events, and a count of every copy it queued.
// Header-only; every wait here ends (streams are joined on destruction and
// a paused stream is resumed then).
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/allocator.h"
#include "device/device_context.h"

namespace sluice::testing_sim {

// Set when the stream has run past the point it marks.
struct Marker {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  void Set() {
    {
      std::lock_guard<std::mutex> l(mu);
      done = true;
    }
    cv.notify_all();
  }
  void WaitDone() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
  }
  bool IsDone() {
    std::lock_guard<std::mutex> l(mu);
    return done;
  }
};

class SimEvent final : public DeviceEvent {
 public:
  absl::Status Synchronize() const override {
    std::shared_ptr<Marker> m = marker();
    if (m != nullptr) m->WaitDone();
    return absl::OkStatus();
  }
  std::shared_ptr<Marker> marker() const {
    std::lock_guard<std::mutex> l(mu_);
    return marker_;
  }
  void set_marker(std::shared_ptr<Marker> m) {
    std::lock_guard<std::mutex> l(mu_);
    marker_ = std::move(m);
  }
  // Whether the point last recorded has been passed (true if never recorded).
  bool done() const {
    std::shared_ptr<Marker> m = marker();
    return m == nullptr || m->IsDone();
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<Marker> marker_;
};

class SimStream final : public DeviceStream {
 public:
  explicit SimStream(bool threaded) : threaded_(threaded) {
    if (threaded_) worker_ = std::thread([this] { Work(); });
  }
  ~SimStream() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
      paused_ = false;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  absl::Status Memcpy(void* dst, const void* src, size_t bytes) override {
    copies.fetch_add(1);
    Enqueue([dst, src, bytes] { std::memcpy(dst, src, bytes); });
    return absl::OkStatus();
  }
  absl::Status Record(DeviceEvent* event) override {
    auto m = std::make_shared<Marker>();
    static_cast<SimEvent*>(event)->set_marker(m);
    Enqueue([m] { m->Set(); });
    return absl::OkStatus();
  }
  absl::Status Wait(const DeviceEvent& event) override {
    std::shared_ptr<Marker> m = static_cast<const SimEvent&>(event).marker();
    if (m == nullptr) return absl::OkStatus();
    Enqueue([this, m] {
      waiting_.fetch_add(1);
      m->WaitDone();
      waiting_.fetch_sub(1);
    });
    return absl::OkStatus();
  }
  absl::Status Synchronize() override {
    SimEvent e;
    (void)Record(&e);
    return e.Synchronize();
  }
  // Queues arbitrary work (a simulated kernel).
  void Enqueue(std::function<void()> fn) {
    if (!threaded_) {
      fn();
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      work_.push_back(std::move(fn));
    }
    cv_.notify_all();
  }
  // Holds the stream's work until Resume() (threaded streams only).
  void Pause() {
    std::lock_guard<std::mutex> l(mu_);
    paused_ = true;
  }
  void Resume() {
    {
      std::lock_guard<std::mutex> l(mu_);
      paused_ = false;
    }
    cv_.notify_all();
  }
  // Whether the stream is stopped at a Wait() for an event not yet done.
  bool blocked_on_event() const { return waiting_.load() > 0; }
  std::atomic<int> copies{0};

 private:
  void Work() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stopping_ || (!paused_ && !work_.empty()); });
      if (work_.empty() || (paused_ && !stopping_)) {
        if (stopping_) return;
        continue;
      }
      std::function<void()> fn = std::move(work_.front());
      work_.pop_front();
      l.unlock();
      fn();
      l.lock();
    }
  }
  const bool threaded_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> work_;
  bool paused_ = false;
  bool stopping_ = false;
  std::atomic<int> waiting_{0};
  std::thread worker_;
};

// "Device memory" that is host memory underneath.
class SimMemory final : public Allocator {
 public:
  std::string_view name() const override { return "simulated_device"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t bytes, size_t) override {
    allocated.fetch_add(bytes);
    return std::malloc(bytes == 0 ? 1 : bytes);
  }
  void Deallocate(void* p, size_t) override { std::free(p); }
  std::atomic<uint64_t> allocated{0};
};

// A GPU whose streams are SimStreams (threaded or inline).
class SimDevice : public DeviceContext {
 public:
  explicit SimDevice(bool threaded = true, int index = 0)
      : threaded_(threaded), index_(index), compute_(threaded) {}
  DeviceType type() const override { return DeviceType::kGPU; }
  int index() const override { return index_; }
  Allocator* allocator() const override { return &memory_; }
  DeviceStream* compute_stream() const override { return &compute_; }
  absl::StatusOr<std::unique_ptr<DeviceStream>> NewStream() const override {
    auto s = std::make_unique<SimStream>(threaded_);
    last_stream_ = s.get();
    return std::unique_ptr<DeviceStream>(std::move(s));
  }
  absl::StatusOr<std::unique_ptr<DeviceEvent>> NewEvent() const override {
    return std::unique_ptr<DeviceEvent>(new SimEvent());
  }
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override {
    if (host.buffer()->allocator()->kind() == MemoryKind::kDevice) return host;
    copies.fetch_add(1);
    return host.DeepCopy(&memory_);
  }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override {
    SLUICE_RETURN_IF_ERROR(compute_.Synchronize());
    if (t.buffer()->allocator()->kind() != MemoryKind::kDevice) return t;
    copies.fetch_add(1);
    return t.DeepCopy();
  }
  absl::Status Sync() const override { return compute_.Synchronize(); }
  absl::Status CopyInto(const Tensor& src, const Tensor& dst) const override {
    copies.fetch_add(1);
    return compute_.Memcpy(dst.raw_data(), src.raw_data(), src.ByteSize());
  }
  uint64_t bytes_allocated() const override { return memory_.allocated.load(); }

  SimStream& compute() const { return compute_; }
  // The stream NewStream() made last (e.g. a prefetcher's copy stream).
  SimStream* last_stream() const { return last_stream_; }
  // Copies made through CopyToDevice / CopyToHost / CopyInto.
  mutable std::atomic<int> copies{0};

 protected:
  mutable SimMemory memory_;

 private:
  const bool threaded_;
  const int index_;
  mutable SimStream compute_;
  mutable SimStream* last_stream_ = nullptr;
};

}  // namespace sluice::testing_sim
