#pragma once
// Coordinator: TensorFlow 1.x's tf.train.Coordinator (spec §2, checklist
// items 74–87) for C++ threads, plus CoordinatedThread, the thread object it
// starts, registers and joins.
//
// Differences from Python that follow from C++ (docs/divergences.md,
// "Coordinator and QueueRunner"):
//   * errors are absl::Status values; "raise" means "return";
//   * C++ threads cannot be asked whether they are alive, so the threads a
//     coordinator waits for are CoordinatedThreads, which record when their
//     function returned;
//   * stop_token() fires on the first RequestStop, so every blocking sluice
//     call given WaitOptions{.stop = coord.stop_token()} wakes with Cancelled
//     instead of staying blocked until a queue is cancelled.
//
// Locking: the coordinator and CoordinatedThread use std::mutex rather than
// absl::Mutex because the system abseil is not built with ThreadSanitizer
// annotations; TSan would not see absl::Mutex's happens-before edges.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/status.h"

namespace sluice {

class Coordinator;

// One thread running one function. Created unstarted; Start() runs it
// (Python's thread.start()). "Alive" means started and the function has not
// returned yet, as Python's is_alive(). Thread-safe.
//
// Lifetime: a running thread keeps its own CoordinatedThread alive, so
// handles may be dropped at any time without blocking; the std::thread is
// joined by whoever drops the last reference after the function returned
// (or detached when that is the thread itself, at its very last step).
class CoordinatedThread : public std::enable_shared_from_this<CoordinatedThread> {
 public:
  // A thread that no coordinator owns (a QueueRunner without coordinator
  // uses these). Register it with Coordinator::RegisterThread to have a
  // coordinator join it.
  static std::shared_ptr<CoordinatedThread> Create(std::string name,
                                                   std::function<void()> fn);

  CoordinatedThread(const CoordinatedThread&) = delete;
  CoordinatedThread& operator=(const CoordinatedThread&) = delete;
  ~CoordinatedThread();

  // Starts the thread. FailedPrecondition when already started (Python
  // raises RuntimeError "threads can only be started once").
  absl::Status Start();

  const std::string& name() const { return name_; }
  bool started() const { return started_.load(std::memory_order_acquire); }
  bool IsAlive() const;
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // Blocks until the function has returned or `timeout` passed; true when
  // it has returned. Returns true at once for an unstarted thread.
  bool WaitUntilNotAlive(absl::Duration timeout = absl::InfiniteDuration()) const;

 private:
  friend class Coordinator;
  CoordinatedThread(std::string name, std::function<void()> fn, Coordinator* owner);
  void Body(std::shared_ptr<CoordinatedThread> self);
  // Called by a destroyed owner: an unstarted thread can no longer start.
  void Abandon();

  const std::string name_;
  // May be null. A coordinator outlives every thread it owns that started
  // (~Coordinator waits for them and abandons the unstarted ones).
  Coordinator* const owner_;
  std::function<void()> fn_;  // set at creation, then used only by the thread
  std::atomic<bool> started_{false};
  // Set under owner_->mu_ when there is an owner, so that Join's predicate
  // sees it together with the wake-up.
  std::atomic<bool> finished_{false};

  mutable std::mutex mu_;  // std::mutex: cv_ waits on it
  mutable std::condition_variable cv_;  // finished_ became true
  bool abandoned_ = false;              // guarded by mu_
  std::thread thread_;                  // guarded by mu_
};

// Thread-safe. Coordinates the stop of a group of threads: any thread may
// request a stop (with an error that Join will report), every thread polls
// ShouldStop() or blocks with stop_token(), and Join() waits for them with a
// grace period.
//
// Status codes:
//   RequestStop / StopOnError: OK, or — after Join() has returned — the
//     non-clean error passed in (TensorFlow re-raises it in the caller).
//   Join: the first non-clean error reported; otherwise DeadlineExceeded
//     "Coordinator stopped with threads still running: n1 n2" when threads
//     outlived the grace period (unless ignore_live_threads); otherwise OK.
//
// Thread ownership: threads made by StartThread/CreateThread belong to the
// coordinator. Threads that are still running when Join gives up
// ("stragglers") cannot be killed; the coordinator keeps them and its
// destructor requests a stop and then blocks until every thread it started
// has returned, so a thread's function may safely use the coordinator (and
// whatever it captured) until it returns. Never detached: a detached
// straggler could touch freed objects. Destroy a coordinator only after
// making its threads' blocking calls return (cancel queues, stop tokens).
class Coordinator {
 public:
  // clean_stop_codes: errors that RequestStop treats as a clean stop.
  // The default is {OutOfRange}; a custom set replaces it entirely (an empty
  // set makes every error non-clean).
  Coordinator();
  explicit Coordinator(absl::flat_hash_set<absl::StatusCode> clean_stop_codes);
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;
  ~Coordinator();

  // Requests a stop. Only the first request since construction or
  // ClearStop() can record an error: a later one is dropped, even when the
  // first was clean. OK and clean codes record nothing. After Join() has
  // returned, a non-clean `why` is returned to the caller instead (nobody
  // else would see it); otherwise returns OK. Fires stop_token() (outside
  // the lock) before returning.
  absl::Status RequestStop(absl::Status why = absl::OkStatus());

  // Non-blocking.
  bool ShouldStop() const;

  // Blocks until a stop is requested or `timeout` passes; true when a stop
  // was requested (returns at once when one already was).
  bool WaitForStop(absl::Duration timeout = absl::InfiniteDuration()) const;

  // Fires on the first RequestStop. ClearStop() issues a fresh token; tokens
  // handed out earlier stay fired.
  std::stop_token stop_token() const;

  // Resets the stop request, the recorded error and joined(). Registered
  // threads stay registered.
  void ClearStop();

  // Python's `with coord.stop_on_exception():` — a non-OK `s` is reported
  // through RequestStop and swallowed (returns OK), except after Join()
  // where RequestStop hands it back.
  absl::Status StopOnError(absl::Status s);
  absl::Status RunAndReportError(const std::function<absl::Status()>& fn) {
    return StopOnError(fn());
  }

  // The recorded error (OK when none): Python's raise_requested_exception().
  absl::Status RaiseRequestedError() const;

  bool joined() const;

  // Creates a thread owned and registered by this coordinator. StartThread
  // also starts it.
  std::shared_ptr<CoordinatedThread> CreateThread(std::string name,
                                                  std::function<void()> fn);
  std::shared_ptr<CoordinatedThread> StartThread(std::string name,
                                                 std::function<void()> fn);
  // Adds a thread (of any owner) to the set Join waits for.
  void RegisterThread(std::shared_ptr<CoordinatedThread> t);

  // Waits for the registered threads unioned with `threads` (threads
  // registered after the call starts are not waited for):
  //   phase A: while any is alive and no stop was requested;
  //   phase B: after it sees a stop, at most `grace` (measured from then)
  //            for the rest to return.
  // Then marks joined(), clears the registered set and returns (see the
  // class comment). Stragglers are only logged with ignore_live_threads.
  absl::Status Join(absl::Duration grace = absl::Seconds(120),
                    bool ignore_live_threads = false);
  absl::Status Join(absl::Span<const std::shared_ptr<CoordinatedThread>> threads,
                    absl::Duration grace = absl::Seconds(120),
                    bool ignore_live_threads = false);

 private:
  friend class CoordinatedThread;
  // Marks `t` finished under mu_ and wakes Join.
  void MarkFinished(CoordinatedThread* t);
  bool IsClean(const absl::Status& s) const;
  // Drops owned threads whose function has returned.
  void ReapFinished();

  const absl::flat_hash_set<absl::StatusCode> clean_stop_codes_;

  mutable std::mutex mu_;  // std::mutex: cv_ waits on it
  mutable std::condition_variable cv_;  // stop requested or a thread finished
  bool stop_requested_ = false;         // guarded by mu_
  bool joined_ = false;                 // guarded by mu_
  absl::Status error_;                  // guarded by mu_
  std::stop_source stop_source_;        // guarded by mu_
  std::vector<std::shared_ptr<CoordinatedThread>> registered_;  // guarded by mu_
  std::vector<std::shared_ptr<CoordinatedThread>> owned_;       // guarded by mu_
};

}  // namespace sluice
