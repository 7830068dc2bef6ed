#pragma once
// TaskRunner: where the parallel Dataset stages run their calls.
//
// Normally a process-wide oneTBB task_arena, fed with enqueue(): fire and
// forget, so Run() never blocks (task_group::run from a thread outside the
// arena can wait for an arena slot, which hangs a pipeline whose caller
// keeps every worker busy). Callers track completion themselves and must
// make tasks that start late harmless (see MapDataset's claimed slots):
// Wait() does not wait for arena tasks.
//
// The system oneTBB is not built with ThreadSanitizer, so TSan cannot see
// that enqueue() publishes the task; TSan builds therefore run each call
// on a plain std::thread (joined by Wait() and the destructor), so that the
// sanitizer pass reports only real races.
//
// Thread-safe.

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tbb/task_arena.h"

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
    Arena()->enqueue(std::move(fn));
#endif
  }
  // TSan builds: joins the calls' threads. Otherwise a no-op.
  void Wait() {
#if defined(__SANITIZE_THREAD__)
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
#endif
  }

 private:
#if defined(__SANITIZE_THREAD__)
  std::mutex mu_;  // std::mutex: TSan-only code, seen without the absl shim
  std::vector<std::thread> threads_;  // guarded by mu_
#else
  static tbb::task_arena* Arena() {
    static tbb::task_arena* arena = new tbb::task_arena();  // never destroyed
    return arena;
  }
#endif
};

}  // namespace sluice::internal
