#include "pipeline/dataset/dataset.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

namespace internal {

absl::StatusOr<TensorTuple> StackElements(const std::vector<TensorTuple>& elements) {
  if (elements.empty()) return absl::InvalidArgumentError("nothing to stack");
  const size_t arity = elements[0].size();
  const int64_t n = static_cast<int64_t>(elements.size());
  TensorTuple out;
  for (size_t c = 0; c < arity; ++c) {
    const Tensor& first = elements[0][c];
    for (const TensorTuple& e : elements) {
      if (e.size() != arity) {
        return absl::InvalidArgumentError("Cannot batch elements with different arity");
      }
      if (e[c].dtype() != first.dtype() || e[c].shape() != first.shape()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Cannot batch tensors with different shapes in component ", c, ". First element had shape ",
            first.shape().DebugString(), " and element had shape ", e[c].shape().DebugString()));
      }
    }
    Tensor t(first.dtype(), first.shape().Prepended(n));
    for (int64_t i = 0; i < n; ++i) Tensor::CopyElementToRow(elements[i][c], &t, i);
    out.push_back(std::move(t));
  }
  return out;
}

int64_t BatchRows(const TensorTuple& batch) {
  return batch.empty() || batch[0].rank() == 0 ? 0 : batch[0].dim(0);
}

TensorTuple RowOf(const TensorTuple& batch, int64_t row) {
  TensorTuple out;
  for (const Tensor& t : batch) out.push_back(t.Row(row));
  return out;
}

absl::StatusOr<TensorTuple> ConcatBatches(const std::vector<TensorTuple>& batches) {
  if (batches.empty()) return absl::InvalidArgumentError("nothing to concatenate");
  if (batches.size() == 1) return batches[0];
  const size_t arity = batches[0].size();
  int64_t total = 0;
  for (const TensorTuple& b : batches) {
    if (b.size() != arity) return absl::InvalidArgumentError("Cannot batch elements with different arity");
    total += BatchRows(b);
  }
  TensorTuple out;
  for (size_t c = 0; c < arity; ++c) {
    const Tensor& first = batches[0][c];
    const TensorShape row = first.shape().DroppedFirst();
    for (const TensorTuple& b : batches) {
      if (b[c].dtype() != first.dtype() || b[c].shape().DroppedFirst() != row) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Cannot batch tensors with different shapes in component ", c, ". First element had shape ",
            row.DebugString(), " and element had shape ", b[c].shape().DroppedFirst().DebugString()));
      }
    }
    Tensor t(first.dtype(), row.Prepended(total));
    int64_t at = 0;
    for (const TensorTuple& b : batches) {
      const int64_t k = b[c].dim(0);
      if (k > 0) Tensor::CopyRows(b[c], 0, &t, at, k);
      at += k;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace internal

void DeferredWork::Run() {
  // Work added while running (none today) runs too.
  while (!fns_.empty()) {
    std::vector<std::function<void()>> fns = std::move(fns_);
    fns_.clear();
    for (auto& fn : fns) fn();
  }
}

absl::Status IteratorBase::GetNextMany(int64_t n, TensorTuple* out, bool* end_of_sequence) {
  *end_of_sequence = false;
  if (!pending_.ok()) return std::exchange(pending_, absl::OkStatus());
  std::vector<TensorTuple> got;
  while (static_cast<int64_t>(got.size()) < n) {
    TensorTuple e;
    bool end = false;
    absl::Status s = GetNext(&e, &end);
    if (!s.ok()) {
      if (got.empty()) return s;
      pending_ = s;
      break;
    }
    if (end) {
      if (got.empty()) {
        *end_of_sequence = true;
        return absl::OkStatus();
      }
      break;
    }
    got.push_back(std::move(e));
  }
  SLUICE_ASSIGN_OR_RETURN(*out, internal::StackElements(got));
  return absl::OkStatus();
}

absl::StatusOr<TensorTuple> Iterator::GetNext() {
  if (ended_) return absl::OutOfRangeError("End of sequence");
  TensorTuple out;
  bool end = false;
  SLUICE_RETURN_IF_ERROR(impl_->GetNext(&out, &end));
  if (end) {
    ended_ = true;
    return absl::OutOfRangeError("End of sequence");
  }
  return out;
}

absl::StatusOr<TensorTuple> Iterator::GetNextMany(int64_t n) {
  if (n <= 0) return absl::InvalidArgumentError("GetNextMany needs n > 0");
  if (ended_) return absl::OutOfRangeError("End of sequence");
  TensorTuple out;
  bool end = false;
  SLUICE_RETURN_IF_ERROR(impl_->GetNextMany(n, &out, &end));
  if (end) {
    ended_ = true;
    return absl::OutOfRangeError("End of sequence");
  }
  return out;
}

absl::Status Iterator::Reinitialize() {
  impl_.reset();  // stop its threads before starting new ones
  SLUICE_ASSIGN_OR_RETURN(impl_, dataset_->MakeIteratorBase());
  ended_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Iterator>> Dataset::MakeIterator() const {
  if (!d_.ok()) return d_.status();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<IteratorBase> impl, (*d_)->MakeIteratorBase());
  return std::make_unique<Iterator>(*d_, std::move(impl));
}

// ------------------------------------------------------------------ sources

namespace {

class RangeDataset final : public DatasetBase {
 public:
  RangeDataset(int64_t start, int64_t stop, int64_t step)
      : start_(start), stop_(stop), step_(step) {}
  std::string DebugName() const override { return "Range"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this));
  }

 private:
  class It final : public IteratorBase {
   public:
    explicit It(const RangeDataset* d) : d_(d), next_(d->start_) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      if (Done()) {
        *end = true;
        return absl::OkStatus();
      }
      *end = false;
      *out = {Tensor::Scalar<int64_t>(next_)};
      next_ += d_->step_;
      return absl::OkStatus();
    }
    absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
      *end = false;
      if (Done()) {
        *end = true;
        return absl::OkStatus();
      }
      std::vector<int64_t> v;
      while (!Done() && static_cast<int64_t>(v.size()) < n) {
        v.push_back(next_);
        next_ += d_->step_;
      }
      *out = {Tensor::FromVector<int64_t>(v, TensorShape{static_cast<int64_t>(v.size())})};
      return absl::OkStatus();
    }

   private:
    bool Done() const { return d_->step_ > 0 ? next_ >= d_->stop_ : next_ <= d_->stop_; }
    const RangeDataset* d_;
    int64_t next_;
  };
  const int64_t start_, stop_, step_;
};

class SlicesDataset final : public DatasetBase {
 public:
  SlicesDataset(TensorTuple t, bool whole) : t_(std::move(t)), whole_(whole) {}
  std::string DebugName() const override { return whole_ ? "FromTensors" : "FromTensorSlices"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override {
    return std::unique_ptr<IteratorBase>(std::make_unique<It>(this));
  }

 private:
  class It final : public IteratorBase {
   public:
    explicit It(const SlicesDataset* d) : d_(d) {}
    absl::Status GetNext(TensorTuple* out, bool* end) override {
      const int64_t n = d_->whole_ ? 1 : internal::BatchRows(d_->t_);
      *end = next_ >= n;
      if (*end) return absl::OkStatus();
      *out = d_->whole_ ? d_->t_ : internal::RowOf(d_->t_, next_);
      ++next_;
      return absl::OkStatus();
    }

   private:
    const SlicesDataset* d_;
    int64_t next_ = 0;
  };
  const TensorTuple t_;
  const bool whole_;
};

}  // namespace

Dataset Dataset::Range(int64_t start, int64_t stop, int64_t step) {
  if (step == 0) return Dataset(absl::InvalidArgumentError("step must be != 0"));
  return Dataset(std::make_shared<const RangeDataset>(start, stop, step));
}

Dataset Dataset::FromTensorSlices(TensorTuple tensors) {
  if (tensors.empty()) return Dataset(absl::InvalidArgumentError("no tensors"));
  for (const Tensor& t : tensors) {
    if (!t.IsInitialized() || t.rank() < 1 || t.dim(0) != tensors[0].dim(0)) {
      return Dataset(absl::InvalidArgumentError(
          "FromTensorSlices needs tensors of rank >= 1 with the same first dimension"));
    }
  }
  return Dataset(std::make_shared<const SlicesDataset>(std::move(tensors), false));
}

Dataset Dataset::FromTensors(TensorTuple tensors) {
  if (tensors.empty()) return Dataset(absl::InvalidArgumentError("no tensors"));
  return Dataset(std::make_shared<const SlicesDataset>(std::move(tensors), true));
}

}  // namespace sluice
