#include "bench/train_measure.h"

#include <optional>

namespace sluice::bench {
namespace {

class InputOnlySource final : public train::StepSource {
 public:
  std::unique_ptr<Epoch> StartEpoch(DevicePrefetcher* input, int64_t) override {
    return std::make_unique<EveryBatch>(input);
  }
  bool runs_steps() const override { return false; }

 private:
  class EveryBatch final : public Epoch {
   public:
    explicit EveryBatch(DevicePrefetcher* input) : input_(input) {}
    absl::StatusOr<DeviceBatch> Next() override { return input_->Next(); }

   private:
    DevicePrefetcher* input_;
  };
};

class StepOnlySource final : public train::StepSource {
 public:
  std::unique_ptr<Epoch> StartEpoch(DevicePrefetcher* input, int64_t steps_per_epoch) override {
    return std::make_unique<FirstBatch>(input, steps_per_epoch);
  }
  bool measures_input() const override { return false; }

 private:
  // The epoch's first batch, again and again; dropped with the epoch.
  class FirstBatch final : public Epoch {
   public:
    FirstBatch(DevicePrefetcher* input, int64_t steps) : input_(input), steps_(steps) {}
    absl::StatusOr<DeviceBatch> Next() override {
      if (taken_++ >= steps_) return absl::OutOfRangeError("end of the step-only epoch");
      if (!first_.has_value()) {
        SLUICE_ASSIGN_OR_RETURN(DeviceBatch b, input_->Next());
        first_ = std::move(b);
      }
      return *first_;
    }

   private:
    DevicePrefetcher* input_;
    const int64_t steps_;
    int64_t taken_ = 0;
    std::optional<DeviceBatch> first_;
  };
};

}  // namespace

std::shared_ptr<train::StepSource> InputOnly() { return std::make_shared<InputOnlySource>(); }
std::shared_ptr<train::StepSource> StepOnly() { return std::make_shared<StepOnlySource>(); }

}  // namespace sluice::bench
