// Shuffle (§5.3). The buffer is topped up from the input (to buffer_size
// elements, or max_buffer_bytes of payload), then a uniformly random
// element is emitted; after the input ends the rest drains in random order.
// With a byte cap, input requests are sized from the average element
// size seen so far, so the cap is exceeded by at most that estimate's
// error on the last request. GetNextMany(n) tops up once and then makes up to n
// picks, so the j-th pick of a call sees a buffer j elements short of full (at
// most n-1 of buffer_size; no element is ever favoured).
//
// Memory (the ≤ 1.25× payload target, tensorflow#54299/#60599): when
// elements are single strings (serialized records) each is copied into a
// RecordPool (16-byte size classes carved from 256 KiB slabs, no malloc per
// record), so the buffer keeps no reader chunk alive and holds payload
// rounded up to 16 bytes + 16 B of index per record. Emitted records are
// handed over without a copy: a GetNextMany result owns its records and
// returns them to the pool when dropped. The index shrinks when the buffer
// drains, and the pool's slabs are freed once the input has ended and
// every record is gone.
//
// The copy into the pool is deferred work (DeferredWork): a call takes the
// input's records, reserves their slots and makes its picks, and leaves the
// copies of the records it took (one CopyGroup per input request) to its
// caller, which a parallel Map runs outside its input lock, so that two
// threads copy at once (the copy was ~60% of the serial pull in
// pipeline.dataset). A result whose picks may fall in a group not yet
// copied carries that group: its work completes (copies, or waits for)
// the group before the records are read, and so does dropping the result.
// GetNext / GetNextMany run the work before returning.
//
// Seeds: seed 0 draws fresh seeds. With a seed and reshuffle_each_iteration
// each new iterator (each Repeat pass) uses the next seed of a sequence
// derived from it, so epochs differ and the whole run is reproducible;
// without reshuffle every iterator uses the same seed.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/random.h"
#include "pipeline/dataset/dataset.h"
#include "core/record_pool.h"

namespace sluice {
namespace {

struct Record {
  char* data;
  uint32_t size;
};

// The records of one input request, copied into their pool slots after the
// call that took them by whichever thread gets there first; a thread that
// finds the copy under way waits for it. Thread-safe.
class CopyGroup {
 public:
  CopyGroup(Tensor src, std::vector<char*> dst)
      : src_(std::move(src)), dst_(std::move(dst)) {}
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }
  // Returns once the records are in their slots (copying them if nobody
  // has started to).
  void Complete() {
    int s = kPending;
    if (state_.compare_exchange_strong(s, kCopying,
                                       std::memory_order_acquire)) {
      const std::string_view* v = src_.data<std::string_view>();
      for (size_t i = 0; i < dst_.size(); ++i) {
        if (!v[i].empty()) std::memcpy(dst_[i], v[i].data(), v[i].size());
      }
      src_ = Tensor();  // lets the reader's chunks go
      dst_ = {};
      state_.store(kDone, std::memory_order_release);
      state_.notify_all();
      return;
    }
    // A copy takes microseconds: spin a little before sleeping.
    for (int spins = 0; s != kDone;
         s = state_.load(std::memory_order_acquire)) {
      if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        continue;
      }
      state_.wait(s, std::memory_order_acquire);
    }
  }

 private:
  static constexpr int kPending = 0, kCopying = 1, kDone = 2;
  std::atomic<int> state_{kPending};
  Tensor src_;              // the input's records (owned by the claimer)
  std::vector<char*> dst_;  // their slots
};
using Groups = std::vector<std::shared_ptr<CopyGroup>>;

void CompleteAll(const Groups& groups) {
  for (const auto& g : groups) g->Complete();
}

// The records one GetNextMany result owns, and the copies they may still
// wait for.
struct Handed {
  std::shared_ptr<RecordPool> pool;
  std::vector<char*> ptrs;
  std::vector<uint32_t> sizes;
  Groups deps;
};

class ShuffleDataset final : public DatasetBase {
 public:
  ShuffleDataset(std::shared_ptr<const DatasetBase> in, int64_t n, ShuffleOptions o)
      : in_(std::move(in)), n_(n), o_(o) {}
  std::string DebugName() const override { return "Shuffle"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    uint64_t seed = 0, seed2 = 0;
    if (o_.seed != 0) {
      const uint64_t iteration = o_.reshuffle_each_iteration ? iterations_.fetch_add(1) : 0;
      seed = Random::DeriveSeed(o_.seed, iteration);
      seed2 = 0x5u;
    }
    return std::unique_ptr<IteratorBase>(
        std::make_unique<It>(this, std::move(in), seed, seed2));
  }

 private:
  class It final : public IteratorBase {
   public:
    It(const ShuffleDataset* d, std::unique_ptr<IteratorBase> in, uint64_t s, uint64_t s2)
        : d_(d), in_(std::move(in)), rng_(s, s2) {}
    ~It() override {
      // No slot is freed while a copy may still write to it.
      CompleteAll(pending_);
      std::vector<char*> ptrs;
      std::vector<uint32_t> sizes;
      for (const Record& r : records_) {
        ptrs.push_back(r.data);
        sizes.push_back(r.size);
      }
      pool_->FreeAll(ptrs, sizes);
      pool_->MarkDrained();
    }

    absl::Status GetNext(TensorTuple* out, bool* end) override {
      *end = false;
      SLUICE_RETURN_IF_ERROR(Fill(1, nullptr));
      if (Size() == 0) {
        *end = true;
        return absl::OkStatus();
      }
      const int64_t i = static_cast<int64_t>(rng_.Uniform(Size()));
      if (compact_) {
        CompleteAll(pending_);  // the record is read here
        pending_.clear();
        handed_off_ = 0;
        Record r = TakeRecord(i);
        Tensor t(DType::kString, TensorShape{});
        t.SetString(0, std::string_view(r.data, r.size));
        pool_->FreeAll({&r.data, 1}, {&r.size, 1});
        *out = {std::move(t)};
      } else {
        *out = std::move(elements_[i]);
        bytes_ -= static_cast<int64_t>(TuplePayloadBytes(*out));
        elements_[i] = std::move(elements_.back());
        elements_.pop_back();
      }
      MaybeShrink();
      return absl::OkStatus();
    }

    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      return Take(n, out, end, nullptr);
    }
    absl::Status GetNextManyDeferred(int64_t n, TensorTuple* out, bool* end,
                                     DeferredWork* work) override {
      return Take(n, out, end, work);
    }

   private:
    // GetNextMany; with `work`, the copy of the last input request's
    // records is left to it (earlier requests of the same call, e.g. the
    // first fill, are copied here: a deferred copy holds the reader's
    // chunks).
    absl::Status Take(int64_t n, TensorTuple* out, bool* end,
                      DeferredWork* work) {
      *end = false;
      absl::Status filled = Fill(n, work);
      // The copies of what Fill took (even before an error): the caller's.
      if (pending_.size() > handed_off_) {
        Groups mine(pending_.begin() + static_cast<ptrdiff_t>(handed_off_),
                    pending_.end());
        handed_off_ = pending_.size();
        if (work != nullptr) {
          work->Add([mine = std::move(mine)] { CompleteAll(mine); });
        } else {
          CompleteAll(mine);
        }
      }
      SLUICE_RETURN_IF_ERROR(filled);
      if (Size() == 0) {
        *end = true;
        return absl::OkStatus();
      }
      if (!compact_) return IteratorBase::GetNextMany(n, out, end);
      const int64_t k = std::min<int64_t>(n, Size());
      // The result owns the picked records: one owner for all of them. It
      // depends on every copy not known to be done (a pick may be in any).
      auto* handed = new Handed{pool_, {}, {}, pending_};
      handed->ptrs.reserve(k);
      handed->sizes.reserve(k);
      RefPtr owner = Buffer::Wrap(nullptr, 0, HostAllocator(), [handed] {
        CompleteAll(handed->deps);  // no slot is freed under a copy
        handed->pool->FreeAll(handed->ptrs, handed->sizes);
        delete handed;
      });
      if (!handed->deps.empty()) {
        if (work != nullptr) {
          work->Add([deps = handed->deps] { CompleteAll(deps); });
        } else {
          CompleteAll(handed->deps);  // copies other callers left
        }
      }
      Tensor t(DType::kString, TensorShape{k});
      // The picks are drawn first (the j-th from Size() - j, as when drawn
      // one by one) so that their index entries are fetched from memory
      // together: one at a time, each was a cache miss, half of this
      // call's time in pipeline.dataset.
      picks_.resize(static_cast<size_t>(k));
      const int64_t size = Size();
      for (int64_t j = 0; j < k; ++j) {
        picks_[j] =
            static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(size - j)));
        __builtin_prefetch(&records_[static_cast<size_t>(picks_[j])]);
      }
      for (int64_t j = 0; j < k; ++j) {
        Record r = TakeRecord(picks_[j]);
        handed->ptrs.push_back(r.data);
        handed->sizes.push_back(r.size);
        t.SetStringView(j, std::string_view(r.data, r.size), owner);
      }
      *out = {std::move(t)};
      MaybeShrink();
      return absl::OkStatus();
    }

    int64_t Size() const {
      return compact_ ? static_cast<int64_t>(records_.size())
                      : static_cast<int64_t>(elements_.size());
    }
    bool Full() const {
      return Size() >= d_->n_ || (d_->o_.max_buffer_bytes > 0 && bytes_ >= d_->o_.max_buffer_bytes);
    }
    Record TakeRecord(int64_t i) {
      Record r = records_[i];
      records_[i] = records_.back();
      records_.pop_back();
      bytes_ -= static_cast<int64_t>(r.size);
      return r;
    }
    void MaybeShrink() {
      if (compact_ && records_.capacity() > 4096 && records_.size() * 4 < records_.capacity()) {
        records_.shrink_to_fit();
      }
      if (!compact_ && elements_.capacity() > 4096 && elements_.size() * 4 < elements_.capacity()) {
        elements_.shrink_to_fit();
      }
    }
    // Tops the buffer up; `want` sizes the input requests. With `work`, the
    // last request's records are copied later (a CopyGroup in pending_)
    // and the request that fills the buffer may leave its own work there
    // (the readers' wake-ups); other requests' records, and all without
    // `work`, are copied here.
    absl::Status Fill(int64_t want, DeferredWork* work) {
      const bool defer = work != nullptr;
      // Forget the copies that are done (their records are in place for
      // every thread that takes the caller's lock after this).
      size_t done = 0;
      while (done < handed_off_ && pending_[done]->done()) ++done;
      if (done > 0) {
        pending_.erase(pending_.begin(),
                       pending_.begin() + static_cast<ptrdiff_t>(done));
        handed_off_ -= done;
      }
      CopyGroup* deferred_here = nullptr;
      while (!input_ended_ && !Full()) {
        int64_t room = std::min<int64_t>(d_->n_ - Size(), 256);
        if (d_->o_.max_buffer_bytes > 0) {
          // Ask for what the byte cap leaves room for at the average
          // element size seen so far (one element to start).
          const int64_t avg = seen_ == 0 ? 0 : std::max<int64_t>(1, seen_bytes_ / seen_);
          room = avg == 0 ? 1
                          : std::clamp<int64_t>((d_->o_.max_buffer_bytes - bytes_) / avg, 1, room);
        }
        TensorTuple batch;
        bool e = false;
        const int64_t before = bytes_;
        SLUICE_RETURN_IF_ERROR(
            defer && Size() + room >= d_->n_
                ? in_->GetNextManyDeferred(room, &batch, &e, work)
                : in_->GetNextMany(room, &batch, &e));
        if (e) {
          input_ended_ = true;
          pool_->MarkDrained();
          break;
        }
        const int64_t k = internal::BatchRows(batch);
        if (!decided_) {
          decided_ = true;
          compact_ = batch.size() == 1 && batch[0].dtype() == DType::kString && batch[0].rank() == 1;
        }
        if (compact_) {
          if (batch.size() != 1 || batch[0].dtype() != DType::kString || batch[0].rank() != 1) {
            return absl::InvalidArgumentError("Shuffle: element structure changed");
          }
          absl::Span<const std::string_view> views(batch[0].data<std::string_view>(), k);
          for (std::string_view v : views) {
            if (v.size() > UINT32_MAX) {
              return absl::InvalidArgumentError("Shuffle: an element of 4 GiB or more");
            }
          }
          if (!defer) {
            if (!pool_->StoreAll(views, &stored_)) {
              return absl::ResourceExhaustedError("Shuffle: out of memory");
            }
          } else if (!pool_->AllocateAll(views, &stored_)) {
            return absl::ResourceExhaustedError("Shuffle: out of memory");
          }
          for (int64_t i = 0; i < k; ++i) {
            records_.push_back({stored_[i], static_cast<uint32_t>(views[i].size())});
            bytes_ += static_cast<int64_t>(views[i].size());
          }
          if (defer) {
            // Copied later (the caller's DeferredWork); the group keeps the
            // input's records alive until then. Only the last request's.
            if (deferred_here != nullptr) deferred_here->Complete();
            pending_.push_back(
                std::make_shared<CopyGroup>(std::move(batch[0]), stored_));
            deferred_here = pending_.back().get();
          }
        } else {
          for (int64_t i = 0; i < k; ++i) {
            TensorTuple e;
            for (const Tensor& t : batch) e.push_back(t.Row(i).DeepCopy());
            bytes_ += static_cast<int64_t>(TuplePayloadBytes(e));
            elements_.push_back(std::move(e));
          }
        }
        seen_ += k;
        seen_bytes_ += bytes_ - before;
      }
      (void)want;
      return absl::OkStatus();
    }

    const ShuffleDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    Random rng_;
    bool decided_ = false;
    bool compact_ = false;
    bool input_ended_ = false;
    int64_t bytes_ = 0;
    int64_t seen_ = 0;        // elements read from the input
    int64_t seen_bytes_ = 0;  // and their payload bytes
    std::shared_ptr<RecordPool> pool_ = std::make_shared<RecordPool>();
    std::vector<char*> stored_;   // scratch for AllocateAll
    std::vector<int64_t> picks_;  // scratch for Take
    // Copies not known to be done, oldest first; those before handed_off_
    // were given to a caller's DeferredWork.
    Groups pending_;
    size_t handed_off_ = 0;
    std::vector<Record> records_;       // compact_
    std::vector<TensorTuple> elements_;  // !compact_
  };

  std::shared_ptr<const DatasetBase> in_;
  const int64_t n_;
  const ShuffleOptions o_;
  mutable std::atomic<uint64_t> iterations_{0};
};

}  // namespace

Dataset Dataset::Shuffle(int64_t buffer_size, ShuffleOptions options) const {
  if (!ok()) return *this;
  if (buffer_size <= 0) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("buffer_size must be greater than zero, got ", buffer_size)));
  }
  if (options.max_buffer_bytes < 0) {
    return Dataset(absl::InvalidArgumentError("max_buffer_bytes must be >= 0"));
  }
  return Dataset(std::make_shared<const ShuffleDataset>(base(), buffer_size, options));
}

}  // namespace sluice
