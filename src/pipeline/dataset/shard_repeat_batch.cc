// Shard (§5.9), Repeat (§5.4) and Batch (§5.5).
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "pipeline/dataset/dataset.h"

namespace sluice {
namespace {

using internal::BatchRows;

class ShardDataset final : public DatasetBase {
 public:
  ShardDataset(std::shared_ptr<const DatasetBase> in, int64_t n, int64_t i)
      : in_(std::move(in)), n_(n), i_(i) {}
  std::string DebugName() const override { return "Shard"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this, std::move(in)));
  }

 private:
  class It final : public IteratorBase {
   public:
    It(const ShardDataset* d, std::unique_ptr<IteratorBase> in) : d_(d), in_(std::move(in)) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      while (true) {
        SLUICE_RETURN_IF_ERROR(in_->GetNext(out, end));
        if (*end) return absl::OkStatus();
        if (pos_++ % d_->n_ == d_->i_) return absl::OkStatus();
      }
    }
    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      while (true) {
        TensorTuple batch;
        SLUICE_RETURN_IF_ERROR(in_->GetNextMany(n * d_->n_, &batch, end));
        if (*end) return absl::OkStatus();
        const int64_t k = BatchRows(batch);
        std::vector<int64_t> rows;
        for (int64_t r = 0; r < k; ++r, ++pos_) {
          if (pos_ % d_->n_ == d_->i_) rows.push_back(r);
        }
        if (rows.empty()) continue;
        out->clear();
        for (const Tensor& t : batch) {
          Tensor sel(t.dtype(), t.shape().DroppedFirst().Prepended(static_cast<int64_t>(rows.size())));
          for (size_t j = 0; j < rows.size(); ++j) {
            Tensor::CopyRows(t, rows[j], &sel, static_cast<int64_t>(j), 1);
          }
          out->push_back(std::move(sel));
        }
        return absl::OkStatus();
      }
    }

   private:
    const ShardDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    int64_t pos_ = 0;
  };
  std::shared_ptr<const DatasetBase> in_;
  const int64_t n_, i_;
};

class RepeatDataset final : public DatasetBase {
 public:
  RepeatDataset(std::shared_ptr<const DatasetBase> in, int64_t count)
      : in_(std::move(in)), count_(count) {}
  std::string DebugName() const override { return "Repeat"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this));
  }

 private:
  class It final : public IteratorBase {
   public:
    explicit It(const RepeatDataset* d) : d_(d) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      return Step([&](IteratorBase* in, bool* e) { return in->GetNext(out, e); }, end);
    }
    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      return Step([&](IteratorBase* in, bool* e) { return in->GetNextMany(n, out, e); }, end);
    }
    absl::Status GetNextDeferred(TensorTuple* out, bool* end,
                                 DeferredWork* work) override {
      return Step([&](IteratorBase* in,
                      bool* e) { return in->GetNextDeferred(out, e, work); },
                  end);
    }
    absl::Status GetNextManyDeferred(int64_t n, TensorTuple* out, bool* end,
                                     DeferredWork* work) override {
      return Step(
          [&](IteratorBase* in, bool* e) {
            return in->GetNextManyDeferred(n, out, e, work);
          },
          end);
    }

   private:
    template <typename Fn>
    absl::Status Step(Fn fn, bool* end) {
      *end = false;
      while (true) {
        if (d_->count_ >= 0 && passes_ >= d_->count_) {
          *end = true;
          return absl::OkStatus();
        }
        if (in_ == nullptr) {
          SLUICE_ASSIGN_OR_RETURN(in_, d_->in_->MakeIteratorBase());
          first_of_pass_ = true;
        }
        bool e = false;
        absl::Status s = fn(in_.get(), &e);
        if (!s.ok()) {
          first_of_pass_ = false;
          return s;
        }
        if (!e) {
          first_of_pass_ = false;
          return absl::OkStatus();
        }
        in_.reset();
        ++passes_;
        // An infinite repeat over a pass that yields nothing would spin.
        if (first_of_pass_ && d_->count_ < 0) {
          *end = true;
          return absl::OkStatus();
        }
      }
    }
    const RepeatDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    int64_t passes_ = 0;
    bool first_of_pass_ = true;
  };
  std::shared_ptr<const DatasetBase> in_;
  const int64_t count_;
};

class BatchDataset final : public DatasetBase {
 public:
  BatchDataset(std::shared_ptr<const DatasetBase> in, int64_t b, bool drop)
      : in_(std::move(in)), b_(b), drop_(drop) {}
  std::string DebugName() const override { return "Batch"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    SLUICE_ASSIGN_OR_RETURN(auto in, in_->MakeIteratorBase());
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this, std::move(in)));
  }

 private:
  class It final : public IteratorBase {
   public:
    It(const BatchDataset* d, std::unique_ptr<IteratorBase> in) : d_(d), in_(std::move(in)) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      return Next(out, end, nullptr);
    }
    // The input's deferred work (a Shuffle's copies) is passed on, so a
    // parallel Map above runs it outside its input lock.
    absl::Status GetNextDeferred(TensorTuple* out, bool* end,
                                 DeferredWork* work) override {
      return Next(out, end, work);
    }

   private:
    // GetNext, or GetNextDeferred when `work` is set.
    absl::Status Next(TensorTuple* out, bool* end, DeferredWork* work) {
      *end = false;
      if (input_ended_) {
        *end = true;
        return absl::OkStatus();
      }
      std::vector<TensorTuple> parts;
      int64_t have = 0;
      while (have < d_->b_) {
        TensorTuple part;
        bool e = false;
        // An input error loses the elements read for this batch (§5.5).
        SLUICE_RETURN_IF_ERROR(
            work != nullptr
                ? in_->GetNextManyDeferred(d_->b_ - have, &part, &e, work)
                : in_->GetNextMany(d_->b_ - have, &part, &e));
        if (e) {
          input_ended_ = true;
          break;
        }
        have += BatchRows(part);
        parts.push_back(std::move(part));
      }
      if (have == 0 || (have < d_->b_ && d_->drop_)) {
        *end = true;
        return absl::OkStatus();
      }
      // Concatenating may copy element bytes: the parts must be complete
      // (more than one part happens only at the end of the input).
      if (parts.size() > 1 && work != nullptr) work->Run();
      SLUICE_ASSIGN_OR_RETURN(*out, internal::ConcatBatches(parts));
      return absl::OkStatus();
    }

    const BatchDataset* d_;
    std::unique_ptr<IteratorBase> in_;
    bool input_ended_ = false;
  };
  std::shared_ptr<const DatasetBase> in_;
  const int64_t b_;
  const bool drop_;
};

}  // namespace

Dataset Dataset::Shard(int64_t num_shards, int64_t index) const {
  if (!ok()) return *this;
  if (num_shards <= 0 || index < 0 || index >= num_shards) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("Shard: need num_shards > 0 and 0 <= index < num_shards, got ", num_shards,
                     ", ", index)));
  }
  return Dataset(std::make_shared<const ShardDataset>(base(), num_shards, index));
}

Dataset Dataset::Repeat(int64_t count) const {
  if (!ok()) return *this;
  return Dataset(std::make_shared<const RepeatDataset>(base(), count < 0 ? -1 : count));
}

Dataset Dataset::Batch(int64_t batch_size, bool drop_remainder) const {
  if (!ok()) return *this;
  if (batch_size <= 0) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("Batch size must be greater than zero, got ", batch_size)));
  }
  return Dataset(std::make_shared<const BatchDataset>(base(), batch_size, drop_remainder));
}

}  // namespace sluice
