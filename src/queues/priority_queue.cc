#include "queues/priority_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

using internal::RowChunk;

absl::StatusOr<std::shared_ptr<PriorityQueue>> PriorityQueue::Create(QueueOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options, "PriorityQueue"));
  if (options.dtypes[0] != DType::kInt64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PriorityQueue '", options.name,
        "': component 0 (the priority) must be int64, got ",
        std::string(DTypeName(options.dtypes[0]))));
  }
  if (!options.shapes.empty() && options.shapes[0].rank() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PriorityQueue '", options.name, "': component 0 (the priority) must be a scalar, got ",
        options.shapes[0].DebugString()));
  }
  for (size_t i = 0; i < options.shapes.size(); ++i) {
    if (!options.shapes[i].IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PriorityQueue '", options.name, "': component ", i, " shape ",
          options.shapes[i].DebugString(), " is not fully defined"));
    }
  }
  return std::shared_ptr<PriorityQueue>(new PriorityQueue(options, "PriorityQueue"));
}

absl::Status PriorityQueue::ValidateElement(const TensorTuple& element) const {
  SLUICE_RETURN_IF_ERROR(QueueBase::ValidateElement(element));
  if (element[0].rank() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PriorityQueue '", Sv(name()), "': the priority (component 0) must be a scalar, got ",
        element[0].shape().DebugString()));
  }
  return absl::OkStatus();
}

absl::Status PriorityQueue::ValidateBatch(const TensorTuple& batch) const {
  SLUICE_RETURN_IF_ERROR(QueueBase::ValidateBatch(batch));
  if (batch[0].rank() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PriorityQueue '", Sv(name()), "': EnqueueMany priorities (component 0) must be a vector, got ",
        batch[0].shape().DebugString()));
  }
  return absl::OkStatus();
}

void PriorityQueue::PushElementLocked(TensorTuple element) {
  const int64_t p = element[0].scalar<int64_t>();
  heap_.push_back(Entry{p, next_seq_++, std::move(element)});
  std::push_heap(heap_.begin(), heap_.end(), Later());
}

void PriorityQueue::PushLocked(RowChunk&& rows) {
  if (!rows.stacked) {
    PushElementLocked(std::move(rows.tuple));
    return;
  }
  for (int64_t r = 0; r < rows.rows(); ++r) PushElementLocked(rows.Element(r));
}

void PriorityQueue::TakeLocked(int64_t n, internal::RowChunks* out) {
  for (int64_t k = 0; k < n; ++k) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    out->push_back(RowChunk{std::move(heap_.back().element), /*stacked=*/false});
    heap_.pop_back();
  }
}

void PriorityQueue::RestoreLocked(internal::RowChunks* parts) {
  for (RowChunk& c : *parts) PushLocked(std::move(c));
  parts->clear();
}

}  // namespace sluice
