#include "queues/fifo_queue.h"

#include "absl/strings/str_cat.h"

namespace sluice {

using internal::RowChunk;

absl::StatusOr<std::shared_ptr<FIFOQueue>> FIFOQueue::Create(QueueOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(options, "FIFOQueue"));
  for (size_t i = 0; i < options.shapes.size(); ++i) {
    if (!options.shapes[i].IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "FIFOQueue '", options.name, "': component ", i, " shape ",
          options.shapes[i].DebugString(),
          " is not fully defined (use PaddingFIFOQueue for unknown dimensions)"));
    }
  }
  return std::shared_ptr<FIFOQueue>(new FIFOQueue(options, "FIFOQueue"));
}

void FIFOQueue::PushLocked(RowChunk&& rows) {
  size_ += rows.rows();
  chunks_.push_back(std::move(rows));
}

void FIFOQueue::TakeLocked(int64_t n, internal::RowChunks* out) {
  size_ -= n;
  while (n > 0) {
    RowChunk& front = chunks_.front();
    const int64_t r = front.rows();
    if (r <= n) {
      out->push_back(std::move(front));
      chunks_.pop_front_moved_from();
      n -= r;
    } else {
      out->push_back(front.Slice(0, n));
      front = front.Slice(n, r);
      n = 0;
    }
  }
  if (size_ == 0) chunks_.ShrinkIfEmpty();
}

void FIFOQueue::RestoreLocked(internal::RowChunks* parts) {
  for (auto it = parts->rbegin(); it != parts->rend(); ++it) {
    size_ += it->rows();
    chunks_.push_front(std::move(*it));
  }
  parts->clear();
}

}  // namespace sluice
