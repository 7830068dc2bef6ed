// Map (§5.6). Sequential, or parallel on oneTBB: each call pulls its own
// input (under an input lock, which fixes the element's position) and then
// runs the function, on a oneTBB task or on the consumer. At most
// num_parallel_calls calls are in flight and at most num_parallel_calls
// results wait to be taken (plus the buffer of a Prefetch absorbed above
// it); a task that finishes a call goes on with the next one while that
// bound allows, so a busy pipeline pays no hand-off per call. Results leave
// in input order (deterministic, the default) or in completion order (end
// of input and errors of the sequential kind still come from the head).
// The consumer runs a call that no worker has claimed rather than wait for
// one: the map makes progress even when every oneTBB worker is busy
// elsewhere (e.g. blocked in a caller's task).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/internal/task_runner.h"

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

class MapDataset final : public DatasetBase {
 public:
  MapDataset(std::shared_ptr<const DatasetBase> in, MapFn fn, MapOptions o)
      : in_(std::move(in)), fn_(std::move(fn)), o_(o) {
    if (o_.num_parallel_calls == kAutotune) {
      o_.num_parallel_calls = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
  }
  std::string DebugName() const override { return "Map"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    if (o_.metrics != nullptr) o_.metrics->AddThreads(o_.num_parallel_calls.value_or(1));
    if (!o_.num_parallel_calls.has_value()) {
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
  };
  // State shared with the oneTBB tasks, which may start after the iterator
  // is gone (they then find no call to claim and touch nothing else).
  struct Shared {
    std::mutex mu;  // std::mutex: cv waits on it
    std::condition_variable cv;
    std::deque<Result> results;  // results[i]: input position head + i
    uint64_t head = 0;
    size_t queued = 0;    // calls asked for that nobody has claimed
    size_t running = 0;   // calls claimed and not yet stored
    size_t buffered = 0;  // done results not taken
    bool ended = false;   // a call met the end (of the input, or V1's)
    size_t limit = 0;     // calls in flight at most
    size_t extra = 0;     // results an absorbed Prefetch may buffer
    bool cancelled = false;
    int waiting = 0;      // threads in cv.wait
    // The input side: whoever runs a call pulls its input here, so the
    // input order (and the result's position) is fixed by who pulls first.
    std::mutex in_mu;  // std::mutex: taken by LockSpinning (measured above)
    uint64_t next_pos = 0;     // guarded by in_mu
    bool input_ended = false;  // guarded by in_mu
  };

  class ParIt final : public IteratorBase {
   public:
    ParIt(const MapDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d),
          in_(std::move(in)),
          sh_(std::make_shared<Shared>()) {
      sh_->limit = static_cast<size_t>(*d->o_.num_parallel_calls);
    }
    ~ParIt() override {
      std::unique_lock<std::mutex> lock(sh_->mu);
      sh_->cancelled = true;
      sh_->queued = 0;  // calls not started never will be
      ++sh_->waiting;
      sh_->cv.wait(lock, [&] { return sh_->running == 0; });
      --sh_->waiting;
      lock.unlock();
      tasks_.Wait();
    }
    bool AbsorbPrefetch(int64_t n) override {
      if (started_ || n <= 0) return false;
      std::lock_guard<std::mutex> lock(sh_->mu);
      sh_->extra += static_cast<size_t>(n);
      return true;
    }
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      started_ = true;
      Shared* sh = sh_.get();
      std::unique_lock<std::mutex> lock(sh->mu);
      while (true) {
        TopUp(lock);
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
            *end = true;
            return absl::OkStatus();
          }
          *end = false;
          absl::Status s = std::move(r->status);
          *out = std::move(r->out);
          r->taken = true;
          --sh->buffered;
          while (!sh->results.empty() && sh->results.front().taken) {
            sh->results.pop_front();
            ++sh->head;
          }
          TopUp(lock);
          return s;
        }
        if (sh->queued > 0) {
          // A call nobody has started: run it here rather than wait for a
          // worker that may never come (every oneTBB worker may be busy
          // elsewhere), and rather than pay a hand-off when none is free.
          --sh->queued;
          ++sh->running;
          lock.unlock();
          RunClaimed(d_, sh, in_.get());
          lock.lock();
          continue;
        }
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
      const size_t flight = sh->queued + sh->running;
      return !sh->ended && !sh->cancelled && flight < sh->limit &&
             sh->buffered + flight < sh->limit + sh->extra;
    }
    // Asks for calls up to the bound, one oneTBB task each.
    void TopUp(std::unique_lock<std::mutex>& lock) {
      Shared* sh = sh_.get();
      size_t add = 0;
      while (Room(sh)) {
        ++sh->queued;
        ++add;
      }
      if (add == 0) return;
      lock.unlock();
      std::shared_ptr<Shared> keep = sh_;
      const MapDataset* d = d_;
      IteratorBase* in = in_.get();
      for (size_t i = 0; i < add; ++i) {
        tasks_.Run([keep, d, in] { Work(d, keep.get(), in); });
      }
      lock.lock();
    }

    // A oneTBB task: runs queued calls, then goes on with the next ones
    // while the bound allows (running ahead of the consumer without a
    // hand-off per call). `in` is used only under a claim, which the
    // destructor waits for.
    static void Work(const MapDataset* d, Shared* sh, IteratorBase* in) {
      while (true) {
        {
          std::lock_guard<std::mutex> lock(sh->mu);
          if (sh->cancelled) return;
          if (sh->queued > 0) {
            --sh->queued;
          } else if (!Room(sh)) {
            return;
          }
          ++sh->running;
        }
        RunClaimed(d, sh, in);
      }
    }

    // Pulls one input and applies the function; stores the result at the
    // input's position. The caller has counted itself in sh->running.
    static void RunClaimed(const MapDataset* d, Shared* sh, IteratorBase* in) {
      Result r;
      uint64_t pos = 0;
      bool pulled = false;
      TensorTuple e;
      {
        LockSpinning(sh->in_mu);
        std::lock_guard<std::mutex> lock(sh->in_mu, std::adopt_lock);
        if (!sh->input_ended) {
          pulled = true;
          pos = sh->next_pos++;
          bool end = false;
          r.status = in->GetNext(&e, &end);
          if (r.status.ok() && end) {
            r.end = true;
            sh->input_ended = true;
          }
        }
      }
      if (pulled && r.status.ok() && !r.end) {
        r.status = d->Apply(std::move(e), &r.out, &r.end);
        if (!r.status.ok()) r.end = false;
      }
      std::lock_guard<std::mutex> lock(sh->mu);
      if (pulled) {
        r.done = true;
        // Every position before an end has been pulled: no call is needed
        // after it.
        if (r.end) sh->ended = true;
        const size_t i = static_cast<size_t>(pos - sh->head);
        if (sh->results.size() <= i) sh->results.resize(i + 1);
        sh->results[i] = std::move(r);
        ++sh->buffered;
      }
      --sh->running;
      if (sh->waiting > 0) sh->cv.notify_all();
    }

    const MapDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    std::shared_ptr<Shared> sh_;
    bool started_ = false;
    internal::TaskRunner tasks_;  // oneTBB (plain threads under TSan)
  };

  std::shared_ptr<const DatasetBase> in_;
  MapFn fn_;
  MapOptions o_;
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
  return Dataset(std::make_shared<const MapDataset>(base(), std::move(fn), options));
}

}  // namespace sluice
