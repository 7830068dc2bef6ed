// Interleave (§5.7): cycle_length slots walked round-robin, up to
// block_length consecutive elements from each. An empty slot is filled from
// the next input element when the walk reaches it; when a slot's iterator
// ends the slot is emptied and the walk moves on to the next slot. With
// num_parallel_calls each opened dataset is prefetched on its own thread,
// which changes timing, never order.
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "pipeline/dataset/dataset.h"

namespace sluice {
namespace {

class InterleaveDataset final : public DatasetBase {
 public:
  InterleaveDataset(std::shared_ptr<const DatasetBase> in, InterleaveFn fn, int64_t cycle,
                    int64_t block, bool parallel)
      : in_(std::move(in)), fn_(std::move(fn)), cycle_(cycle), block_(block), parallel_(parallel) {}
  std::string DebugName() const override { return "Interleave"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this, std::move(in)));
  }

 private:
  class It final : public IteratorBase {
   public:
    It(const InterleaveDataset* d, std::unique_ptr<IteratorBase> in)
        : d_(d), in_(std::move(in)), slots_(d->cycle_) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      *end = false;
      while (true) {
        Slot& s = slots_[cur_];
        if (s.it == nullptr) {
          if (input_ended_) {
            if (AllEmpty()) {
              *end = true;
              return absl::OkStatus();
            }
            Advance();
            continue;
          }
          TensorTuple arg;
          bool e = false;
          SLUICE_RETURN_IF_ERROR(in_->GetNext(&arg, &e));
          if (e) {
            input_ended_ = true;
            continue;
          }
          SLUICE_ASSIGN_OR_RETURN(Dataset ds, d_->fn_(std::move(arg)));
          if (d_->parallel_) ds = ds.Prefetch(2 * d_->block_);
          SLUICE_RETURN_IF_ERROR(ds.status());
          s.ds = ds.base();  // iterators point into their dataset: keep it
          SLUICE_ASSIGN_OR_RETURN(s.it, s.ds->MakeIteratorBase());
          s.taken = 0;
        }
        bool e = false;
        absl::Status st = s.it->GetNext(out, &e);
        if (!st.ok()) return st;  // the slot stays; the next call goes on
        if (e) {
          s.it.reset();
          s.ds.reset();
          Advance();
          continue;
        }
        if (++s.taken >= d_->block_) Advance();
        return absl::OkStatus();
      }
    }

   private:
    struct Slot {
      std::shared_ptr<const DatasetBase> ds;
      std::unique_ptr<IteratorBase> it;  // declared after ds: destroyed first
      int64_t taken = 0;
    };
    void Advance() {
      slots_[cur_].taken = 0;
      cur_ = (cur_ + 1) % slots_.size();
    }
    bool AllEmpty() const {
      for (const Slot& s : slots_) {
        if (s.it != nullptr) return false;
      }
      return true;
    }
    const InterleaveDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    std::vector<Slot> slots_;
    size_t cur_ = 0;
    bool input_ended_ = false;
  };
  std::shared_ptr<const DatasetBase> in_;
  InterleaveFn fn_;
  const int64_t cycle_, block_;
  const bool parallel_;
};

}  // namespace

Dataset Dataset::Interleave(InterleaveFn fn, int64_t cycle_length, int64_t block_length,
                            std::optional<int> num_parallel_calls) const {
  if (!ok()) return *this;
  if (!fn) return Dataset(absl::InvalidArgumentError("Interleave: empty function"));
  if (cycle_length == kAutotune) cycle_length = 2;
  if (cycle_length <= 0 || block_length <= 0) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("Interleave: cycle_length and block_length must be > 0, got ", cycle_length,
                     " and ", block_length)));
  }
  if (num_parallel_calls.has_value() && *num_parallel_calls <= 0 &&
      *num_parallel_calls != kAutotune) {
    return Dataset(absl::InvalidArgumentError("num_parallel_calls must be > 0 or AUTOTUNE"));
  }
  return Dataset(std::make_shared<const InterleaveDataset>(base(), std::move(fn), cycle_length,
                                                           block_length,
                                                           num_parallel_calls.has_value()));
}

}  // namespace sluice
