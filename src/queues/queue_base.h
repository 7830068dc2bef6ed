#pragma once
// QueueBase: the request engine shared by the four queues.
//
// Every Enqueue, EnqueueMany, Close(false), Dequeue, DequeueMany and
// DequeueUpTo becomes an Attempt appended to one of two intrusive lists
// (enqueue side, dequeue side). After any change of state, FlushLocked()
// advances the head of each list as far as it can, repeating while anything
// moved, exactly as TensorFlow's queue_base.cc does: this is what gives
// strict head-of-line order, incremental EnqueueMany/DequeueMany, and a
// Close(false) that waits for the enqueues before it. The thread that
// flushes completes other threads' attempts; their owners wake through an
// absl::Mutex condition and assemble their result (stacking, padding)
// after releasing the lock.
//
// A caller that times out or is cancelled removes its own attempt at once;
// a dequeue that had taken elements puts them back first (nothing lost).
//
// Subclasses own the storage and implement the *Locked hooks, which run
// with mu_ held and must not block.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "queues/row_chunk.h"
#include "queues/queue.h"

namespace sluice {

class QueueBase : public QueueInterface {
 public:
  absl::Status Enqueue(TensorTuple element, const WaitOptions& w = {}) override;
  absl::Status EnqueueMany(TensorTuple batch, const WaitOptions& w = {}) override;
  absl::StatusOr<TensorTuple> Dequeue(const WaitOptions& w = {}) override;
  absl::StatusOr<TensorTuple> DequeueMany(int64_t n, const WaitOptions& w = {}) override;
  absl::StatusOr<TensorTuple> DequeueUpTo(int64_t n, const WaitOptions& w = {}) override;
  absl::Status Close(bool cancel_pending_enqueues = false,
                     const WaitOptions& w = {}) override;
  bool IsClosed() const override;
  int64_t Size() const override;
  QueueStats stats() const override;
  std::string_view name() const override { return name_; }
  std::string_view kind() const override { return kind_; }
  const std::vector<DType>& component_dtypes() const override { return dtypes_; }
  const std::vector<TensorShape>& component_shapes() const override { return shapes_; }
  int64_t capacity() const override { return capacity_; }
  absl::Status CheckCompatibleForSharing(const QueueInterface& requested) const override;

 protected:
  QueueBase(const QueueOptions& options, std::string_view kind);
  // Checks common to every queue (checklist items 1–2).
  static absl::Status ValidateOptions(const QueueOptions& options, std::string_view kind);

  // --- storage hooks (mu_ held) ---
  virtual int64_t StoredLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // How many elements a dequeue may take now (RandomShuffleQueue keeps
  // min_after_dequeue back while open).
  virtual int64_t AvailableLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return StoredLocked();
  }
  // False when a dequeue must take all it needs at once (PriorityQueue).
  virtual bool TakesPartially() const { return true; }
  virtual void PushLocked(internal::RowChunk&& rows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Moves `n` <= AvailableLocked() elements out, appending chunks to `out`
  // in dequeue order.
  virtual void TakeLocked(int64_t n, internal::RowChunks* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Puts back what TakeLocked handed out (FIFO queues: at the front, in
  // order) and clears `parts`.
  virtual void RestoreLocked(internal::RowChunks* parts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // --- validation and assembly (no lock) ---
  virtual absl::Status ValidateElement(const TensorTuple& element) const;
  virtual absl::Status ValidateBatch(const TensorTuple& batch) const;
  // Stacks `n` rows held in `parts` into one batch.
  virtual absl::StatusOr<TensorTuple> AssembleMany(internal::RowChunks parts,
                                                   int64_t n) const;
  // Runs without the lock, in the enqueuing thread, before an EnqueueMany
  // batch is offered to the storage: a queue that stores strings by value
  // copies them here so that PushLocked only takes pointers (a batch of
  // copies stays out of the critical section). Single elements are not
  // offered: one short copy under the lock costs less than carrying it
  // across. Null: nothing to own.
  virtual std::shared_ptr<internal::OwnedRecords> OwnRecords(const TensorTuple& rows) const {
    return nullptr;
  }
  // DequeueMany(0)'s result.
  virtual TensorTuple EmptyMany() const;

  // Shape check used by ValidateElement/ValidateBatch: exact equality, or
  // compatibility for queues that accept unknown dims.
  virtual bool ShapeAccepts(const TensorShape& declared, const TensorShape& actual) const {
    return declared == actual;
  }

  // mu_ starts a cache line that also holds closed_, the attempt lists and
  // the fast-path element counts: the state every operation touches under
  // the lock travels between cores as one line.
  alignas(64) mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

 private:
  struct Attempt;
  class AttemptList {
   public:
    Attempt* front() const { return head_; }
    void PushBack(Attempt* a);
    void Remove(Attempt* a);
   private:
    Attempt* head_ = nullptr;
    Attempt* tail_ = nullptr;
  };
  AttemptList enqueuers_ ABSL_GUARDED_BY(mu_);
  AttemptList dequeuers_ ABSL_GUARDED_BY(mu_);
  // Counts of the single-element fast paths, kept under mu_ (which those
  // paths hold anyway) so they cost plain adds.
  int64_t fast_elements_in_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t fast_elements_out_ ABSL_GUARDED_BY(mu_) = 0;

  enum class Step { kNoProgress, kProgress, kComplete };

  // Queues `a`, flushes, waits until it completes or `w` ends it.
  void Run(Attempt* a, const WaitOptions& w) ABSL_LOCKS_EXCLUDED(mu_);
  // Run's body once mu_ is held; returns with mu_ released and `a` done.
  void WaitLocked(Attempt* a, const WaitOptions& w) ABSL_UNLOCK_FUNCTION(mu_);
  absl::StatusOr<TensorTuple> DequeueRows(int64_t n, bool up_to, const WaitOptions& w);
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LockSpinning(int backoff_pauses) const ABSL_EXCLUSIVE_LOCK_FUNCTION(mu_);
  // Complete a single-element request at once when nothing waits ahead of
  // it and return true with mu_ released. Otherwise return false with mu_
  // STILL HELD: the caller queues an Attempt (WaitLocked) or unlocks.
  bool TryFastEnqueue(TensorTuple* element, int64_t bytes)
      ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(false, mu_);
  bool TryFastDequeue(TensorTuple* out) ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(false, mu_);
  Step TryEnqueueLocked(Attempt* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Step TryDequeueLocked(Attempt* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static bool AttemptDoneOrStopped(Attempt* a);
  // The byte cap's admission rule (see QueueOptions::byte_capacity) for
  // `bytes` more payload.
  bool ByteRoomLocked(int64_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // TakeLocked / RestoreLocked that also keep stored_bytes_.
  void TakeCountedLocked(int64_t n, internal::RowChunks* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreCountedLocked(internal::RowChunks* parts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rows of `batch` from `first` that the element and byte caps admit now
  // (at most `limit`); adds their bytes to *bytes.
  int64_t RowsAdmittedLocked(const TensorTuple& batch, int64_t first, int64_t limit,
                             int64_t* bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ValidateComponents(const TensorTuple& t, bool batch) const;

  const std::string name_;
  const std::string kind_;
  const std::vector<DType> dtypes_;
  const std::vector<TensorShape> shapes_;
  const int64_t capacity_;
  const int64_t byte_capacity_;  // 0: none

  // Payload bytes stored, kept only when byte_capacity_ > 0.
  int64_t stored_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t fast_bytes_in_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t fast_bytes_out_ ABSL_GUARDED_BY(mu_) = 0;

  // Counts of the waiting paths, added after mu_ is released. Producer-side
  // and consumer-side counters sit on separate cache lines, so counting
  // does not bounce one line between the two sides.
  alignas(64) std::atomic<int64_t> elements_in_{0};
  std::atomic<int64_t> bytes_in_{0};
  std::atomic<int64_t> blocked_full_ns_{0};
  alignas(64) std::atomic<int64_t> elements_out_{0};
  std::atomic<int64_t> bytes_out_{0};
  std::atomic<int64_t> blocked_empty_ns_{0};

  // Iterations a blocked caller spins (with a yield every 64) before it
  // sleeps on the mutex condition, adapted per side between these bounds
  // (WaitLocked). Measured on 2 cores: 256 left the many128 1P1C transfer
  // sleeping once per batch (25 ns/element); 4096 covers a batch hand-off
  // (~7 ns/element). In a pipeline whose queues stay full (or empty) for
  // long, a fixed 4096 burned 1.8 cores for what 1.2 cores delivered.
  static constexpr int kMinSpinIterations = 64;
  static constexpr int kMaxSpinIterations = 4096;
  std::atomic<int> enqueue_spin_budget_{1024};
  std::atomic<int> dequeue_spin_budget_{1024};
  // Pauses a thread spends trying for a contended mu_ before Mutex::Lock
  // may sleep, in back-offs of kLockBackoffPauses (~10 us on this
  // machine's CPUs) for single-element fast paths. Measured at 1P1C single
  // elements: back-off 1 pause 0.73x the mutex-deque baseline, 20: 0.90x,
  // 60: 1.24x, 200: 1.48x, with many128 and shuffle unchanged.
  // Batch requests (and every blocked request) back off briefly instead:
  // they hold the lock for one short step per batch, so a long back-off is
  // pure delay for them.
  static constexpr int kLockSpinIterations = 2000;
  static constexpr int kLockBackoffPauses = 200;
  static constexpr int kBatchLockBackoffPauses = 8;

 protected:
  // Subclasses with extra configuration (min_after_dequeue) report it here.
  virtual int64_t min_after_dequeue() const { return 0; }
};

}  // namespace sluice
