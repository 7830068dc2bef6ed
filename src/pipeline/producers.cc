#include "pipeline/producers.h"

#include <atomic>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"
#include "core/random.h"

namespace sluice {
namespace {

// Gathers rows `index` of `t` into a new tensor.
Tensor Gather(const Tensor& t, const std::vector<int64_t>& index) {
  TensorShape shape = t.shape();
  shape.set_dim(0, static_cast<int64_t>(index.size()));
  Tensor out(t.dtype(), shape);
  for (size_t i = 0; i < index.size(); ++i) {
    Tensor::CopyRows(t, index[i], &out, static_cast<int64_t>(i), 1);
  }
  return out;
}

struct EpochState {
  absl::Mutex mu;
  int64_t epochs_done ABSL_GUARDED_BY(mu) = 0;
  Random rng;
  explicit EpochState(uint64_t seed) : rng(seed, seed == 0 ? 0 : 0x9d0) {}
};

absl::Status Validate(const ProducerOptions& o) {
  if (o.num_epochs.has_value() && *o.num_epochs <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_epochs must be > 0 or unset, got ", *o.num_epochs));
  }
  if (o.capacity <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("capacity must be > 0, got ", o.capacity));
  }
  if (o.num_shards < 1 || o.shard_index < 0 || o.shard_index >= o.num_shards) {
    return absl::InvalidArgumentError(absl::StrCat("bad shard ", o.shard_index, " of ",
                                                   o.num_shards));
  }
  return absl::OkStatus();
}

// The common builder: `tensors` share dim 0; one element = their rows.
absl::StatusOr<Producer> MakeProducer(std::vector<Tensor> tensors, ProducerOptions o,
                                      InputCollections* collections) {
  SLUICE_RETURN_IF_ERROR(Validate(o));
  if (collections == nullptr) return absl::InvalidArgumentError("collections is null");
  if (tensors.empty()) return absl::InvalidArgumentError("expected at least one tensor");
  QueueOptions qo;
  qo.name = o.name + "/fifo_queue";
  qo.capacity = o.capacity;
  for (const Tensor& t : tensors) {
    if (!t.IsInitialized() || t.rank() < 1) {
      return absl::InvalidArgumentError("input tensors must have rank >= 1");
    }
    if (t.dim(0) != tensors[0].dim(0)) {
      return absl::InvalidArgumentError("input tensors must have the same first dimension");
    }
    qo.dtypes.push_back(t.dtype());
    qo.shapes.push_back(t.shape().DroppedFirst());
  }
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<FIFOQueue> queue, FIFOQueue::Create(qo));

  // Shard once, up front: rows index % n == i.
  const int64_t rows = tensors[0].dim(0);
  std::vector<int64_t> mine;
  for (int64_t r = o.shard_index; r < rows; r += o.num_shards) mine.push_back(r);
  std::vector<Tensor> sharded;
  for (const Tensor& t : tensors) {
    sharded.push_back(o.num_shards == 1 ? t : Gather(t, mine));
  }

  auto state = std::make_shared<EpochState>(o.seed);
  const std::optional<int64_t> limit = o.num_epochs;
  const bool shuffle = o.shuffle;
  std::weak_ptr<FIFOQueue> weak_queue = queue;
  QueueRunner::Step step = [state, limit, shuffle, sharded,
                            weak_queue](const WaitOptions& w) -> absl::Status {
    std::shared_ptr<FIFOQueue> q = weak_queue.lock();
    if (!q) return absl::CancelledError("queue destroyed");
    const int64_t n = sharded[0].dim(0);
    TensorTuple epoch;
    {
      absl::MutexLock lock(&state->mu);
      if (limit.has_value() && state->epochs_done >= *limit) {
        return absl::OutOfRangeError(absl::StrCat("Reached limit of ", *limit));
      }
      ++state->epochs_done;
      if (n == 0) {
        return absl::InvalidArgumentError(
            "input producer: input tensor is empty (assertion failed: size > 0)");
      }
      if (shuffle) {
        std::vector<int64_t> perm(n);
        std::iota(perm.begin(), perm.end(), 0);
        for (int64_t i = n - 1; i > 0; --i) {
          std::swap(perm[i], perm[state->rng.Uniform(i + 1)]);
        }
        for (const Tensor& t : sharded) epoch.push_back(Gather(t, perm));
      } else {
        for (const Tensor& t : sharded) epoch.push_back(t);
      }
    }
    return q->EnqueueMany(std::move(epoch), w);
  };
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueRunner> runner,
                          QueueRunner::Create(queue, {std::move(step)}));
  collections->runners.Add(runner);
  Producer p;
  p.queue = queue;
  p.runner = runner;
  p.summary_tag = absl::StrCat(o.name, "/", queue->stats().FillSummaryTag());
  collections->summaries.Add(o.name, queue);
  return p;
}

}  // namespace

absl::StatusOr<Producer> InputProducer(Tensor input, ProducerOptions options,
                                       InputCollections* collections) {
  return MakeProducer({std::move(input)}, std::move(options), collections);
}

absl::StatusOr<Producer> StringInputProducer(const std::vector<std::string>& strings,
                                             ProducerOptions options,
                                             InputCollections* collections) {
  if (strings.empty()) {
    return absl::InvalidArgumentError("string_input_producer requires a non-empty list");
  }
  if (options.name == "input_producer") options.name = "string_input_producer";
  return MakeProducer({Tensor::FromStrings(strings, TensorShape{static_cast<int64_t>(strings.size())})},
                      std::move(options), collections);
}

absl::StatusOr<Producer> RangeInputProducer(int32_t limit, ProducerOptions options,
                                            InputCollections* collections) {
  if (limit < 0) return absl::InvalidArgumentError("limit must be >= 0");
  if (options.name == "input_producer") options.name = "range_input_producer";
  Tensor t(DType::kInt32, TensorShape{limit});
  for (int32_t i = 0; i < limit; ++i) t.data<int32_t>()[i] = i;
  return MakeProducer({std::move(t)}, std::move(options), collections);
}

absl::StatusOr<Producer> SliceInputProducer(std::vector<Tensor> tensors, ProducerOptions options,
                                            InputCollections* collections) {
  if (tensors.empty()) {
    return absl::InvalidArgumentError("slice_input_producer requires a non-empty tensor list");
  }
  return MakeProducer(std::move(tensors), std::move(options), collections);
}

}  // namespace sluice
