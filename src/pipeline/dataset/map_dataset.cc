// Map (§5.6). Sequential, or parallel on the WorkerPool: each call pulls
// its own input (under an input lock, which fixes the element's position)
// and then, outside the lock, runs the work the input deferred
// (DeferredWork: a Shuffle's copies, passed on by Batch) and the function,
// on a pool thread or on the consumer. At most
// `limit` calls are in flight and at most `limit` + `extra` results wait to
// be taken (`extra`: the buffer of a Prefetch absorbed above it); a thread
// that finishes a call goes on with the next one while that bound allows,
// so a busy pipeline pays no hand-off per call. Results leave in input
// order (deterministic, the default) or in completion order (end of input
// and errors of the sequential kind still come from the head).
//
// Who runs the calls. A wake-up costs more than it looks: on the 2-vCPU VM
// of pipeline.dataset the scheduler's share (futex wakes, IPIs, context
// switches) was ~120 ns per record at 2 CPUs against ~15 ns at 1 CPU, a
// fifth of the CPU time. So threads are woken only when more of them are
// needed, never per call:
//  * The consumer, finding no result to take, runs a call itself while the
//    bound allows one more (it would wait otherwise); it sleeps only when
//    `limit` calls are running, until the head result (any result, sloppy)
//    is stored.
//  * Pool threads are workers, not calls: a worker claims calls while the
//    bound allows and then leaves. One is started when the consumer leaves
//    (or starts a call) with room for calls and no worker about; a worker
//    that starts a call while the consumer is away (its own work between
//    GetNext calls) and the bound has room for one more starts another, up
//    to `limit` workers (and pool threads). So while the consumer is away
//    the calls reach `limit` at once one call after the first worker
//    started. A worker that wakes the waiting consumer with the head
//    result leaves when another worker is running, so that the consumer
//    takes over its share instead of sleeping again.
// With `limit` 2 on 2 CPUs and a fast consumer this settles on the consumer
// and one pool thread each running calls back to back, with no wake-ups;
// with a consumer busy elsewhere, on `limit` pool threads. (Before: every
// result woke the consumer, and each call taken was queued for the pool,
// whose wake-up found the call gone ~60% of the time: ~1.2 thread wake-ups
// per batch.) Nothing waits for a pool thread to start: a nested stage
// whose workers queue behind busy pool threads still progresses on its
// consumer.
//
// AUTOTUNE (num_parallel_calls = kAutotune, and/or an absorbed
// Prefetch(kAutotune)): `limit` starts at the CPU budget (or the last
// iterator's choice) and `extra` at 1; every tuning period the consumer
// re-chooses them with autotune::ChooseMap from the period's measured pull
// and function times (mean, spread and distribution), a pool worker's wait
// from its submission to its start (a stopped slot's restart), the
// consumer's own time per element and the distribution of its gaps between
// takes (the distributions halved each period), the process's CPU time per
// element, the calls' share of time on a CPU or
// waiting for one (ThreadSchedTimes of the first kSampledCalls calls of
// each period: a read costs ~1 us) and the results' size,
// within the CPU budget, the ceiling of kMaxCallsPerCpu calls per CPU and
// the memory budget (autotune.h). The choices are set as the stage's
// "parallelism" and "buffer" parameters (StageMetrics), beside what they
// rest on ("call_cpu_pct", "parallelism_cap", "result_kb",
// "memory_budget_mb", "restart_us", "consumer_stall_ns"), and kept in the
// dataset as the start of its next iterator (each epoch of a Repeat). With metrics, a call's wait for the
// input lock and its pull count as the stage's "waiting for input".
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/autotune.h"
#include "pipeline/internal/worker_pool.h"

namespace sluice {
namespace {

// Takes `mu`, spinning a little first. The input lock is held for one
// pull (tens of microseconds for a batch); a thread that sleeps on it is
// woken only after the holder is done, and the input then sits idle for
// the wake-up (the serial step of the map stalls: on 2 cores, 2.7 against
// 3.0 M records/s). The spin yields now and then so that an
// oversubscribed machine still runs the holder.
void LockSpinning(std::mutex& mu) {
  constexpr int kSpins = 2000;
  for (int i = 0; i < kSpins; ++i) {
    if (mu.try_lock()) return;
    if (i % 64 == 63) {
      std::this_thread::yield();
    } else {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
  mu.lock();
}

constexpr int64_t kTunePeriodNs = 50'000'000;  // 50 ms
constexpr int64_t kTuneMinCalls = 4;           // calls a period needs to count
// A period also ends after kTuneShortPeriodNs once it holds
// kTuneShortPeriodCalls calls: pipeline.dataset's epochs (a new iterator
// each) take ~40 ms on 2 CPUs, and with 50 ms alone the Map never re-chose
// anything there (it kept the first iterator's start: 2 calls, buffer 1).
constexpr int64_t kTuneShortPeriodNs = 10'000'000;  // 10 ms
constexpr int64_t kTuneShortPeriodCalls = 200;
constexpr int64_t kMaxAutotuneBuffer = 64;
// AUTOTUNE's ceiling on calls, whatever their CPU share: per CPU.
constexpr int kMaxCallsPerCpu = 4;
constexpr int64_t kSampledCalls = 16;  // per tuning period

double ProcessCpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// This thread's time on a CPU (its CPU clock) and its time runnable but
// waiting for one (ns; the second field of /proc/thread-self/schedstat,
// complete up to the thread's last switch onto a CPU: the thread reading it
// is running). A call preempted by other threads (this process's or
// another's) still wants its CPU; only time blocked (on the input lock,
// I/O, a condition) is time it leaves to other calls. (schedstat's first
// field, the CPU time, is only brought up to date at scheduler ticks: for
// calls of ~40 us it read as a fraction of their real CPU time.) Without
// schedstat (not Linux, or a kernel without CONFIG_SCHED_INFO): no
// runnable time.
struct SchedTimes {
  int64_t on_cpu_ns = 0;
  int64_t runnable_ns = 0;
  int64_t demand() const { return on_cpu_ns + runnable_ns; }
};
SchedTimes ThreadSchedTimes() {
  struct Fd {
    int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  };
  thread_local Fd f;
  SchedTimes times;
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  times.on_cpu_ns = static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  if (f.fd >= 0) {
    char buf[96];
    const ssize_t n = ::pread(f.fd, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      buf[n] = '\0';
      char* end = nullptr;
      std::strtoll(buf, &end, 10);  // CPU time, stale (see above)
      times.runnable_ns = static_cast<int64_t>(std::strtoll(end, nullptr, 10));
    }
  }
  return times;
}

class MapDataset final : public DatasetBase {
 public:
  MapDataset(std::shared_ptr<const DatasetBase> in, MapFn fn, MapOptions o)
      : in_(std::move(in)), fn_(std::move(fn)), o_(o) {}
  std::string DebugName() const override { return "Map"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    if (!o_.num_parallel_calls.has_value()) {
      if (o_.metrics != nullptr) o_.metrics->AddThreads(1);
      return std::unique_ptr<IteratorBase>(std::make_unique<SeqIt>(this, std::move(in)));
    }
    return std::unique_ptr<IteratorBase>(std::make_unique<ParIt>(this, std::move(in)));
  }

  // Applies fn_ with the OutOfRange rule. *end set when V1 ends the data.
  absl::Status Apply(TensorTuple in, TensorTuple* out, bool* end) const {
    PhaseClock clock(o_.metrics, /*count_thread=*/false);
    clock.Switch(StagePhase::kBusy);
    absl::StatusOr<TensorTuple> r = fn_(std::move(in));
    *end = false;
    if (r.ok()) {
      if (o_.metrics != nullptr) o_.metrics->AddItems(1);
      *out = *std::move(r);
      return absl::OkStatus();
    }
    if (absl::IsOutOfRange(r.status())) {
      if (o_.v1_out_of_range_ends) {
        *end = true;
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "Function invocation produced OutOfRangeError: ", r.status().message()));
    }
    return r.status();
  }

 private:
  class SeqIt final : public IteratorBase {
   public:
    SeqIt(const MapDataset* d, std::unique_ptr<IteratorBase> in) : d_(d), in_(std::move(in)) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      if (ended_) {
        *end = true;
        return absl::OkStatus();
      }
      TensorTuple e;
      SLUICE_RETURN_IF_ERROR(in_->GetNext(&e, end));
      if (*end) {
        ended_ = true;
        return absl::OkStatus();
      }
      SLUICE_RETURN_IF_ERROR(d_->Apply(std::move(e), out, end));
      if (*end) ended_ = true;
      return absl::OkStatus();
    }

   private:
    const MapDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    bool ended_ = false;
  };

  // A call's outcome, by input position.
  struct Result {
    absl::Status status;
    TensorTuple out;
    bool end = false;
    bool done = false;
    bool taken = false;  // sloppy mode takes results out of order
    int64_t pull_ns = 0;  // the input pull's wall time
  };
  // State shared with the pool tasks, which may start after the iterator
  // is gone (they then find no call to claim and touch nothing else).
  struct Shared {
    std::mutex mu;  // std::mutex: cv waits on it
    std::condition_variable cv;
    std::deque<Result> results;  // results[i]: input position head + i
    uint64_t head = 0;
    size_t running = 0;   // calls claimed and not yet stored
    size_t buffered = 0;  // done results not taken
    size_t pending = 0;   // pool workers submitted and not started
    size_t workers = 0;   // pool workers started and not left
    size_t max_workers = 1;  // pool workers at most: min(limit, pool threads)
    bool ended = false;   // a call met the end (of the input, or V1's)
    size_t limit = 0;     // calls in flight at most
    size_t extra = 0;     // results an absorbed Prefetch may buffer
    bool cancelled = false;
    bool consumer_in = false;  // the consumer is inside GetNext
    int waiting = 0;      // threads in cv.wait
    // Measured for AUTOTUNE: wall time of input pulls and of calls.
    int64_t pull_ns = 0;
    int64_t fn_ns = 0;
    int64_t call_ns = 0;  // from before the input lock to the call's end (when `measure`)
    double fn_sq_s = 0;  // sum of the squared call times (seconds^2)
    int64_t calls = 0;
    // Sampled calls' wall time (from before the input lock) and thread CPU
    // time, and the results' payload bytes (when `measure`).
    int64_t sample_wall_ns = 0;
    int64_t sample_cpu_ns = 0;
    int64_t sample_spin_ns = 0;  // their CPU demand while waiting for the input lock
    int64_t samples = 0;
    std::atomic<int64_t> to_sample{kSampledCalls};  // calls left to sample this period
    int64_t result_bytes = 0;
    int64_t results_sized = 0;  // results counted in result_bytes
    autotune::TimeHistogram fn_times;  // the calls' function times
    // Pool workers' summed wait from submission to start (when `measure`).
    int64_t restart_ns = 0;
    int64_t restarts = 0;
    bool measure = false;  // AUTOTUNE: set before the first task, then read-only
    // The input side: whoever runs a call pulls its input here, so the
    // input order (and the result's position) is fixed by who pulls first.
    std::mutex in_mu;  // std::mutex: taken by LockSpinning (measured above)
    uint64_t next_pos = 0;     // guarded by in_mu
    bool input_ended = false;  // guarded by in_mu
  };

  class ParIt final : public IteratorBase {
   public:
    ParIt(const MapDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d), in_(std::move(in)), sh_(std::make_shared<Shared>()) {
      const MapOptions& o = d->o_;
      tune_parallelism_ = *o.num_parallel_calls == kAutotune;
      cpus_ = std::max(internal::CpuBudget(), 1);
      if (tune_parallelism_) {
        const int hint = d->tuned_parallelism_.load(std::memory_order_relaxed);
        sh_->limit = static_cast<size_t>(hint > 0 ? hint : cpus_);
        sh_->measure = true;
      } else {
        sh_->limit = static_cast<size_t>(*o.num_parallel_calls);
      }
      sh_->max_workers = MaxWorkers(sh_->limit);
      if (o.metrics != nullptr) {
        o.metrics->AddThreads(static_cast<int>(sh_->limit));
        o.metrics->SetParameter("parallelism", static_cast<int64_t>(sh_->limit));
        if (tune_parallelism_) o.metrics->SetParameter("memory_budget_mb", MemoryBudget() >> 20);
      }
    }
    ~ParIt() override {
      // No call starts after this; a pool worker that starts later finds
      // `cancelled` and returns (it holds sh_ alive by itself).
      std::unique_lock<std::mutex> lock(sh_->mu);
      sh_->cancelled = true;
      ++sh_->waiting;
      sh_->cv.wait(lock, [&] { return sh_->running == 0; });
      --sh_->waiting;
    }
    bool AbsorbPrefetch(int64_t n) override {
      if (started_ || n == 0 || n < kAutotune) return false;
      std::lock_guard<std::mutex> lock(sh_->mu);
      if (n == kAutotune) {
        tune_buffer_ = true;
        sh_->measure = true;  // no task has started (started_ is false)
        const int64_t hint = d_->tuned_buffer_.load(std::memory_order_relaxed);
        sh_->extra = static_cast<size_t>(hint >= 0 ? hint : 1);
      } else {
        sh_->extra += static_cast<size_t>(n);
      }
      if (d_->o_.metrics != nullptr) {
        d_->o_.metrics->SetParameter("buffer", static_cast<int64_t>(sh_->extra));
        if (tune_buffer_) d_->o_.metrics->SetParameter("memory_budget_mb", MemoryBudget() >> 20);
      }
      return true;
    }
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      const int64_t entered = (tune_parallelism_ || tune_buffer_) ? MonotonicNanos() : 0;
      if (left_ns_ != 0) {
        consumer_ns_ += entered - left_ns_;
        gaps_.Add(1e-9 * static_cast<double>(entered - left_ns_));
      }
      started_ = true;
      Shared* sh = sh_.get();
      std::unique_lock<std::mutex> lock(sh->mu);
      if (entered != 0) MaybeTune(entered);
      sh->consumer_in = true;
      while (true) {
        Result* r = nullptr;
        if (!sh->results.empty() && sh->results.front().done) {
          r = &sh->results.front();
        } else if (!d_->o_.deterministic) {
          for (Result& x : sh->results) {
            if (x.done && !x.taken && !x.end) {
              r = &x;
              break;
            }
          }
        }
        if (r != nullptr) {
          if (r->end) {  // sticky; everything before it was delivered
            sh->consumer_in = false;
            *end = true;
            return absl::OkStatus();
          }
          *end = false;
          absl::Status s = std::move(r->status);
          *out = std::move(r->out);
          r->taken = true;
          --sh->buffered;
          ++delivered_;
          while (!sh->results.empty() && sh->results.front().taken) {
            sh->results.pop_front();
            ++sh->head;
          }
          // Calls go on while the consumer is away, restarted once half of
          // the results are taken (a consumer slower than the calls would
          // otherwise wake a worker for every result).
          sh->consumer_in = false;
          if (2 * sh->buffered <= sh->limit + sh->extra)
            StartWorkerIfNone(lock);
          if (entered != 0) left_ns_ = MonotonicNanos();
          return s;
        }
        if (Room(sh)) {
          // No result yet and room for a call: run one here rather than
          // wait (a pool thread is started only if none is about).
          ++sh->running;
          StartWorkerIfNone(lock);
          lock.unlock();
          RunClaimed(d_, sh, in_.get());
          lock.lock();
          continue;
        }
        // `limit` calls are running (or results behind an unfinished head
        // fill the buffer): the one at the head wakes us.
        ++sh->waiting;
        sh->cv.wait(lock);
        --sh->waiting;
      }
    }

   private:
    // TensorFlow's bound: at most `limit` calls in flight and at most
    // `limit` (+ an absorbed Prefetch's buffer) results waiting. Call with
    // sh->mu held.
    static bool Room(const Shared* sh) {
      return !sh->ended && !sh->cancelled && sh->running < sh->limit &&
             sh->buffered + sh->running < sh->limit + sh->extra;
    }
    // Starts a pool worker when there is room for a call and no worker is
    // running or about to. Called by the consumer with sh->mu held.
    void StartWorkerIfNone(std::unique_lock<std::mutex>& lock) {
      Shared* sh = sh_.get();
      if (sh->workers + sh->pending > 0 || !Room(sh)) return;
      ++sh->pending;
      lock.unlock();
      Submit(d_, sh_, in_.get());
      lock.lock();
    }
    static void Submit(const MapDataset* d, std::shared_ptr<Shared> sh,
                       IteratorBase* in) {
      const int64_t at = sh->measure ? MonotonicNanos() : 0;
      internal::WorkerPool::Default().Submit(
          [keep = std::move(sh), d, in, at] { Work(d, keep, in, at); });
    }

    int64_t MemoryBudget() const {
      return d_->o_.autotune_memory_budget_bytes > 0 ? d_->o_.autotune_memory_budget_bytes
                                                     : kDefaultAutotuneMemoryBudget;
    }

    // AUTOTUNE: once per period (above), re-chooses limit / extra from the
    // period's figures (autotune.h). Called by the consumer with sh->mu held.
    void MaybeTune(int64_t now) {
      Shared* sh = sh_.get();
      if (period_start_ns_ == 0) {
        StartPeriod(now);
        return;
      }
      const int64_t calls = sh->calls - period_calls_;
      const int64_t elapsed = now - period_start_ns_;
      const bool full = elapsed >= kTunePeriodNs ||
                        (elapsed >= kTuneShortPeriodNs && calls >= kTuneShortPeriodCalls);
      if (!full || calls < kTuneMinCalls || delivered_ == 0) {
        return;
      }
      const double n = static_cast<double>(calls);
      autotune::MapRates r;
      r.pull_s = 1e-9 * static_cast<double>(sh->pull_ns - period_pull_ns_) / n;
      r.fn_s = 1e-9 * static_cast<double>(sh->fn_ns - period_fn_ns_) / n;
      r.call_s = 1e-9 * static_cast<double>(sh->call_ns - period_call_ns_) / n;
      // The calls' spread (sample standard deviation; calls >= 2).
      const double mean_sq = (sh->fn_sq_s - period_fn_sq_s_) / n;
      r.fn_sd_s = std::sqrt(std::max(mean_sq - r.fn_s * r.fn_s, 0.0) * n / (n - 1));
      const double delivered = static_cast<double>(delivered_ - period_delivered_);
      if (delivered > 0) {
        r.consumer_s = 1e-9 * static_cast<double>(consumer_ns_ - period_consumer_ns_) / delivered;
        // The period's CPU went into the calls it finished as much as into
        // the elements it delivered: per the larger count. Per delivered
        // element alone, a period that finished 4 calls and delivered 1
        // (an epoch's start) counted 4 calls' CPU against one element, and
        // the climb saw the CPUs full and fell back to 1 call.
        r.cpu_s = (ProcessCpuSeconds() - period_cpu_s_) / std::max(delivered, n);
      }
      r.cpus = cpus_;
      // The calls' CPU share, from the sampled calls (kept from the last
      // period that sampled any).
      const int64_t sample_wall = sh->sample_wall_ns - period_sample_wall_ns_;
      if (sample_wall > 0) {
        call_cpu_fraction_ = std::clamp(
            static_cast<double>(sh->sample_cpu_ns - period_sample_cpu_ns_) /
                static_cast<double>(sample_wall),
            0.01, 1.0);
      }
      r.call_cpu_fraction = call_cpu_fraction_;
      // The process's CPU per element less what the calls spent spinning
      // for the input lock (per call, from the sampled calls).
      const int64_t samples = sh->samples - period_samples_;
      if (samples > 0) {
        spin_s_ = 1e-9 * static_cast<double>(sh->sample_spin_ns - period_sample_spin_ns_) /
                  static_cast<double>(samples);
      }
      if (r.cpu_s > 0) r.cpu_s = std::max(r.cpu_s - spin_s_, 0.1 * r.cpu_s);
      const int64_t sized = sh->results_sized - period_results_sized_;
      if (sized > 0) {
        result_bytes_ =
            static_cast<double>(sh->result_bytes - period_result_bytes_) / static_cast<double>(sized);
      }
      r.result_bytes = result_bytes_;
      r.consumer_gaps = &gaps_;
      r.fn_times = &sh->fn_times;
      if (sh->restarts > period_restarts_) {
        restart_s_ = 1e-9 * static_cast<double>(sh->restart_ns - period_restart_ns_) /
                     static_cast<double>(sh->restarts - period_restarts_);
      }
      r.restart_s = restart_s_;
      const int ceiling = kMaxCallsPerCpu * cpus_;
      const int64_t budget = MemoryBudget();
      const autotune::MapChoice c = autotune::ChooseMap(
          r, tune_parallelism_, static_cast<int>(sh->limit), ceiling, tune_buffer_,
          static_cast<int64_t>(sh->extra), kMaxAutotuneBuffer, budget);
      sh->limit = static_cast<size_t>(c.parallelism);
      sh->max_workers = MaxWorkers(sh->limit);
      sh->extra = static_cast<size_t>(c.buffer);
      if (tune_parallelism_) {
        d_->tuned_parallelism_.store(c.parallelism, std::memory_order_relaxed);
      }
      if (tune_buffer_) d_->tuned_buffer_.store(c.buffer, std::memory_order_relaxed);
      if (StageMetrics* m = d_->o_.metrics; m != nullptr) {
        m->SetParameter("parallelism", c.parallelism);
        if (tune_buffer_) m->SetParameter("buffer", c.buffer);
        m->SetParameter("call_cpu_pct", std::lround(100 * r.call_cpu_fraction));
        if (tune_parallelism_) {
          m->SetParameter("parallelism_cap", autotune::ParallelismCap(r, ceiling));
        }
        m->SetParameter("result_kb", std::lround(r.result_bytes / 1024));
        m->SetParameter("memory_budget_mb", budget >> 20);
        m->SetParameter("restart_us", std::lround(1e6 * restart_s_));
        m->SetParameter("consumer_stall_ns",
                        std::lround(1e9 * autotune::ConsumerStall(r, c.parallelism, c.buffer)));
      }
      // The last periods' gaps and call times, the latest weighing most.
      gaps_.Decay(0.5);
      sh->fn_times.Decay(0.5);
      StartPeriod(now);
    }
    void StartPeriod(int64_t now) {
      const Shared* sh = sh_.get();
      period_start_ns_ = now;
      period_calls_ = sh->calls;
      period_pull_ns_ = sh->pull_ns;
      period_fn_ns_ = sh->fn_ns;
      period_call_ns_ = sh->call_ns;
      period_fn_sq_s_ = sh->fn_sq_s;
      period_sample_wall_ns_ = sh->sample_wall_ns;
      period_sample_cpu_ns_ = sh->sample_cpu_ns;
      period_sample_spin_ns_ = sh->sample_spin_ns;
      period_samples_ = sh->samples;
      sh_->to_sample.store(kSampledCalls, std::memory_order_relaxed);
      period_result_bytes_ = sh->result_bytes;
      period_results_sized_ = sh->results_sized;
      period_restart_ns_ = sh->restart_ns;
      period_restarts_ = sh->restarts;
      period_delivered_ = delivered_;
      period_consumer_ns_ = consumer_ns_;
      period_cpu_s_ = ProcessCpuSeconds();
    }

    static size_t MaxWorkers(size_t limit) {
      return std::max<size_t>(
          1, std::min(limit, static_cast<size_t>(
                                 internal::WorkerPool::Default().threads())));
    }

    // A pool worker: runs calls while the bound allows (running ahead of
    // the consumer without a hand-off per call), starting another worker
    // before a call when the consumer is away and the bound has room for
    // one more call (see the top of the file). `in` is used only under a
    // claim, which the destructor waits for. `submitted`: when it was
    // submitted (AUTOTUNE; 0: not measured).
    static void Work(const MapDataset* d, const std::shared_ptr<Shared>& keep,
                     IteratorBase* in, int64_t submitted) {
      Shared* sh = keep.get();
      std::unique_lock<std::mutex> lock(sh->mu);
      if (submitted != 0) {
        sh->restart_ns += MonotonicNanos() - submitted;
        ++sh->restarts;
      }
      --sh->pending;
      ++sh->workers;
      while (!sh->cancelled && Room(sh)) {
        ++sh->running;
        if (!sh->consumer_in && sh->workers + sh->pending < sh->max_workers &&
            Room(sh)) {
          ++sh->pending;
          lock.unlock();
          Submit(d, keep, in);
          lock.lock();
        }
        lock.unlock();
        const bool woke_consumer = RunClaimed(d, sh, in);
        lock.lock();
        // The consumer, woken with the head, takes over this share.
        if (woke_consumer && sh->workers > 1) break;
      }
      --sh->workers;
    }

    // Pulls one input and applies the function; stores the result at the
    // input's position. The caller has counted itself in sh->running.
    // Returns whether it woke a thread waiting for the result (the
    // consumer; or the destructor).
    static bool RunClaimed(const MapDataset* d, Shared* sh, IteratorBase* in) {
      Result r;
      uint64_t pos = 0;
      bool pulled = false;
      TensorTuple e;
      int64_t t1 = 0;
      DeferredWork work;  // the input's, run outside the input lock
      StageMetrics* const metrics = d->o_.metrics;
      const int64_t t0 = (sh->measure || metrics != nullptr) ? MonotonicNanos() : 0;
      // AUTOTUNE samples the first kSampledCalls calls of each period: a
      // call's CPU demand (on a CPU or runnable) from when it holds the
      // input lock to its end, over its wall time from before the lock. The
      // wait for the lock is waiting for input even while it spins (the
      // spin yields to any runnable thread every 64 rounds); counted as
      // CPU, it made pipeline.dataset's calls ~70% busy where they are
      // ~20-50%. The CPU spent spinning is measured too: the process's CPU
      // per element counts it, and more calls do not need it.
      const bool sample = sh->measure && sh->to_sample.load(std::memory_order_relaxed) > 0 &&
                          sh->to_sample.fetch_sub(1, std::memory_order_relaxed) > 0;
      const SchedTimes before_lock = sample ? ThreadSchedTimes() : SchedTimes{};
      SchedTimes locked;
      {
        LockSpinning(sh->in_mu);
        std::lock_guard<std::mutex> lock(sh->in_mu, std::adopt_lock);
        if (sample) locked = ThreadSchedTimes();
        if (!sh->input_ended) {
          pulled = true;
          pos = sh->next_pos++;
          bool end = false;
          const int64_t p0 = MonotonicNanos();
          r.status = in->GetNextDeferred(&e, &end, &work);
          t1 = MonotonicNanos();
          r.pull_ns = t1 - p0;
          if (r.status.ok() && end) {
            r.end = true;
            sh->input_ended = true;
          }
        }
      }
      if (metrics != nullptr && t1 != 0) metrics->AddTime(StagePhase::kInputWait, t1 - t0);
      work.Run();  // counted with the function: it runs in parallel too
      int64_t fn_ns = 0;
      int64_t bytes = 0;
      if (pulled && r.status.ok() && !r.end) {
        r.status = d->Apply(std::move(e), &r.out, &r.end);
        if (!r.status.ok()) r.end = false;
        fn_ns = MonotonicNanos() - t1;
        if (sh->measure && r.status.ok()) bytes = static_cast<int64_t>(TuplePayloadBytes(r.out));
      }
      const int64_t call_ns = sh->measure && pulled ? MonotonicNanos() - t0 : 0;
      int64_t cpu_ns = 0, wall_ns = 0, spin_ns = 0;
      if (sample && pulled) {
        cpu_ns = ThreadSchedTimes().demand() - locked.demand();
        wall_ns = std::max<int64_t>(call_ns, 1);
        spin_ns = locked.on_cpu_ns - before_lock.on_cpu_ns;
      }
      std::unique_lock<std::mutex> lock(sh->mu);
      const bool at_head = pulled && pos == sh->head;
      if (pulled) {
        r.done = true;
        // Every position before an end has been pulled: no call is needed
        // after it.
        if (r.end) sh->ended = true;
        sh->pull_ns += r.pull_ns;
        sh->fn_ns += fn_ns;
        sh->call_ns += call_ns;
        sh->fn_sq_s += 1e-18 * static_cast<double>(fn_ns) * static_cast<double>(fn_ns);
        if (sh->measure && fn_ns > 0) sh->fn_times.Add(1e-9 * static_cast<double>(fn_ns));
        ++sh->calls;
        sh->sample_cpu_ns += cpu_ns;
        sh->sample_wall_ns += wall_ns;
        sh->sample_spin_ns += spin_ns;
        if (wall_ns > 0) ++sh->samples;
        if (bytes > 0) {
          sh->result_bytes += bytes;
          ++sh->results_sized;
        }
        const size_t i = static_cast<size_t>(pos - sh->head);
        if (sh->results.size() <= i) sh->results.resize(i + 1);
        sh->results[i] = std::move(r);
        ++sh->buffered;
      }
      --sh->running;
      // Wake the waiters only for what they wait for: the head result
      // (deterministic), any result (sloppy), no call running (the
      // destructor). A result behind the head used to wake the consumer
      // for nothing: on 2 cores that wake-up preempted the other call.
      // The notify comes after the unlock, so that the woken thread does
      // not block on sh->mu at once. `sh` outlives it: a pool worker holds
      // it, and the consumer's own calls end before the iterator does.
      const bool wake = sh->waiting > 0 && (at_head || !d->o_.deterministic ||
                                            sh->running == 0 || sh->cancelled);
      lock.unlock();
      if (wake) sh->cv.notify_all();
      return wake;
    }

    const MapDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    std::shared_ptr<Shared> sh_;
    bool started_ = false;
    // AUTOTUNE (consumer thread only).
    bool tune_parallelism_ = false;
    bool tune_buffer_ = false;
    int cpus_ = 1;                     // the CPU budget
    double call_cpu_fraction_ = 1.0;   // last measured (1: none yet)
    double result_bytes_ = 0;          // last measured (0: none yet)
    int64_t delivered_ = 0;     // results returned
    int64_t left_ns_ = 0;       // when GetNext last returned
    int64_t consumer_ns_ = 0;   // time between GetNext calls (the consumer's own)
    int64_t period_start_ns_ = 0, period_calls_ = 0, period_pull_ns_ = 0, period_fn_ns_ = 0;
    int64_t period_delivered_ = 0, period_consumer_ns_ = 0;
    double period_cpu_s_ = 0, period_fn_sq_s_ = 0;
    int64_t period_sample_wall_ns_ = 0, period_sample_cpu_ns_ = 0, period_result_bytes_ = 0;
    int64_t period_call_ns_ = 0;
    int64_t period_results_sized_ = 0, period_sample_spin_ns_ = 0, period_samples_ = 0;
    double spin_s_ = 0;  // CPU spent spinning for the input lock per call (last measured)
    autotune::TimeHistogram gaps_;  // the consumer's gaps between GetNext calls
    int64_t period_restart_ns_ = 0, period_restarts_ = 0;
    double restart_s_ = 0;  // a pool worker's wait to start (last measured)
  };

  std::shared_ptr<const DatasetBase> in_;
  MapFn fn_;
  MapOptions o_;
  // AUTOTUNE's last choices, the start of the next iterator (0 / -1: none).
  mutable std::atomic<int> tuned_parallelism_{0};
  mutable std::atomic<int64_t> tuned_buffer_{-1};
};

}  // namespace

Dataset Dataset::Map(MapFn fn, MapOptions options) const {
  if (!ok()) return *this;
  if (!fn) return Dataset(absl::InvalidArgumentError("Map: empty function"));
  if (options.num_parallel_calls.has_value() && *options.num_parallel_calls <= 0 &&
      *options.num_parallel_calls != kAutotune) {
    return Dataset(absl::InvalidArgumentError(absl::StrCat(
        "num_parallel_calls must be greater than zero or AUTOTUNE, got ",
        *options.num_parallel_calls)));
  }
  if (options.autotune_memory_budget_bytes < 0) {
    return Dataset(absl::InvalidArgumentError(absl::StrCat(
        "Map: autotune_memory_budget_bytes must be >= 0 (0: the default), got ",
        options.autotune_memory_budget_bytes)));
  }
  return Dataset(std::make_shared<const MapDataset>(base(), std::move(fn), options));
}

}  // namespace sluice
