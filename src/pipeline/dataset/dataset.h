#pragma once
// The Dataset API (spec §5, checklist 109–118): immutable, shareable
// dataset descriptions and the iterators that run them.
//
//   Dataset ds = TFRecordDataset(files, {.num_parallel_reads = 2})
//                    .Shard(n, i).Shuffle(10000, seed).Batch(128)
//                    .Map(parse, 2).Prefetch(2);
//   SLUICE_ASSIGN_OR_RETURN(auto it, ds.MakeIterator());
//   while (true) { auto batch = it->GetNext(); if (IsOutOfRange) break; ... }
//
// Dataset is a value holding either a dataset or the error its
// construction met (an invalid argument anywhere in a chain is reported by
// status() and by MakeIterator()), so chains need no checks in between.
//
// Iterator protocol (IteratorBase): GetNext yields an element, or end of
// sequence, or an error. An error does not end the iteration: the next call
// continues with the next input (what ignore_errors builds on). Iterator
// (the user-facing wrapper) turns end of sequence into OutOfRange "End of
// sequence", sticky until Reinitialize(), which restarts at element 0.
//
// Batch first: GetNextMany(n) returns up to n elements
// stacked on a new dimension 0. Datasets that can produce many at once
// (TFRecordDataset, Shuffle, Batch, Shard over them) override it, so a
// pipeline of serialized records moves 128 records per call, never one
// tensor per record; the default stacks GetNext results.
//
// Determinism: with a non-zero seed and deterministic parallel stages
// (the default), the same configuration gives the same element sequence.
//
// Thread-safety: datasets are immutable and may be shared by threads;
// an iterator is used by one thread at a time (its internal threads are
// its own business).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/status.h"
#include "core/tensor.h"
#include "pipeline/stage_metrics.h"

namespace sluice {

// Work an element still needs after the call that produced it returned
// (IteratorBase::GetNextDeferred): e.g. the copy of the records a Shuffle
// took into its buffer during the call. A caller that serialises its calls
// to an iterator (a parallel Map's input lock) runs it after leaving that
// critical section, so that several threads do such work at once.
// Contract: Run() before the element's data is read; it may run on any
// thread, never fails, and may wait for (or do) work that other calls left
// behind. Whatever was not run runs in the destructor. Move-only; one
// thread at a time.
class DeferredWork {
 public:
  DeferredWork() = default;
  DeferredWork(DeferredWork&&) = default;
  DeferredWork& operator=(DeferredWork&&) = delete;
  ~DeferredWork() { Run(); }
  void Add(std::function<void()> fn) { fns_.push_back(std::move(fn)); }
  // Runs the work in the order added, then forgets it.
  void Run();
  bool empty() const { return fns_.empty(); }

 private:
  std::vector<std::function<void()>> fns_;
};

class IteratorBase {
 public:
  virtual ~IteratorBase() = default;
  // OK with *out set; or OK with *end_of_sequence = true; or an error.
  virtual absl::Status GetNext(TensorTuple* out, bool* end_of_sequence) = 0;
  // Up to n (> 0) elements stacked on a new dim 0 (at least one unless
  // *end_of_sequence). May return fewer than n before the end. An error met
  // after some elements is held back and returned by the next call.
  virtual absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end_of_sequence);
  // GetNext / GetNextMany that may leave part of the element's work to
  // *work (appended; see DeferredWork): the same elements, ends and errors
  // as GetNext / GetNextMany, which run the work before returning. An
  // iterator whose calls do copying (Shuffle) or pass such work on
  // (Batch, Repeat) overrides these; the default defers nothing.
  virtual absl::Status GetNextDeferred(TensorTuple* out, bool* end_of_sequence,
                                       DeferredWork* work) {
    (void)work;
    return GetNext(out, end_of_sequence);
  }
  virtual absl::Status GetNextManyDeferred(int64_t n, TensorTuple* out,
                                           bool* end_of_sequence,
                                           DeferredWork* work) {
    (void)work;
    return GetNextMany(n, out, end_of_sequence);
  }
  // Called by a Prefetch(n) stacked on this iterator before its first
  // GetNext. An iterator that already computes ahead of its consumer on
  // other threads (a parallel Map) may take on n more results of buffer
  // (n == kAutotune: a buffer it tunes) and return true; the Prefetch then
  // hands elements through without a thread (one hand-off fewer per
  // element, same elements and errors in the same order).
  virtual bool AbsorbPrefetch(int64_t n) {
    (void)n;
    return false;
  }

 private:
  absl::Status pending_;  // error held back by the default GetNextMany
};

class DatasetBase {
 public:
  virtual ~DatasetBase() = default;
  virtual absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const = 0;
  virtual std::string DebugName() const = 0;
};

class Dataset;
using MapFn = std::function<absl::StatusOr<TensorTuple>(TensorTuple)>;
using InterleaveFn = std::function<absl::StatusOr<Dataset>(TensorTuple)>;

// The user-facing iterator: sticky OutOfRange "End of sequence".
class Iterator {
 public:
  Iterator(std::shared_ptr<const DatasetBase> dataset, std::unique_ptr<IteratorBase> impl)
      : dataset_(std::move(dataset)), impl_(std::move(impl)) {}
  absl::StatusOr<TensorTuple> GetNext();
  // Up to n elements stacked (see IteratorBase::GetNextMany).
  absl::StatusOr<TensorTuple> GetNextMany(int64_t n);
  // Restarts from element 0 (a fresh iterator over the same dataset).
  absl::Status Reinitialize();

 private:
  std::shared_ptr<const DatasetBase> dataset_;
  std::unique_ptr<IteratorBase> impl_;
  bool ended_ = false;
};

// Shuffle's memory bounds beside the element count.
struct ShuffleOptions {
  uint64_t seed = 0;  // 0: nondeterministic
  bool reshuffle_each_iteration = true;
  // Fill stops at this many payload bytes even when fewer than buffer_size
  // elements are held (0: no byte cap).
  int64_t max_buffer_bytes = 0;
};

// AUTOTUNE (tf.data.AUTOTUNE): a parallelism or buffer size chosen while
// the pipeline runs, from measured stage rates (pipeline/dataset/
// autotune.h has the model). The choices are the stages' StageMetrics
// parameters ("parallelism", "buffer"), shown in the stage report; a
// parallel Map adds what they rest on ("call_cpu_pct": its calls' share of
// time on a CPU, "parallelism_cap", "result_kb", "memory_budget_mb").
inline constexpr int kAutotune = -1;

// A Map's AUTOTUNE memory budget when MapOptions leaves it at 0: the bytes
// its calls in flight and buffered results may hold (measured result size
// x positions). The host allocator's cache of freed large blocks (256 MiB,
// core/allocator.h): results beyond it are page-faulted afresh.
inline constexpr int64_t kDefaultAutotuneMemoryBudget =
    static_cast<int64_t>(kLargeBlockCacheBytes);

struct MapOptions {
  // Unset: sequential. > 0: that many calls at once, on the process's
  // WorkerPool (pipeline threads, one per CPU). kAutotune: starts at the CPU
  // budget and is tuned every 50 ms, with the CPU the calls use (calls x
  // their measured share of time on a CPU) within the CPU budget, at most 4
  // calls per CPU, and within the memory budget below. 0 or below -1:
  // InvalidArgument.
  std::optional<int> num_parallel_calls;
  // AUTOTUNE (of the calls, or of an absorbed Prefetch's buffer): more calls
  // or buffer only while (calls + buffer) x the measured result size stays
  // within this many bytes. 0: kDefaultAutotuneMemoryBudget; below 0:
  // InvalidArgument. Fixed settings are not bounded by it.
  int64_t autotune_memory_budget_bytes = 0;
  bool deterministic = true;
  // V1 map: an OutOfRange from the function ends the dataset; false (V2):
  // it becomes InvalidArgument.
  bool v1_out_of_range_ends = false;
  StageMetrics* metrics = nullptr;  // busy = in the function
};

class Dataset {
 public:
  Dataset(absl::StatusOr<std::shared_ptr<const DatasetBase>> d) : d_(std::move(d)) {}

  // Sources.
  static Dataset Range(int64_t start, int64_t stop, int64_t step = 1);
  static Dataset Range(int64_t stop) { return Range(0, stop, 1); }
  // Rows of each tensor (same dim 0), one element per row.
  static Dataset FromTensorSlices(TensorTuple tensors);
  // One element: the tensors themselves.
  static Dataset FromTensors(TensorTuple tensors);
  // A dataset whose iterators run `make`'s iterator (for adapters).
  static Dataset FromBase(std::shared_ptr<const DatasetBase> base) { return Dataset(std::move(base)); }

  // Transformations (each returns a new dataset; this one is unchanged).
  Dataset Shard(int64_t num_shards, int64_t index) const;
  Dataset Shuffle(int64_t buffer_size, ShuffleOptions options = {}) const;
  Dataset Shuffle(int64_t buffer_size, uint64_t seed) const {
    ShuffleOptions o;
    o.seed = seed;
    return Shuffle(buffer_size, o);
  }
  Dataset Repeat(int64_t count = -1) const;
  Dataset Map(MapFn fn, MapOptions options = {}) const;
  Dataset Map(MapFn fn, int num_parallel_calls) const {
    MapOptions o;
    o.num_parallel_calls = num_parallel_calls;
    return Map(std::move(fn), o);
  }
  // num_parallel_calls unset: sequential; otherwise each open input runs
  // ahead on its own thread (order unchanged: deterministic).
  Dataset Interleave(InterleaveFn fn, int64_t cycle_length, int64_t block_length = 1,
                     std::optional<int> num_parallel_calls = std::nullopt) const;
  Dataset Batch(int64_t batch_size, bool drop_remainder = false) const;
  // buffer_size kAutotune: over a parallel Map, a buffer the Map tunes with
  // its parallelism; otherwise TF 1.15's doubling prefetch autotuner.
  Dataset Prefetch(int64_t buffer_size, StageMetrics* metrics = nullptr) const;

  const absl::Status& status() const {
    static const absl::Status ok;
    return d_.ok() ? ok : d_.status();
  }
  bool ok() const { return d_.ok(); }
  const std::shared_ptr<const DatasetBase>& base() const { return *d_; }
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const;

 private:
  absl::StatusOr<std::shared_ptr<const DatasetBase>> d_;
};

// Helpers for dataset implementations.
namespace internal {
// Stacks single elements (same arity, dtypes, shapes) on a new dim 0.
// InvalidArgument "Cannot batch tensors with different shapes in component
// i" on a mismatch.
absl::StatusOr<TensorTuple> StackElements(const std::vector<TensorTuple>& elements);
// Concatenates stacked batches along dim 0 (string components as views).
absl::StatusOr<TensorTuple> ConcatBatches(const std::vector<TensorTuple>& batches);
// Rows of a stacked batch, each as an element (views).
int64_t BatchRows(const TensorTuple& batch);
TensorTuple RowOf(const TensorTuple& batch, int64_t row);
}  // namespace internal

}  // namespace sluice
