#include "train/internal/evaluation.h"

#include <memory>
#include <vector>

#include "train/internal/summaries.h"

namespace sluice::train::internal {

absl::StatusOr<double> Evaluator::Accuracy() {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Iterator> batches,
                          inputs_.TestBatches());
  int64_t correct = 0, total = 0;
  std::vector<Tensor> out;
  while (true) {
    absl::StatusOr<TensorTuple> b = batches->GetNext();
    if (absl::IsOutOfRange(b.status())) break;
    SLUICE_RETURN_IF_ERROR(b.status());
    if (events_ != nullptr && !images_logged_) {
      images_logged_ = true;
      WriteInputImages(events_, (*b)[0], o_.height, o_.width);
    }
    SLUICE_RETURN_IF_ERROR(
        session_->Run({{graph_.images, (*b)[0]}}, {graph_.predictions}, &out));
    ++runs_;
    const int64_t* p = out[0].data<int64_t>();
    const int64_t* y = (*b)[1].data<int64_t>();
    for (int64_t i = 0; i < out[0].NumElements(); ++i) correct += p[i] == y[i];
    total += out[0].NumElements();
  }
  if (sum_over_ != nullptr) {
    int64_t counts[2] = {correct, total};
    SLUICE_RETURN_IF_ERROR(
        sum_over_->AllreduceSum(counts, 2, "evaluation counts"));
    correct = counts[0];
    total = counts[1];
  }
  return total ? static_cast<double>(correct) / total : 0;
}

}  // namespace sluice::train::internal
