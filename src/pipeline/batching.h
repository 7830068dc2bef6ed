#pragma once
// The tf.train batchers (spec §4.2–4.3, checklist 103–108): batch,
// batch_join, shuffle_batch, shuffle_batch_join and their maybe_ forms.
//
// Where TensorFlow evaluates input tensors once per enqueue-op run, a
// TensorSource is called once per step: it returns one element (or, with
// enqueue_many, a batch whose dim 0 indexes elements), usually by reading
// from a reader op or another queue. Each batcher builds its queue (FIFO;
// PaddingFIFO with dynamic_pad; RandomShuffle for the shuffle forms),
// registers ONE QueueRunner in `collections` — num_threads copies of one
// step (batch, shuffle_batch) or one step per source (the _join forms) —
// and a fill summary "<name>/fraction_of_<cap>_full" or
// "<name>/fraction_over_<m>_of_<cap-m>_full".
//
// End of data (§4.3): when every step's source returns OutOfRange the
// runner's last thread closes the queue; Batcher::Dequeue then returns full
// batches while there are enough elements, then — with
// allow_smaller_final_batch — one smaller final batch, then OutOfRange.
// Without it the remainder stays in the queue and is never delivered.
//
// Construction errors (TensorFlow's ValueError) are InvalidArgument:
// batch_size < 1, num_threads < 1, capacity < 1, dtypes/shapes missing or
// of different counts, unknown dimensions without dynamic_pad (item 107),
// capacity <= min_after_dequeue for the shuffle forms (item 103),
// keep_input of rank > 1, or of rank 1 without enqueue_many (item 108).
//
// Thread-safety: a Batcher is a set of thread-safe handles.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "pipeline/input_collections.h"
#include "pipeline/stage_metrics.h"
#include "queues/queue.h"

namespace sluice {

// One element (or, with enqueue_many, a batch of elements) per call;
// OutOfRange when the input is exhausted. Must honour `w` when it blocks.
using TensorSource = std::function<absl::StatusOr<TensorTuple>(const WaitOptions& w)>;

// The maybe_ forms' keep_input: a bool tensor computed from the element(s)
// a source returned — a scalar (keep the element or not) or, with
// enqueue_many, a vector (one flag per row). `rank` is declared up front,
// as TensorFlow knows it when building the graph.
struct KeepInput {
  int rank = 0;
  std::function<absl::StatusOr<Tensor>(const TensorTuple&)> fn;
};

struct BatchOptions {
  int64_t batch_size = 1;
  int num_threads = 1;  // batch / shuffle_batch only; _join: one per source
  int64_t capacity = 32;
  // Payload bytes the batching queue may hold beside `capacity` elements
  // (QueueOptions::byte_capacity); 0: no byte cap.
  int64_t capacity_bytes = 0;
  bool enqueue_many = false;
  std::vector<DType> dtypes;        // one per component
  std::vector<TensorShape> shapes;  // of one element, one per component
  bool dynamic_pad = false;         // batch / batch_join only
  bool allow_smaller_final_batch = false;
  std::string name;                 // default: "batch", "shuffle_batch", ...
  // Shuffle forms:
  int64_t min_after_dequeue = 0;
  uint64_t seed = 0;  // 0: nondeterministic
  // Time of the enqueue threads: busy = in the source and filtering,
  // output wait = blocked in the queue's enqueue, input wait = what the
  // source marks with ScopedPhase(kInputWait) (e.g. a dequeue from the
  // queue it reads). May be null.
  StageMetrics* metrics = nullptr;
};

class Batcher {
 public:
  // The next batch: DequeueMany(batch_size), or DequeueUpTo(batch_size)
  // with allow_smaller_final_batch. OutOfRange at the end (see above).
  absl::StatusOr<TensorTuple> Dequeue(const WaitOptions& w = {}) const;

  const std::shared_ptr<QueueInterface>& queue() const { return queue_; }
  const std::shared_ptr<QueueRunner>& runner() const { return runner_; }
  const std::string& summary_tag() const { return summary_tag_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  friend absl::StatusOr<Batcher> MakeBatcher(std::vector<TensorSource>, BatchOptions, bool,
                                             std::optional<KeepInput>, InputCollections*);
  std::shared_ptr<QueueInterface> queue_;
  std::shared_ptr<QueueRunner> runner_;
  std::string summary_tag_;
  int64_t batch_size_ = 0;
  bool allow_smaller_ = false;
};

absl::StatusOr<Batcher> Batch(TensorSource source, BatchOptions options,
                              InputCollections* collections);
absl::StatusOr<Batcher> MaybeBatch(TensorSource source, KeepInput keep_input,
                                   BatchOptions options, InputCollections* collections);
absl::StatusOr<Batcher> BatchJoin(std::vector<TensorSource> sources, BatchOptions options,
                                  InputCollections* collections);
absl::StatusOr<Batcher> MaybeBatchJoin(std::vector<TensorSource> sources, KeepInput keep_input,
                                       BatchOptions options, InputCollections* collections);
absl::StatusOr<Batcher> ShuffleBatch(TensorSource source, BatchOptions options,
                                     InputCollections* collections);
absl::StatusOr<Batcher> MaybeShuffleBatch(TensorSource source, KeepInput keep_input,
                                          BatchOptions options, InputCollections* collections);
absl::StatusOr<Batcher> ShuffleBatchJoin(std::vector<TensorSource> sources,
                                         BatchOptions options, InputCollections* collections);
absl::StatusOr<Batcher> MaybeShuffleBatchJoin(std::vector<TensorSource> sources,
                                              KeepInput keep_input, BatchOptions options,
                                              InputCollections* collections);

// The shared builder behind the ten functions above. `shuffle` picks a
// RandomShuffleQueue; one runner step (thread) per source.
absl::StatusOr<Batcher> MakeBatcher(std::vector<TensorSource> sources, BatchOptions options,
                                    bool shuffle, std::optional<KeepInput> keep_input,
                                    InputCollections* collections);

}  // namespace sluice
