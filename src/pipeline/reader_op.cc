#include "pipeline/reader_op.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"
#include "pipeline/stage_metrics.h"

namespace sluice {

void TFRecordReaderOp::Reset() {
  absl::MutexLock lock(&mu_);
  reader_.reset();
  file_.clear();
}

TFRecordReaderStats TFRecordReaderOp::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void TFRecordReaderOp::FinishFileLocked(bool abandoned) {
  if (reader_ != nullptr) {
    const RecordReaderStats& rs = reader_->stats();
    stats_.records_skipped += static_cast<int64_t>(rs.records_skipped);
    stats_.files_abandoned += static_cast<int64_t>(rs.files_abandoned) + (abandoned ? 1 : 0);
  }
  ++stats_.work_units_completed;
  reader_.reset();
  file_.clear();
}

absl::StatusOr<TensorTuple> TFRecordReaderOp::Read(QueueInterface* q, const WaitOptions& w) {
  absl::MutexLock lock(&mu_);
  return ReadLocked(q, 1, /*scalar=*/true, w);
}

absl::StatusOr<TensorTuple> TFRecordReaderOp::ReadUpTo(QueueInterface* q, int64_t n,
                                                       const WaitOptions& w) {
  if (n <= 0) return absl::InvalidArgumentError(absl::StrCat("ReadUpTo needs n > 0, got ", n));
  absl::MutexLock lock(&mu_);
  return ReadLocked(q, n, /*scalar=*/false, w);
}

absl::StatusOr<TensorTuple> TFRecordReaderOp::ReadLocked(QueueInterface* q, int64_t n,
                                                         bool scalar, const WaitOptions& w) {
  if (q == nullptr) return absl::InvalidArgumentError("filename queue is null");
  while (true) {
    if (reader_ == nullptr) {
      absl::StatusOr<TensorTuple> dequeued;
      {
        ScopedPhase wait(StagePhase::kInputWait);
        dequeued = q->Dequeue(w);
      }
      SLUICE_ASSIGN_OR_RETURN(TensorTuple name, std::move(dequeued));
      if (name.size() != 1 || name[0].dtype() != DType::kString || name[0].NumElements() != 1) {
        return absl::InvalidArgumentError("filename queue must hold scalar strings");
      }
      file_ = std::string(name[0].string(0));
      RecordReaderOptions ro;
      ro.compression = options_.compression;
      ro.corrupt_policy = options_.corrupt_policy;
      ro.buffer_size = options_.buffer_size;
      ro.inflater = options_.inflater;
      ro.map_file = options_.map_file;
      absl::StatusOr<std::unique_ptr<RecordReader>> r = RecordReader::Open(file_, ro);
      if (!r.ok()) {
        ++stats_.errors_returned;
        FinishFileLocked(/*abandoned=*/true);
        return r.status();
      }
      reader_ = *std::move(r);
    }
    absl::Status s = reader_->ReadMany(n, &batch_);
    if (absl::IsOutOfRange(s)) {
      FinishFileLocked(/*abandoned=*/false);
      continue;
    }
    if (!s.ok()) {
      // Give up on this file so the next call moves on (never spin on an
      // unknown offset).
      ++stats_.errors_returned;
      FinishFileLocked(/*abandoned=*/true);
      return s;
    }
    const int64_t k = static_cast<int64_t>(batch_.size());
    const TensorShape shape = scalar ? TensorShape{} : TensorShape{k};
    Tensor values(DType::kString, shape);
    for (int64_t i = 0; i < k; ++i) values.SetStringView(i, batch_.record(i), batch_.owner(i));
    Tensor keys(DType::kString, options_.produce_keys ? shape : TensorShape{0});
    if (options_.produce_keys) {
      std::string key;
      for (int64_t i = 0; i < k; ++i) {
        key.assign(file_);
        key += ':';
        absl::StrAppend(&key, batch_.offset(i));
        keys.SetString(i, key);
      }
    }
    stats_.records_produced += k;
    batch_.Clear();
    return TensorTuple{std::move(keys), std::move(values)};
  }
}

}  // namespace sluice
