// Prefetch (§5.8): a background thread, started on the first GetNext,
// fills a FIFO of up to buffer_size results. Errors are buffered like
// elements and delivered in order; the thread keeps going after an error
// and stops at the end of the input. Destroying the iterator stops the
// thread (after the input call it is in returns).
//
// Over an iterator that already computes ahead on other threads (a
// parallel Map: IteratorBase::AbsorbPrefetch), the buffer is handed to
// that iterator and elements pass straight through: the same elements and
// errors in the same order, one thread hand-off fewer per element (which
// on a 2-core machine costs more than the overlap it buys). With AUTOTUNE
// the Map then tunes that buffer with its model (map_dataset.cc).
//
// AUTOTUNE over any other input: TensorFlow 1.15's prefetch autotuner
// (prefetch_autotuner.cc). The limit starts at 1; an upswing lasts until
// the consumer takes from a full buffer, the downswing that follows until
// the consumer finds the buffer empty and has to wait; each such
// full-then-empty cycle (a full buffer was not enough to cover a burst)
// doubles the limit, up to kMaxAutotuneBuffer. The limit is the stage's
// "buffer" parameter.
#include <pthread.h>

#include <condition_variable>
#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "pipeline/dataset/dataset.h"

namespace sluice {
namespace {

class PrefetchDataset final : public DatasetBase {
 public:
  PrefetchDataset(std::shared_ptr<const DatasetBase> in, int64_t n, StageMetrics* m)
      : in_(std::move(in)), n_(n), metrics_(m) {}
  std::string DebugName() const override { return "Prefetch"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    if (n_ == 0) return in;
    if (in->AbsorbPrefetch(n_ < 0 ? kAutotune : n_)) {
      return std::unique_ptr<IteratorBase>(std::make_unique<PassIt>(this, std::move(in)));
    }
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this, std::move(in)));
  }

 private:
  static constexpr int64_t kMaxAutotuneBuffer = 64;

  // The input buffers for us: count and hand through.
  class PassIt final : public IteratorBase {
   public:
    PassIt(const PrefetchDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d), in_(std::move(in)) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      absl::Status s = in_->GetNext(out, end);
      if (s.ok() && !*end && d_->metrics_ != nullptr) d_->metrics_->AddItems(1);
      return s;
    }
    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      absl::Status s = in_->GetNextMany(n, out, end);
      if (s.ok() && !*end && d_->metrics_ != nullptr) {
        d_->metrics_->AddItems(internal::BatchRows(*out));
      }
      return s;
    }

   private:
    const PrefetchDataset* d_;
    std::unique_ptr<IteratorBase> in_;
  };

  struct Item {
    absl::Status status;
    TensorTuple element;
    bool end = false;
  };
  class It final : public IteratorBase {
   public:
    It(const PrefetchDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d), autotune_(d->n_ < 0), limit_(d->n_ < 0 ? 1 : d->n_), in_(std::move(in)) {
      if (d_->metrics_ != nullptr) d_->metrics_->SetParameter("buffer", limit_);
    }
    ~It() override {
      {
        std::lock_guard<std::mutex> lock(mu_);
        cancelled_ = true;
      }
      cv_.notify_all();
      if (thread_.joinable()) thread_.join();
    }
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      return Take(/*many=*/false, 1, out, end);
    }
    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      return Take(/*many=*/true, n, out, end);
    }

   private:
    // Elements are prefetched one GetNextMany(batch) at a time when the
    // consumer asks for many, so batch-first pipelines stay batch-first.
    absl::Status Take(bool many, int64_t n, TensorTuple* out, bool* end) {
      std::unique_lock<std::mutex> lock(mu_);
      if (!started_) {
        started_ = true;
        many_ = many;
        chunk_ = n;
        thread_ = std::thread([this] { Run(); });
      }
      if (autotune_ && buf_.empty() && !upswing_) {  // found empty: double
        limit_ = std::min(2 * limit_, kMaxAutotuneBuffer);
        upswing_ = true;
        if (d_->metrics_ != nullptr) d_->metrics_->SetParameter("buffer", limit_);
        lock.unlock();
        cv_.notify_all();  // the thread may be waiting for room
        lock.lock();
      }
      cv_.wait(lock, [&] { return !buf_.empty(); });
      Item& front = buf_.front();
      if (front.end) {  // sticky
        *end = true;
        return absl::OkStatus();
      }
      *end = false;
      absl::Status s = std::move(front.status);
      if (s.ok()) {
        if (!many_ && !many) {
          *out = std::move(front.element);
        } else if (!many_) {  // the thread prefetches single elements
          SLUICE_ASSIGN_OR_RETURN(*out, internal::StackElements({front.element}));
        } else {  // the thread prefetches batches: hand out rows
          const int64_t rows = internal::BatchRows(front.element);
          const int64_t take = many ? std::min(n, rows - row_) : 1;
          if (!many) {
            *out = internal::RowOf(front.element, row_);
          } else if (row_ == 0 && take == rows) {
            *out = std::move(front.element);
          } else {
            out->clear();
            for (const Tensor& t : front.element) out->push_back(t.Slice(row_, row_ + take));
          }
          row_ += take;
          if (row_ < rows) return absl::OkStatus();
          row_ = 0;
        }
      }
      if (autotune_ && upswing_ && static_cast<int64_t>(buf_.size()) >= limit_) upswing_ = false;
      buf_.pop_front();
      lock.unlock();
      cv_.notify_all();
      return s;
    }

    void Run() {
      pthread_setname_np(pthread_self(), "sluice-prefetch");  // for perf and top
      PhaseClock clock(d_->metrics_);
      while (true) {
        clock.Switch(StagePhase::kInputWait);
        Item item;
        item.status = many_ ? in_->GetNextMany(chunk_, &item.element, &item.end)
                            : in_->GetNext(&item.element, &item.end);
        if (item.status.ok() && !item.end && d_->metrics_ != nullptr) {
          d_->metrics_->AddItems(many_ ? internal::BatchRows(item.element) : 1);
        }
        clock.Switch(StagePhase::kOutputWait);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return cancelled_ || static_cast<int64_t>(buf_.size()) < limit_; });
        if (cancelled_) return;
        const bool end = item.status.ok() && item.end;
        buf_.push_back(std::move(item));
        lock.unlock();
        cv_.notify_all();
        if (end) return;
      }
    }

    const PrefetchDataset* d_;
    const bool autotune_;
    int64_t limit_;         // guarded by mu_
    bool upswing_ = true;   // guarded by mu_ (AUTOTUNE's phase)
    std::unique_ptr<IteratorBase> in_;  // used by the thread only
    std::mutex mu_;  // std::mutex: cv_ waits on it
    std::condition_variable cv_;
    std::deque<Item> buf_;  // guarded by mu_
    bool cancelled_ = false;
    bool started_ = false;
    bool many_ = false;
    int64_t chunk_ = 1;
    int64_t row_ = 0;
    std::thread thread_;
  };
  std::shared_ptr<const DatasetBase> in_;
  const int64_t n_;
  StageMetrics* const metrics_;
};

}  // namespace

Dataset Dataset::Prefetch(int64_t buffer_size, StageMetrics* metrics) const {
  if (!ok()) return *this;
  if (buffer_size < -1) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("buffer_size must be >= 0 or AUTOTUNE (-1), got ", buffer_size)));
  }
  return Dataset(std::make_shared<const PrefetchDataset>(base(), buffer_size, metrics));
}

}  // namespace sluice
