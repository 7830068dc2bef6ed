// Map (§5.6). Sequential, or parallel on oneTBB: a runner thread pulls
// inputs and keeps at most num_parallel_calls function calls in flight and
// at most num_parallel_calls results buffered; results leave in input order (deterministic, the
// default) or in completion order (end of input and errors of the
// sequential kind still come from the head).
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

  struct Slot {
    absl::Status status;
    TensorTuple out;
    bool end = false;
    bool done = false;
    // The call, until a task or a waiting consumer claims it (whoever
    // claims first runs it: a consumer never waits for a call that no
    // worker has started, so the map makes progress even when every
    // oneTBB worker is busy elsewhere, e.g. blocked in a caller's task).
    std::atomic<bool> claimed{false};
    std::shared_ptr<TensorTuple> arg;
  };
  // State shared with the TBB tasks (they may finish after the iterator
  // stopped waiting; the destructor waits for them anyway).
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Slot>> slots;  // in input order: running or done
    size_t in_flight = 0;                     // slots whose call has not finished
    size_t running = 0;                       // calls executing right now
    bool cancelled = false;
    bool input_done = false;
  };

  class ParIt final : public IteratorBase {
   public:
    ParIt(const MapDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d), in_(std::move(in)), sh_(std::make_shared<Shared>()) {}
    ~ParIt() override {
      {
        std::lock_guard<std::mutex> lock(sh_->mu);
        sh_->cancelled = true;
      }
      sh_->cv.notify_all();
      if (runner_.joinable()) runner_.join();
      // Calls not started never will be; wait for the ones running.
      std::unique_lock<std::mutex> lock(sh_->mu);
      for (auto& slot : sh_->slots) slot->claimed.store(true);
      sh_->cv.wait(lock, [&] { return sh_->running == 0; });
      lock.unlock();
      tasks_.Wait();
    }
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      if (!runner_.joinable()) runner_ = std::thread([this] { Run(); });
      std::unique_lock<std::mutex> lock(sh_->mu);
      std::shared_ptr<Slot> slot;
      while (slot == nullptr) {
        if (!sh_->slots.empty() && sh_->slots.front()->done) {
          slot = sh_->slots.front();
        } else if (!d_->o_.deterministic) {
          for (auto& s : sh_->slots) {
            if (s->done && !s->end) {
              slot = s;
              break;
            }
          }
        }
        if (slot != nullptr) break;
        // The head's call has not started: run it here rather than wait
        // for a worker that may never come.
        if (!sh_->slots.empty() && !sh_->slots.front()->end &&
            !sh_->slots.front()->claimed.load()) {
          std::shared_ptr<Slot> head = sh_->slots.front();
          lock.unlock();
          RunSlot(d_, sh_.get(), head.get());
          lock.lock();
          continue;
        }
        sh_->cv.wait(lock);
      }
      if (slot->end) {  // sticky; everything before it was delivered
        *end = true;
        return absl::OkStatus();
      }
      for (auto it = sh_->slots.begin(); it != sh_->slots.end(); ++it) {
        if (*it == slot) {
          sh_->slots.erase(it);
          break;
        }
      }
      lock.unlock();
      sh_->cv.notify_all();
      *end = false;
      if (!slot->status.ok()) return slot->status;
      *out = std::move(slot->out);
      return absl::OkStatus();
    }

   private:
    // Runs slot's call if nobody has claimed it yet. Call without sh->mu.
    // A task that starts after the iterator is gone finds its slot claimed
    // (by the destructor) and touches nothing but `sh` and `slot`, which
    // it co-owns.
    static void RunSlot(const MapDataset* d, Shared* sh, Slot* slot) {
      {
        // Claim and count under the lock, so the destructor never misses
        // a call that is about to run.
        std::lock_guard<std::mutex> lock(sh->mu);
        if (slot->claimed.exchange(true)) return;
        ++sh->running;
      }
      TensorTuple out;
      bool end = false;
      absl::Status st = d->Apply(std::move(*slot->arg), &out, &end);
      std::lock_guard<std::mutex> lock(sh->mu);
      slot->arg.reset();
      slot->status = st;
      slot->out = std::move(out);
      slot->end = st.ok() && end;
      slot->done = true;
      --sh->in_flight;
      --sh->running;
      sh->cv.notify_all();
    }

    void Run() {
      const size_t limit = static_cast<size_t>(*d_->o_.num_parallel_calls);
      while (true) {
        {
          std::unique_lock<std::mutex> lock(sh_->mu);
          // TensorFlow's bound: at most `limit` calls in flight and at
          // most `limit` results waiting to be taken.
          sh_->cv.wait(lock, [&] {
            return sh_->cancelled ||
                   (sh_->in_flight < limit && sh_->slots.size() - sh_->in_flight < limit);
          });
          if (sh_->cancelled) return;
        }
        auto slot = std::make_shared<Slot>();
        TensorTuple in;
        bool end = false;
        absl::Status s = in_->GetNext(&in, &end);
        std::unique_lock<std::mutex> lock(sh_->mu);
        sh_->slots.push_back(slot);
        if (!s.ok() || end) {
          slot->status = s;
          slot->end = s.ok() && end;
          slot->done = true;
          lock.unlock();
          sh_->cv.notify_all();
          if (slot->end) return;
          continue;
        }
        ++sh_->in_flight;
        slot->arg = std::make_shared<TensorTuple>(std::move(in));
        lock.unlock();
        sh_->cv.notify_all();  // a waiting consumer may run it itself
        std::shared_ptr<Shared> sh = sh_;
        const MapDataset* d = d_;
        tasks_.Run([sh, slot, d] { RunSlot(d, sh.get(), slot.get()); });
      }
    }

    const MapDataset* d_;
    std::unique_ptr<IteratorBase> in_;  // used by runner_ only
    std::shared_ptr<Shared> sh_;
    internal::TaskRunner tasks_;  // oneTBB (plain threads under TSan)
    std::thread runner_;
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
