#pragma once
// WorkerPool: where the parallel Dataset stages run their calls.
//
// One process-wide pool of plain threads ("sluice-data"), as many as the
// CPUs this process may run on (CpuBudget(): the affinity mask, so
// `taskset -c 0` gives 1). Submit() never blocks and tasks run in
// submission order as threads free up.
//
// Callers track completion themselves, and a task that starts late (after
// the stage that submitted it is gone) must be harmless: tasks capture the
// state they touch by shared_ptr (see MapDataset). A task that blocks holds
// its thread, so no stage relies on a pool thread for progress: the stage's
// consumer runs a call itself when no pool thread has picked it up. Waiting
// for submitted tasks to start is therefore never needed, and never done
// (it would deadlock a nested stage whose tasks queue behind the task that
// waits).
//
// Not oneTBB: a oneTBB arena fed with enqueue() runs on at most
// hardware_concurrency - 1 workers (one slot is kept for a joining thread;
// on 2 cores one worker for every parallel stage), and the system oneTBB is
// not built with ThreadSanitizer, which then cannot see the hand-off.
//
// The pool is never destroyed (its detached threads outlive main's
// statics). Thread-safe.

#include <functional>

namespace sluice::internal {

// CPUs this process may run on (sched_getaffinity), at least 1; read once.
int CpuBudget();

class WorkerPool {
 public:
  // The process-wide pool (CpuBudget() threads, started on first use).
  static WorkerPool& Default();
  virtual ~WorkerPool() = default;
  virtual void Submit(std::function<void()> fn) = 0;
  virtual int threads() const = 0;
};

}  // namespace sluice::internal
