#include "pipeline/internal/worker_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sched.h>

namespace sluice::internal {
namespace {

class ThreadPool final : public WorkerPool {
 public:
  explicit ThreadPool(int n) : n_(n) {
    for (int i = 0; i < n; ++i) std::thread([this] { Loop(); }).detach();
  }
  void Submit(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }
  int threads() const override { return n_; }

 private:
  void Loop() {
    pthread_setname_np(pthread_self(), "sluice-data");  // for perf and top
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return !tasks_.empty(); });
      std::function<void()> fn = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      fn();
      fn = nullptr;  // drop the captures outside the lock
      lock.lock();
    }
  }
  const int n_;
  std::mutex mu_;  // std::mutex: cv_ waits on it
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
};

}  // namespace

int CpuBudget() {
  static const int n = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
      return CPU_COUNT(&set);
    }
    const unsigned h = std::thread::hardware_concurrency();
    return h == 0 ? 1 : static_cast<int>(h);
  }();
  return n;
}

WorkerPool& WorkerPool::Default() {
  static WorkerPool* pool = new ThreadPool(CpuBudget());  // never destroyed
  return *pool;
}

}  // namespace sluice::internal
