#include "queues/queue_base.h"

#include <climits>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/absl_compat.h"

namespace sluice {

namespace {
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

using internal::RowChunk;
using internal::RowChunks;

struct QueueBase::Attempt {
  enum class Kind { kEnqueue, kEnqueueMany, kClose, kDequeue, kDequeueMany, kDequeueUpTo };
  Kind kind;
  // Enqueue side: the element or batch, and the next row to move.
  TensorTuple* input = nullptr;
  int64_t next_row = 0;
  int64_t total_rows = 0;
  // Dequeue side: rows still wanted and the chunks taken so far.
  int64_t remaining = 0;
  int64_t taken = 0;
  internal::RowChunks parts;
  const std::stop_token* stop = nullptr;
  // EnqueueMany: the batch's strings as owned by OwnRecords (may be null).
  std::shared_ptr<internal::OwnedRecords> owned;
  // Written under mu_; read without it by the owner while it spins.
  std::atomic<bool> done{false};
  absl::Status status;
  Attempt* prev = nullptr;
  Attempt* next = nullptr;

  bool is_enqueue_side() const {
    return kind == Kind::kEnqueue || kind == Kind::kEnqueueMany || kind == Kind::kClose;
  }
};

void QueueBase::AttemptList::PushBack(Attempt* a) {
  a->prev = tail_;
  a->next = nullptr;
  if (tail_) tail_->next = a; else head_ = a;
  tail_ = a;
}

void QueueBase::AttemptList::Remove(Attempt* a) {
  if (a->prev) a->prev->next = a->next; else head_ = a->next;
  if (a->next) a->next->prev = a->prev; else tail_ = a->prev;
  a->prev = a->next = nullptr;
}

QueueBase::QueueBase(const QueueOptions& options, std::string_view kind)
    : name_((ConfigureAbslMutexOnce(), options.name)),
      kind_(kind),
      dtypes_(options.dtypes),
      shapes_(options.shapes),
      capacity_(options.capacity < 0 ? INT32_MAX : options.capacity),
      byte_capacity_(std::max<int64_t>(0, options.byte_capacity)) {}

absl::Status QueueBase::ValidateOptions(const QueueOptions& options, std::string_view kind) {
  if (options.dtypes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(kind), " '", options.name, "': needs at least one component type"));
  }
  if (!options.shapes.empty() && options.shapes.size() != options.dtypes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(kind), " '", options.name, "': ", options.shapes.size(),
        " component shapes given for ", options.dtypes.size(), " component types"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- validation

absl::Status QueueBase::ValidateComponents(const TensorTuple& t, bool batch) const {
  if (t.size() != dtypes_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Wrong number of components in tuple for ", kind_, " '", name_,
                     "'. Expected ", dtypes_.size(), ", got ", t.size()));
  }
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t[i].IsInitialized()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Uninitialized tensor in tuple component ", i));
    }
    if (t[i].dtype() != dtypes_[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Type mismatch in tuple component ", i, ". Expected ", Sv(DTypeName(dtypes_[i])),
          ", got ", Sv(DTypeName(t[i].dtype()))));
    }
    if (batch && t[i].rank() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "EnqueueMany needs a batch dimension; tuple component ", i, " is a scalar"));
    }
  }
  if (batch) {
    const int64_t b = t[0].dim(0);
    for (size_t i = 0; i < t.size(); ++i) {
      if (shapes_.empty()) {
        if (t[i].dim(0) != b) {
          return absl::InvalidArgumentError(absl::StrCat(
              "EnqueueMany: tuple components have different batch sizes: component 0 has ",
              b, ", component ", i, " has ", t[i].dim(0)));
        }
      } else if (t[i].dim(0) != b || !ShapeAccepts(shapes_[i], t[i].shape().DroppedFirst())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Shape mismatch in tuple component ", i, ". Expected ",
            shapes_[i].Prepended(b).DebugString(), ", got ", t[i].shape().DebugString()));
      }
    }
  } else if (!shapes_.empty()) {
    for (size_t i = 0; i < t.size(); ++i) {
      if (!ShapeAccepts(shapes_[i], t[i].shape())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Shape mismatch in tuple component ", i, ". Expected ",
            shapes_[i].DebugString(), ", got ", t[i].shape().DebugString()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status QueueBase::ValidateElement(const TensorTuple& element) const {
  return ValidateComponents(element, /*batch=*/false);
}
absl::Status QueueBase::ValidateBatch(const TensorTuple& batch) const {
  return ValidateComponents(batch, /*batch=*/true);
}

// ------------------------------------------------------------------ requests

absl::Status QueueBase::Enqueue(TensorTuple element, const WaitOptions& w) {
  SLUICE_RETURN_IF_ERROR(ValidateElement(element));
  const int64_t bytes = TuplePayloadBytes(element);
  Attempt a{.kind = Attempt::Kind::kEnqueue, .input = &element, .total_rows = 1};
  if (w.stop.stop_requested()) {
    Run(&a, w);  // reports the cancellation
  } else if (TryFastEnqueue(&element, bytes)) {
    return absl::OkStatus();
  } else if (w.stop.stop_possible()) {
    mu_.Unlock();  // Run registers the stop callback before it locks
    Run(&a, w);
  } else {
    WaitLocked(&a, w);
  }
  if (a.status.ok()) {
    elements_in_.fetch_add(1, std::memory_order_relaxed);
    bytes_in_.fetch_add(bytes, std::memory_order_relaxed);
  }
  return a.status;
}

absl::Status QueueBase::EnqueueMany(TensorTuple batch, const WaitOptions& w) {
  SLUICE_RETURN_IF_ERROR(ValidateBatch(batch));
  const int64_t b = batch[0].dim(0);
  if (b == 0) return absl::OkStatus();  // even when closed (checklist 10)
  const int64_t bytes = TuplePayloadBytes(batch);
  Attempt a{.kind = Attempt::Kind::kEnqueueMany, .input = &batch, .total_rows = b};
  a.owned = OwnRecords(batch);
  Run(&a, w);
  // Rows moved before a failure stay in the queue and are counted.
  if (a.next_row > 0) {
    elements_in_.fetch_add(a.next_row, std::memory_order_relaxed);
    bytes_in_.fetch_add(a.next_row == b ? bytes : bytes * a.next_row / b,
                        std::memory_order_relaxed);
  }
  return a.status;
}

absl::StatusOr<TensorTuple> QueueBase::Dequeue(const WaitOptions& w) {
  TensorTuple out;
  Attempt a{.kind = Attempt::Kind::kDequeue, .remaining = 1};
  if (w.stop.stop_requested()) {
    Run(&a, w);  // reports the cancellation
  } else if (TryFastDequeue(&out)) {
    return out;
  } else if (w.stop.stop_possible()) {
    mu_.Unlock();  // TryFastDequeue left it held; Run registers the stop callback first
    Run(&a, w);
  } else {
    WaitLocked(&a, w);
  }
  if (!a.status.ok()) return a.status;
  RowChunk& got = a.parts[0];
  out = got.stacked ? got.Element(0) : std::move(got.tuple);
  elements_out_.fetch_add(1, std::memory_order_relaxed);
  bytes_out_.fetch_add(TuplePayloadBytes(out), std::memory_order_relaxed);
  return out;
}

absl::StatusOr<TensorTuple> QueueBase::DequeueMany(int64_t n, const WaitOptions& w) {
  return DequeueRows(n, /*up_to=*/false, w);
}

absl::StatusOr<TensorTuple> QueueBase::DequeueUpTo(int64_t n, const WaitOptions& w) {
  return DequeueRows(n, /*up_to=*/true, w);
}

absl::StatusOr<TensorTuple> QueueBase::DequeueRows(int64_t n, bool up_to, const WaitOptions& w) {
  const char* op = up_to ? "DequeueUpTo" : "DequeueMany";
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, " on ", kind_, " '", name_, "' requested n < 0 elements (", n, ")"));
  }
  if (shapes_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind_, " '", name_,
        "': DequeueMany and DequeueUpTo require the components to have specified shapes"));
  }
  if (n == 0) return EmptyMany();
  Attempt a{.kind = up_to ? Attempt::Kind::kDequeueUpTo : Attempt::Kind::kDequeueMany,
            .remaining = n};
  Run(&a, w);
  if (!a.status.ok()) return a.status;
  absl::StatusOr<TensorTuple> out = AssembleMany(std::move(a.parts), a.taken);
  if (out.ok()) {
    elements_out_.fetch_add(a.taken, std::memory_order_relaxed);
    bytes_out_.fetch_add(TuplePayloadBytes(*out), std::memory_order_relaxed);
  }
  return out;
}

absl::Status QueueBase::Close(bool cancel_pending_enqueues, const WaitOptions& w) {
  if (!cancel_pending_enqueues) {
    Attempt a{.kind = Attempt::Kind::kClose};
    Run(&a, w);
    return a.status;
  }
  absl::MutexLock lock(&mu_);
  closed_ = true;
  while (Attempt* a = enqueuers_.front()) {
    enqueuers_.Remove(a);
    a->status = absl::CancelledError(
        a->kind == Attempt::Kind::kClose
            ? absl::StrCat("Close of ", kind_, " '", name_,
                           "' was cancelled: the queue was closed with cancel_pending_enqueues")
            : absl::StrCat("Enqueue operation was cancelled: ", kind_, " '", name_,
                           "' was closed with cancel_pending_enqueues"));
    a->done.store(true, std::memory_order_release);
  }
  FlushLocked();
  return absl::OkStatus();
}

bool QueueBase::IsClosed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int64_t QueueBase::Size() const {
  absl::MutexLock lock(&mu_);
  return StoredLocked();
}

// -------------------------------------------------------------------- engine

// The uncontended single-element paths: when no request is waiting on this
// side, a request that can finish at once needs no Attempt, list or flush
// loop, and strict order is kept trivially. A flush still runs when the
// other side has waiters, so they are served as before. Counting happens
// under the lock already held (plain adds, no atomic read-modify-write).
// On failure mu_ stays held, so a request that must wait is queued under
// the same lock hold (WaitLocked): taking mu_ twice per blocked request
// would bounce its cache line between cores once more per element.
bool QueueBase::TryFastEnqueue(TensorTuple* element, int64_t bytes) {
  LockSpinning(kLockBackoffPauses);
  if (enqueuers_.front() != nullptr || closed_ || StoredLocked() >= capacity_ ||
      (byte_capacity_ > 0 && !ByteRoomLocked(bytes))) {
    return false;
  }
  PushLocked(RowChunk{std::move(*element), /*stacked=*/false});
  if (byte_capacity_ > 0) stored_bytes_ += bytes;
  ++fast_elements_in_;
  fast_bytes_in_ += bytes;
  if (dequeuers_.front() != nullptr) FlushLocked();
  mu_.Unlock();
  return true;
}

bool QueueBase::TryFastDequeue(TensorTuple* out) {
  LockSpinning(kLockBackoffPauses);
  if (dequeuers_.front() != nullptr || AvailableLocked() <= 0) return false;
  RowChunks parts;
  TakeCountedLocked(1, &parts);
  RowChunk& got = parts[0];
  *out = got.stacked ? got.Element(0) : std::move(got.tuple);
  ++fast_elements_out_;
  fast_bytes_out_ += TuplePayloadBytes(*out);
  if (enqueuers_.front() != nullptr) FlushLocked();
  mu_.Unlock();
  return true;
}

bool QueueBase::AttemptDoneOrStopped(Attempt* a) {
  return a->done.load(std::memory_order_relaxed) ||
         (a->stop != nullptr && a->stop->stop_requested());
}


void QueueBase::LockSpinning(int backoff_pauses) const {
  // When both sides of a queue run on their own cores, every hand-off of
  // mu_ moves its cache line and the queue's storage lines across cores
  // (~600 ns per element measured at 1P1C, 2.5x slower than the same two
  // threads sharing one core). A thread that finds mu_ taken therefore
  // backs off for a few microseconds instead of retrying at once: the owner
  // meanwhile runs a burst of operations with every line local, which is
  // what a futex-sleeping std::mutex gets by accident. After
  // kLockSpinIterations pauses, Mutex::Lock queues (and may sleep).
  for (int i = 0; i < kLockSpinIterations; i += backoff_pauses) {
    if (mu_.TryLock()) return;
    for (int k = 0; k < backoff_pauses; ++k) CpuRelax();
  }
  mu_.Lock();
}

namespace {
// Runs when a waiter's stop token fires: taking and releasing the mutex
// makes absl re-evaluate the waiters' conditions, which include the token.
struct PokeMutex {
  absl::Mutex* mu;
  void operator()() const { absl::MutexLock lock(mu); }
};
}  // namespace

void QueueBase::Run(Attempt* a, const WaitOptions& w) {
  const bool enqueue_side = a->is_enqueue_side();
  if (w.stop.stop_requested()) {
    a->status = absl::CancelledError(absl::StrCat(
        enqueue_side ? "Enqueue" : "Dequeue", " operation was cancelled (stop requested) on ",
        kind_, " '", name_, "'"));
    return;
  }
  // Registered before mu_ is taken: if the token fires meanwhile, the
  // callback runs here, in this thread, and must not find mu_ held.
  std::optional<std::stop_callback<PokeMutex>> wake;
  if (w.stop.stop_possible()) {
    a->stop = &w.stop;
    wake.emplace(w.stop, PokeMutex{&mu_});
  }
  LockSpinning(kBatchLockBackoffPauses);
  WaitLocked(a, w);
}

void QueueBase::WaitLocked(Attempt* a, const WaitOptions& w) {
  const bool enqueue_side = a->is_enqueue_side();
  (enqueue_side ? enqueuers_ : dequeuers_).PushBack(a);
  FlushLocked();
  if (!a->done.load(std::memory_order_relaxed) &&
      (w.deadline == absl::InfiniteFuture() || w.deadline > absl::Now())) {
    // Another thread usually completes this attempt within microseconds
    // (the flushing thread moves our rows for us). Spinning briefly, with
    // yields so oversubscribed threads still run, avoids a futex sleep and
    // wake per batch: that round trip, not the queue work, dominates a
    // bounded queue running at capacity.
    mu_.Unlock();
    const absl::Time start = absl::Now();
    // How long to spin adapts per side: a wait that spinning would have
    // covered doubles the next budget, one that ended in a sleep halves it.
    // Long waits (a slow stage downstream) thus stop burning a core that
    // the other threads of a pipeline need.
    std::atomic<int>& budget = enqueue_side ? enqueue_spin_budget_ : dequeue_spin_budget_;
    const int spins = budget.load(std::memory_order_relaxed);
    int i = 1;
    for (; i <= spins; ++i) {
      if (a->done.load(std::memory_order_acquire)) break;
      if (a->stop != nullptr && a->stop->stop_requested()) break;
      if (i % 64 == 0) {
        if (absl::Now() > w.deadline) break;
        std::this_thread::yield();
      } else {
        CpuRelax();
      }
    }
    // A flushing thread sets `done` (release) as its last touch of the
    // attempt, so once we see it we own the attempt again and need not take
    // mu_: re-locking here would queue us behind the thread that just
    // served us and often put us to sleep in Mutex::Lock.
    const bool served = a->done.load(std::memory_order_acquire);
    if (served && i <= spins) {
      if (spins < kMaxSpinIterations) budget.store(spins * 2, std::memory_order_relaxed);
    } else if (spins > kMinSpinIterations) {
      budget.store(spins / 2, std::memory_order_relaxed);
    }
    if (!served) {
      mu_.Lock();
      if (!a->done.load(std::memory_order_relaxed)) {
        mu_.AwaitWithDeadline(absl::Condition(&QueueBase::AttemptDoneOrStopped, a), w.deadline);
      }
    }
    const int64_t waited = absl::ToInt64Nanoseconds(absl::Now() - start);
    (enqueue_side ? blocked_full_ns_ : blocked_empty_ns_)
        .fetch_add(waited, std::memory_order_relaxed);
    if (served) return;
  }
  if (a->done.load(std::memory_order_relaxed)) {
    mu_.Unlock();
    return;
  }

  // Timed out or cancelled: leave the queue as it was.
  (enqueue_side ? enqueuers_ : dequeuers_).Remove(a);
  if (!a->parts.empty()) {
    RestoreCountedLocked(&a->parts);
    a->taken = 0;
  }
  const char* what = enqueue_side ? (a->kind == Attempt::Kind::kClose ? "Close" : "Enqueue")
                                  : "Dequeue";
  if (a->stop != nullptr && a->stop->stop_requested()) {
    a->status = absl::CancelledError(absl::StrCat(
        what, " operation was cancelled (stop requested) on ", kind_, " '", name_, "'"));
  } else {
    a->status = absl::DeadlineExceededError(absl::StrCat(
        "Timed out waiting for notification: ", what, " on ", kind_, " '", name_,
        "' passed its deadline"));
  }
  a->done.store(true, std::memory_order_relaxed);
  FlushLocked();  // a removed head may unblock the attempts behind it
  mu_.Unlock();
}

void QueueBase::FlushLocked() {
  bool changed;
  do {
    changed = false;
    while (Attempt* a = enqueuers_.front()) {
      Step s = TryEnqueueLocked(a);
      if (s == Step::kComplete) {
        enqueuers_.Remove(a);
        a->done.store(true, std::memory_order_release);
        changed = true;
        continue;
      }
      if (s == Step::kProgress) changed = true;
      break;
    }
    while (Attempt* a = dequeuers_.front()) {
      Step s = TryDequeueLocked(a);
      if (s == Step::kComplete) {
        dequeuers_.Remove(a);
        a->done.store(true, std::memory_order_release);
        changed = true;
        continue;
      }
      if (s == Step::kProgress) changed = true;
      break;
    }
  } while (changed);
}

QueueBase::Step QueueBase::TryEnqueueLocked(Attempt* a) {
  if (a->kind == Attempt::Kind::kClose) {
    if (closed_) {
      a->status = absl::CancelledError(
          absl::StrCat("Queue '", name_, "' is already closed."));
    } else {
      closed_ = true;
    }
    return Step::kComplete;
  }
  if (closed_) {
    a->status = absl::CancelledError(absl::StrCat(kind_, " '", name_, "' is closed."));
    return Step::kComplete;
  }
  const int64_t room = capacity_ - StoredLocked();
  if (room <= 0) return Step::kNoProgress;
  if (a->kind == Attempt::Kind::kEnqueue) {
    if (byte_capacity_ > 0) {
      const int64_t bytes = TuplePayloadBytes(*a->input);
      if (!ByteRoomLocked(bytes)) return Step::kNoProgress;
      stored_bytes_ += bytes;
    }
    PushLocked(RowChunk{std::move(*a->input), /*stacked=*/false});
    a->next_row = 1;
    return Step::kComplete;
  }
  const int64_t left = a->total_rows - a->next_row;
  int64_t k = std::min(room, left);
  if (byte_capacity_ > 0) {
    int64_t bytes = 0;
    k = RowsAdmittedLocked(*a->input, a->next_row, k, &bytes);
    if (k == 0) return Step::kNoProgress;
    stored_bytes_ += bytes;
  }
  if (k == a->total_rows) {
    // Whole batch: no slicing.
    PushLocked(RowChunk{std::move(*a->input), /*stacked=*/true, a->owned});
  } else {
    RowChunk batch{*a->input, /*stacked=*/true, a->owned};
    PushLocked(batch.Slice(a->next_row, a->next_row + k));
  }
  a->next_row += k;
  return a->next_row == a->total_rows ? Step::kComplete : Step::kProgress;
}

QueueBase::Step QueueBase::TryDequeueLocked(Attempt* a) {
  if (closed_) {
    int64_t stored = StoredLocked();
    if (stored < a->remaining) {
      // Cannot be satisfied any more: put back what was taken, in order.
      if (!a->parts.empty()) {
        RestoreCountedLocked(&a->parts);
        a->remaining += a->taken;
        a->taken = 0;
        stored = StoredLocked();
      }
      if (a->kind == Attempt::Kind::kDequeueUpTo && stored > 0) {
        TakeCountedLocked(stored, &a->parts);
        a->taken = stored;
        a->remaining = 0;
        return Step::kComplete;
      }
      a->status = absl::OutOfRangeError(absl::StrCat(
          kind_, " '", name_, "' is closed and has insufficient elements (requested ",
          a->remaining, ", current size ", stored, ")"));
      return Step::kComplete;
    }
  }
  const int64_t available = AvailableLocked();
  if (available <= 0) return Step::kNoProgress;
  if (!TakesPartially() && available < a->remaining) return Step::kNoProgress;
  const int64_t k = std::min(available, a->remaining);
  TakeCountedLocked(k, &a->parts);
  a->taken += k;
  a->remaining -= k;
  return a->remaining == 0 ? Step::kComplete : Step::kProgress;
}

bool QueueBase::ByteRoomLocked(int64_t bytes) const {
  return stored_bytes_ + bytes <= byte_capacity_ || AvailableLocked() == 0 ||
         dequeuers_.front() != nullptr;
}

void QueueBase::TakeCountedLocked(int64_t n, RowChunks* out) {
  const size_t first = out->size();
  TakeLocked(n, out);
  if (byte_capacity_ > 0) {
    for (size_t i = first; i < out->size(); ++i) {
      stored_bytes_ -= TuplePayloadBytes((*out)[i].tuple);
    }
  }
}

void QueueBase::RestoreCountedLocked(RowChunks* parts) {
  if (byte_capacity_ > 0) {
    for (const RowChunk& c : *parts) stored_bytes_ += TuplePayloadBytes(c.tuple);
  }
  RestoreLocked(parts);
}

int64_t QueueBase::RowsAdmittedLocked(const TensorTuple& batch, int64_t first, int64_t limit,
                                      int64_t* bytes) const {
  // Rows of numeric components have a fixed size; strings are summed.
  int64_t fixed = 0;
  bool has_strings = false;
  for (const Tensor& t : batch) {
    const int64_t rows = t.dim(0);
    const int64_t row_elems = rows == 0 ? 0 : t.NumElements() / rows;
    if (t.dtype() == DType::kString) {
      has_strings = true;
    } else {
      fixed += row_elems * DTypeSize(t.dtype());
    }
  }
  int64_t k = 0;
  int64_t total = 0;
  while (k < limit) {
    int64_t row = fixed;
    if (has_strings) {
      for (const Tensor& t : batch) {
        if (t.dtype() != DType::kString) continue;
        const int64_t row_elems = t.NumElements() / t.dim(0);
        const std::string_view* v = t.data<std::string_view>() + (first + k) * row_elems;
        for (int64_t e = 0; e < row_elems; ++e) row += v[e].size();
      }
    }
    // The first row follows the liveness rule; later ones must fit.
    const bool fits = k == 0 ? ByteRoomLocked(row)
                             : stored_bytes_ + total + row <= byte_capacity_;
    if (!fits) break;
    total += row;
    ++k;
  }
  *bytes += total;
  return k;
}

// ------------------------------------------------------------------ assembly

absl::StatusOr<TensorTuple> QueueBase::AssembleMany(internal::RowChunks parts,
                                                    int64_t n) const {
  if (parts.size() == 1 && parts[0].stacked && parts[0].rows() == n) {
    return std::move(parts[0].tuple);  // rows arrived as one batch: no copy
  }
  TensorTuple out;
  out.reserve(dtypes_.size());
  for (size_t i = 0; i < dtypes_.size(); ++i) {
    Tensor t(dtypes_[i], shapes_[i].Prepended(n));
    if (!t.IsInitialized()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "DequeueMany on ", kind_, " '", name_, "': cannot allocate a batch of ", n, " rows"));
    }
    int64_t row = 0;
    for (const RowChunk& c : parts) {
      if (c.stacked) {
        Tensor::CopyRows(c.tuple[i], 0, &t, row, c.rows());
      } else {
        Tensor::CopyElementToRow(c.tuple[i], &t, row);
      }
      row += c.rows();
    }
    out.push_back(std::move(t));
  }
  return out;
}

TensorTuple QueueBase::EmptyMany() const {
  TensorTuple out;
  for (size_t i = 0; i < dtypes_.size(); ++i) {
    TensorShape s = shapes_[i];
    for (int d = 0; d < s.rank(); ++d) {
      if (s.dim(d) < 0) s.set_dim(d, 0);
    }
    out.push_back(Tensor(dtypes_[i], s.Prepended(0)));
  }
  return out;
}

// ----------------------------------------------------------------- reporting

QueueStats QueueBase::stats() const {
  QueueStats s;
  s.size = Size();
  s.capacity = capacity_;
  s.byte_capacity = byte_capacity_;
  s.min_after_dequeue = min_after_dequeue();
  {
    absl::MutexLock lock(&mu_);
    s.elements_in = fast_elements_in_;
    s.elements_out = fast_elements_out_;
    s.bytes_in = fast_bytes_in_;
    s.bytes_out = fast_bytes_out_;
    s.bytes_stored = stored_bytes_;
  }
  s.elements_in += elements_in_.load(std::memory_order_relaxed);
  s.elements_out += elements_out_.load(std::memory_order_relaxed);
  s.bytes_in += bytes_in_.load(std::memory_order_relaxed);
  s.bytes_out += bytes_out_.load(std::memory_order_relaxed);
  s.blocked_on_full = absl::Nanoseconds(blocked_full_ns_.load(std::memory_order_relaxed));
  s.blocked_on_empty = absl::Nanoseconds(blocked_empty_ns_.load(std::memory_order_relaxed));
  return s;
}

absl::Status QueueBase::CheckCompatibleForSharing(const QueueInterface& requested) const {
  auto mismatch = [&](std::string_view property, const std::string& have,
                      const std::string& want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Shared queue '", name_, "' has ", Sv(property), " ", have, " but requested ",
        Sv(property), " ", want));
  };
  if (requested.kind() != kind_) {
    return mismatch("type", kind_, std::string(requested.kind()));
  }
  if (requested.capacity() != capacity_) {
    return mismatch("capacity", absl::StrCat(capacity_), absl::StrCat(requested.capacity()));
  }
  if (const int64_t want = requested.stats().byte_capacity; want != byte_capacity_) {
    return mismatch("byte capacity", absl::StrCat(byte_capacity_), absl::StrCat(want));
  }
  auto types = [](const std::vector<DType>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) absl::StrAppend(&s, i ? "," : "", Sv(DTypeName(v[i])));
    return s + "]";
  };
  if (requested.component_dtypes() != dtypes_) {
    return mismatch("component types", types(dtypes_), types(requested.component_dtypes()));
  }
  auto shapes = [](const std::vector<TensorShape>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) absl::StrAppend(&s, i ? "," : "", v[i].DebugString());
    return s + "]";
  };
  const auto& want = requested.component_shapes();
  bool same = want.size() == shapes_.size();
  for (size_t i = 0; same && i < want.size(); ++i) {
    same = ShapeAccepts(shapes_[i], want[i]) || shapes_[i] == want[i];
  }
  if (!same) return mismatch("component shapes", shapes(shapes_), shapes(want));
  return absl::OkStatus();
}

double QueueStats::FractionFull() const {
  return capacity > 0 ? static_cast<double>(size) / capacity : 0.0;
}

double QueueStats::FractionOverMinFull() const {
  const int64_t span = capacity - min_after_dequeue;
  if (span <= 0) return 0.0;
  return static_cast<double>(std::max<int64_t>(0, size - min_after_dequeue)) / span;
}

std::string QueueStats::FillSummaryTag() const {
  if (min_after_dequeue > 0) {
    return absl::StrCat("fraction_over_", min_after_dequeue, "_of_",
                        capacity - min_after_dequeue, "_full");
  }
  return absl::StrCat("fraction_of_", capacity, "_full");
}

}  // namespace sluice
