// ThreadSanitizer builds only: makes the system abseil's Mutex and CondVar
// visible to TSan.
//
// Why: Debian's libabsl is not built with -fsanitize=thread, so absl::Mutex
// locks and unlocks with atomics and futexes TSan never sees, and every
// access guarded by an absl::Mutex (the queues) is reported as a race.
// How: the test binaries are linked with -Wl,--wrap=<symbol> for the Mutex
// and CondVar entry points (cmake/TsanAbslShim.cmake); each wrapper
// calls the real function and tells TSan about the happens-before edge it
// implies: __tsan_release(mu) before the mutex is given up (Unlock, entering
// Await or CondVar::Wait) and __tsan_acquire(mu) once it is held again.
// absl evaluates a waiter's Condition in whichever thread releases the mutex
// (inside Unlock), reading the waiter's stack; so every Condition passed to
// Await/LockWhen is wrapped to acquire before and release after each
// evaluation, which orders those reads with the waiter's own accesses.
//
// SLUICE_ABSL_NS / SLUICE_ABSL_NS_LEN (abseil's inline namespace, e.g.
// debian3 / 7) come from CMake, which reads them from absl/base/options.h.

#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#define SLUICE_SHIM_STR2(x) #x
#define SLUICE_SHIM_STR(x) SLUICE_SHIM_STR2(x)
#define SLUICE_ABSL_PREFIX "_ZN4absl" SLUICE_SHIM_STR(SLUICE_ABSL_NS_LEN) SLUICE_SHIM_STR(SLUICE_ABSL_NS)
#define REAL(rest) __asm__("__real_" SLUICE_ABSL_PREFIX rest)
#define WRAP(rest) __asm__("__wrap_" SLUICE_ABSL_PREFIX rest)

namespace {

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Time;

inline void Acquired(Mutex* mu) { __tsan_acquire(mu); }
inline void Releasing(Mutex* mu) { __tsan_release(mu); }

struct AnnotatedCondition {
  const Condition* original;
  Mutex* mu;
};
bool EvalAnnotated(AnnotatedCondition* c) {
  __tsan_acquire(c->mu);
  bool r = c->original->Eval();
  __tsan_release(c->mu);
  return r;
}

}  // namespace

// The real entry points (member functions take `this` first).
void RealLock(Mutex*) REAL("5Mutex4LockEv");
void RealUnlock(Mutex*) REAL("5Mutex6UnlockEv");
bool RealTryLock(Mutex*) REAL("5Mutex7TryLockEv");
void RealReaderLock(Mutex*) REAL("5Mutex10ReaderLockEv");
void RealReaderUnlock(Mutex*) REAL("5Mutex12ReaderUnlockEv");
bool RealReaderTryLock(Mutex*) REAL("5Mutex13ReaderTryLockEv");
void RealAwait(Mutex*, const Condition&) REAL("5Mutex5AwaitERKNS0_9ConditionE");
bool RealAwaitWithTimeout(Mutex*, const Condition&, Duration)
    REAL("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool RealAwaitWithDeadline(Mutex*, const Condition&, Time)
    REAL("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
void RealLockWhen(Mutex*, const Condition&) REAL("5Mutex8LockWhenERKNS0_9ConditionE");
bool RealLockWhenWithTimeout(Mutex*, const Condition&, Duration)
    REAL("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool RealLockWhenWithDeadline(Mutex*, const Condition&, Time)
    REAL("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
void RealReaderLockWhen(Mutex*, const Condition&) REAL("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
bool RealReaderLockWhenWithTimeout(Mutex*, const Condition&, Duration)
    REAL("5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool RealReaderLockWhenWithDeadline(Mutex*, const Condition&, Time)
    REAL("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
void RealCondVarWait(CondVar*, Mutex*) REAL("7CondVar4WaitEPNS0_5MutexE");
bool RealCondVarWaitWithTimeout(CondVar*, Mutex*, Duration)
    REAL("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
bool RealCondVarWaitWithDeadline(CondVar*, Mutex*, Time)
    REAL("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");

// The wrappers the linker substitutes for them.
void WrapLock(Mutex* mu) WRAP("5Mutex4LockEv");
void WrapLock(Mutex* mu) {
  RealLock(mu);
  Acquired(mu);
}
void WrapUnlock(Mutex* mu) WRAP("5Mutex6UnlockEv");
void WrapUnlock(Mutex* mu) {
  Releasing(mu);
  RealUnlock(mu);
}
bool WrapTryLock(Mutex* mu) WRAP("5Mutex7TryLockEv");
bool WrapTryLock(Mutex* mu) {
  bool held = RealTryLock(mu);
  if (held) Acquired(mu);
  return held;
}
void WrapReaderLock(Mutex* mu) WRAP("5Mutex10ReaderLockEv");
void WrapReaderLock(Mutex* mu) {
  RealReaderLock(mu);
  Acquired(mu);
}
void WrapReaderUnlock(Mutex* mu) WRAP("5Mutex12ReaderUnlockEv");
void WrapReaderUnlock(Mutex* mu) {
  Releasing(mu);
  RealReaderUnlock(mu);
}
bool WrapReaderTryLock(Mutex* mu) WRAP("5Mutex13ReaderTryLockEv");
bool WrapReaderTryLock(Mutex* mu) {
  bool held = RealReaderTryLock(mu);
  if (held) Acquired(mu);
  return held;
}
void WrapAwait(Mutex* mu, const Condition& c) WRAP("5Mutex5AwaitERKNS0_9ConditionE");
void WrapAwait(Mutex* mu, const Condition& c) {
  Releasing(mu);
  AnnotatedCondition ac{&c, mu};
  RealAwait(mu, Condition(&EvalAnnotated, &ac));
  Acquired(mu);
}
bool WrapAwaitWithTimeout(Mutex* mu, const Condition& c, Duration d)
    WRAP("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool WrapAwaitWithTimeout(Mutex* mu, const Condition& c, Duration d) {
  Releasing(mu);
  AnnotatedCondition ac{&c, mu};
  bool r = RealAwaitWithTimeout(mu, Condition(&EvalAnnotated, &ac), d);
  Acquired(mu);
  return r;
}
bool WrapAwaitWithDeadline(Mutex* mu, const Condition& c, Time t)
    WRAP("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
bool WrapAwaitWithDeadline(Mutex* mu, const Condition& c, Time t) {
  Releasing(mu);
  AnnotatedCondition ac{&c, mu};
  bool r = RealAwaitWithDeadline(mu, Condition(&EvalAnnotated, &ac), t);
  Acquired(mu);
  return r;
}
void WrapLockWhen(Mutex* mu, const Condition& c) WRAP("5Mutex8LockWhenERKNS0_9ConditionE");
void WrapLockWhen(Mutex* mu, const Condition& c) {
  AnnotatedCondition ac{&c, mu};
  RealLockWhen(mu, Condition(&EvalAnnotated, &ac));
  Acquired(mu);
}
bool WrapLockWhenWithTimeout(Mutex* mu, const Condition& c, Duration d)
    WRAP("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool WrapLockWhenWithTimeout(Mutex* mu, const Condition& c, Duration d) {
  AnnotatedCondition ac{&c, mu};
  bool r = RealLockWhenWithTimeout(mu, Condition(&EvalAnnotated, &ac), d);
  Acquired(mu);  // held whatever the result
  return r;
}
bool WrapLockWhenWithDeadline(Mutex* mu, const Condition& c, Time t)
    WRAP("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
bool WrapLockWhenWithDeadline(Mutex* mu, const Condition& c, Time t) {
  AnnotatedCondition ac{&c, mu};
  bool r = RealLockWhenWithDeadline(mu, Condition(&EvalAnnotated, &ac), t);
  Acquired(mu);
  return r;
}
void WrapReaderLockWhen(Mutex* mu, const Condition& c)
    WRAP("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
void WrapReaderLockWhen(Mutex* mu, const Condition& c) {
  AnnotatedCondition ac{&c, mu};
  RealReaderLockWhen(mu, Condition(&EvalAnnotated, &ac));
  Acquired(mu);
}
bool WrapReaderLockWhenWithTimeout(Mutex* mu, const Condition& c, Duration d)
    WRAP("5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
bool WrapReaderLockWhenWithTimeout(Mutex* mu, const Condition& c, Duration d) {
  AnnotatedCondition ac{&c, mu};
  bool r = RealReaderLockWhenWithTimeout(mu, Condition(&EvalAnnotated, &ac), d);
  Acquired(mu);
  return r;
}
bool WrapReaderLockWhenWithDeadline(Mutex* mu, const Condition& c, Time t)
    WRAP("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
bool WrapReaderLockWhenWithDeadline(Mutex* mu, const Condition& c, Time t) {
  AnnotatedCondition ac{&c, mu};
  bool r = RealReaderLockWhenWithDeadline(mu, Condition(&EvalAnnotated, &ac), t);
  Acquired(mu);
  return r;
}
void WrapCondVarWait(CondVar* cv, Mutex* mu) WRAP("7CondVar4WaitEPNS0_5MutexE");
void WrapCondVarWait(CondVar* cv, Mutex* mu) {
  Releasing(mu);
  RealCondVarWait(cv, mu);
  Acquired(mu);
}
bool WrapCondVarWaitWithTimeout(CondVar* cv, Mutex* mu, Duration d)
    WRAP("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
bool WrapCondVarWaitWithTimeout(CondVar* cv, Mutex* mu, Duration d) {
  Releasing(mu);
  bool r = RealCondVarWaitWithTimeout(cv, mu, d);
  Acquired(mu);
  return r;
}
bool WrapCondVarWaitWithDeadline(CondVar* cv, Mutex* mu, Time t)
    WRAP("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
bool WrapCondVarWaitWithDeadline(CondVar* cv, Mutex* mu, Time t) {
  Releasing(mu);
  bool r = RealCondVarWaitWithDeadline(cv, mu, t);
  Acquired(mu);
  return r;
}
