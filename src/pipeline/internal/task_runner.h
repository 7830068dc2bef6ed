#pragma once
// TaskRunner: where the parallel Dataset stages run their calls. oneTBB
// (task_group) normally. The system oneTBB is not built with
// ThreadSanitizer, so TSan cannot see that task_group::run() publishes the
// task it runs and reports every hand-off as a race; TSan builds therefore
// run each call on a plain std::thread, which TSan understands, so that
// the sanitizer pass reports only real races.
//
// Thread-safe for Run from one thread; Wait from the owner.

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tbb/task_group.h"

namespace sluice::internal {

class TaskRunner {
 public:
  TaskRunner() = default;
  ~TaskRunner() { Wait(); }
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Run(std::function<void()> fn) {
#if defined(__SANITIZE_THREAD__)
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back(std::move(fn));
#else
    group_->run(std::move(fn));
#endif
  }
  // Blocks until every call has returned.
  void Wait() {
#if defined(__SANITIZE_THREAD__)
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
#else
    group_->wait();
#endif
  }

 private:
#if defined(__SANITIZE_THREAD__)
  std::mutex mu_;
  std::vector<std::thread> threads_;  // guarded by mu_
#else
  // unique_ptr: tbb::task_group's destructor may throw; ours must not.
  std::unique_ptr<tbb::task_group> group_ = std::make_unique<tbb::task_group>();
#endif
};

}  // namespace sluice::internal
