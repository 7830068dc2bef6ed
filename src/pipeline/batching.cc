#include "pipeline/batching.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "queues/fifo_queue.h"
#include "queues/padding_fifo_queue.h"
#include "queues/random_shuffle_queue.h"

namespace sluice {
namespace {

// Rows of `batch` whose flag in `keep` is true.
absl::StatusOr<TensorTuple> SelectRows(const TensorTuple& batch, const Tensor& keep) {
  if (keep.dtype() != DType::kBool || keep.rank() != 1) {
    return absl::InvalidArgumentError("keep_input must be a bool vector with enqueue_many");
  }
  const int64_t n = keep.dim(0);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (keep.data<bool>()[i]) rows.push_back(i);
  }
  TensorTuple out;
  for (const Tensor& t : batch) {
    if (t.rank() < 1 || t.dim(0) != n) {
      return absl::InvalidArgumentError("keep_input length differs from the batch size");
    }
    if (static_cast<int64_t>(rows.size()) == n) {
      out.push_back(t);
      continue;
    }
    TensorShape shape = t.shape();
    shape.set_dim(0, static_cast<int64_t>(rows.size()));
    Tensor sel(t.dtype(), shape);
    for (size_t i = 0; i < rows.size(); ++i) {
      Tensor::CopyRows(t, rows[i], &sel, static_cast<int64_t>(i), 1);
    }
    out.push_back(std::move(sel));
  }
  return out;
}

}  // namespace

absl::StatusOr<TensorTuple> Batcher::Dequeue(const WaitOptions& w) const {
  if (!queue_) return absl::FailedPreconditionError("Batcher is empty");
  return allow_smaller_ ? queue_->DequeueUpTo(batch_size_, w)
                        : queue_->DequeueMany(batch_size_, w);
}

absl::StatusOr<Batcher> MakeBatcher(std::vector<TensorSource> sources, BatchOptions o,
                                    bool shuffle, std::optional<KeepInput> keep,
                                    InputCollections* collections) {
  if (collections == nullptr) return absl::InvalidArgumentError("collections is null");
  if (o.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size must be >= 1, got ", o.batch_size));
  }
  if (o.num_threads < 1) return absl::InvalidArgumentError("num_threads must be >= 1");
  if (o.capacity < 1) return absl::InvalidArgumentError("capacity must be >= 1");
  if (o.capacity_bytes < 0) {
    return absl::InvalidArgumentError("capacity_bytes must be >= 0 (0: no byte cap)");
  }
  if (sources.empty()) return absl::InvalidArgumentError("no input sources");
  for (const TensorSource& s : sources) {
    if (!s) return absl::InvalidArgumentError("empty input source");
  }
  if (o.dtypes.empty()) return absl::InvalidArgumentError("dtypes are required");
  if (o.shapes.size() != o.dtypes.size()) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", o.dtypes.size(),
                                                   " shapes, got ", o.shapes.size()));
  }
  if (shuffle && o.dynamic_pad) {
    return absl::InvalidArgumentError("dynamic_pad is not supported by the shuffle batchers");
  }
  if (!o.dynamic_pad) {
    for (size_t i = 0; i < o.shapes.size(); ++i) {
      if (!o.shapes[i].IsFullyDefined()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "All shapes must be fully defined: component ", i, " has shape ",
            o.shapes[i].DebugString(), " (use dynamic_pad = true)"));
      }
    }
  }
  if (shuffle && o.capacity <= o.min_after_dequeue) {
    return absl::InvalidArgumentError(absl::StrCat("capacity (", o.capacity,
                                                   ") must be larger than min_after_dequeue (",
                                                   o.min_after_dequeue, ")"));
  }
  if (keep.has_value()) {
    if (!keep->fn) return absl::InvalidArgumentError("keep_input has no function");
    if (keep->rank > 1 || keep->rank < 0) {
      return absl::InvalidArgumentError("keep_input must have rank 0 or 1");
    }
    if (keep->rank == 1 && !o.enqueue_many) {
      return absl::InvalidArgumentError("keep_input of rank 1 requires enqueue_many = true");
    }
  }

  std::shared_ptr<QueueInterface> queue;
  QueueOptions qo;
  qo.name = absl::StrCat(o.name, shuffle ? "/random_shuffle_queue" : "/fifo_queue");
  qo.dtypes = o.dtypes;
  qo.shapes = o.shapes;
  qo.capacity = o.capacity;
  qo.byte_capacity = o.capacity_bytes;
  if (shuffle) {
    RandomShuffleQueueOptions ro;
    ro.queue = qo;
    ro.min_after_dequeue = o.min_after_dequeue;
    ro.seed = o.seed;
    ro.seed2 = o.seed == 0 ? 0 : 0xb47c;
    SLUICE_ASSIGN_OR_RETURN(queue, RandomShuffleQueue::Create(ro));
  } else if (o.dynamic_pad) {
    qo.name = absl::StrCat(o.name, "/padding_fifo_queue");
    SLUICE_ASSIGN_OR_RETURN(queue, PaddingFIFOQueue::Create(qo));
  } else {
    SLUICE_ASSIGN_OR_RETURN(queue, FIFOQueue::Create(qo));
  }

  std::weak_ptr<QueueInterface> weak = queue;
  const bool many = o.enqueue_many;
  StageMetrics* metrics = o.metrics;
  if (metrics != nullptr) metrics->AddThreads(static_cast<int>(sources.size()));
  std::vector<QueueRunner::Step> steps;
  for (TensorSource& src : sources) {
    steps.push_back([src = std::move(src), keep, weak, many,
                     metrics](const WaitOptions& w) -> absl::Status {
      PhaseClock clock(metrics, /*count_thread=*/false);
      clock.Switch(StagePhase::kBusy);
      SLUICE_ASSIGN_OR_RETURN(TensorTuple t, src(w));
      if (keep.has_value()) {
        SLUICE_ASSIGN_OR_RETURN(Tensor k, keep->fn(t));
        if (k.dtype() != DType::kBool || k.rank() != keep->rank) {
          return absl::InvalidArgumentError(absl::StrCat(
              "keep_input must be a bool tensor of rank ", keep->rank));
        }
        if (k.rank() == 0) {
          if (!k.scalar<bool>()) return absl::OkStatus();
        } else {
          SLUICE_ASSIGN_OR_RETURN(t, SelectRows(t, k));
        }
      }
      std::shared_ptr<QueueInterface> q = weak.lock();
      if (!q) return absl::CancelledError("batch queue destroyed");
      if (metrics != nullptr) {
        const int64_t rows = many ? (t.empty() || t[0].rank() == 0 ? 0 : t[0].dim(0)) : 1;
        metrics->AddItems(rows, static_cast<int64_t>(TuplePayloadBytes(t)));
      }
      clock.Switch(StagePhase::kOutputWait);
      return many ? q->EnqueueMany(std::move(t), w) : q->Enqueue(std::move(t), w);
    });
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueRunner> runner,
                          QueueRunner::Create(queue, std::move(steps)));
  collections->runners.Add(runner);
  collections->summaries.Add(o.name, queue);

  Batcher b;
  b.queue_ = queue;
  b.runner_ = runner;
  b.summary_tag_ = absl::StrCat(o.name, "/", queue->stats().FillSummaryTag());
  b.batch_size_ = o.batch_size;
  b.allow_smaller_ = o.allow_smaller_final_batch;
  return b;
}

namespace {

std::string NameOr(const std::string& name, const char* dflt) {
  return name.empty() ? std::string(dflt) : name;
}

std::vector<TensorSource> Copies(TensorSource s, int n) {
  return std::vector<TensorSource>(std::max(n, 1), s);
}

}  // namespace

absl::StatusOr<Batcher> Batch(TensorSource source, BatchOptions o, InputCollections* c) {
  o.name = NameOr(o.name, "batch");
  const int n = o.num_threads;
  if (n < 1) return absl::InvalidArgumentError("num_threads must be >= 1");
  return MakeBatcher(Copies(std::move(source), n), std::move(o), false, std::nullopt, c);
}
absl::StatusOr<Batcher> MaybeBatch(TensorSource source, KeepInput keep, BatchOptions o,
                                   InputCollections* c) {
  o.name = NameOr(o.name, "batch");
  const int n = o.num_threads;
  if (n < 1) return absl::InvalidArgumentError("num_threads must be >= 1");
  return MakeBatcher(Copies(std::move(source), n), std::move(o), false, std::move(keep), c);
}
absl::StatusOr<Batcher> BatchJoin(std::vector<TensorSource> sources, BatchOptions o,
                                  InputCollections* c) {
  o.name = NameOr(o.name, "batch_join");
  return MakeBatcher(std::move(sources), std::move(o), false, std::nullopt, c);
}
absl::StatusOr<Batcher> MaybeBatchJoin(std::vector<TensorSource> sources, KeepInput keep,
                                       BatchOptions o, InputCollections* c) {
  o.name = NameOr(o.name, "batch_join");
  return MakeBatcher(std::move(sources), std::move(o), false, std::move(keep), c);
}
absl::StatusOr<Batcher> ShuffleBatch(TensorSource source, BatchOptions o, InputCollections* c) {
  o.name = NameOr(o.name, "shuffle_batch");
  const int n = o.num_threads;
  if (n < 1) return absl::InvalidArgumentError("num_threads must be >= 1");
  return MakeBatcher(Copies(std::move(source), n), std::move(o), true, std::nullopt, c);
}
absl::StatusOr<Batcher> MaybeShuffleBatch(TensorSource source, KeepInput keep, BatchOptions o,
                                          InputCollections* c) {
  o.name = NameOr(o.name, "shuffle_batch");
  const int n = o.num_threads;
  if (n < 1) return absl::InvalidArgumentError("num_threads must be >= 1");
  return MakeBatcher(Copies(std::move(source), n), std::move(o), true, std::move(keep), c);
}
absl::StatusOr<Batcher> ShuffleBatchJoin(std::vector<TensorSource> sources, BatchOptions o,
                                         InputCollections* c) {
  o.name = NameOr(o.name, "shuffle_batch_join");
  return MakeBatcher(std::move(sources), std::move(o), true, std::nullopt, c);
}
absl::StatusOr<Batcher> MaybeShuffleBatchJoin(std::vector<TensorSource> sources,
                                              KeepInput keep, BatchOptions o,
                                              InputCollections* c) {
  o.name = NameOr(o.name, "shuffle_batch_join");
  return MakeBatcher(std::move(sources), std::move(o), true, std::move(keep), c);
}

}  // namespace sluice
