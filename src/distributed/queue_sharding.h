#pragma once
// Sharded input for the queue path (string_input_producer -> a reader ->
// shuffle_batch), the counterpart of PlanEpochShard (sharding.h):
//   * with at least `size` files, rank r's producer takes files r, r+n, ...
//     of the list (ProducerOptions::shard_index / num_shards): every file,
//     so every record, is in exactly one rank's share of each epoch;
//   * with fewer files than ranks (tensorflow#42146: a rank would get no
//     file and the job would hang or fail), every rank's producer lists all
//     files with the same seed (so the same order on every rank) and a
//     RecordSharder keeps records r, r+n, ... of the stream the rank reads;
//     the plan says so in `note`, which callers log (never silent).
// Record sharding needs one reader per rank reading the stream in order
// (ReadUpTo from one thread), so that every rank numbers the records
// alike; over E epochs each record is then kept by exactly one rank in
// each epoch (a position in the stream belongs to one rank whatever the
// epoch length). Shares may be uneven; nothing is padded or dropped.
//
// Thread-safety: PlanQueueShard is pure; RecordSharder::Keep is
// thread-safe but must see the records in stream order (one reader).

#include <atomic>
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "pipeline/producers.h"

namespace sluice::distributed {

struct QueueShardPlan {
  bool record_sharding = false;
  int num_shards = 1;
  int index = 0;
  std::string note;  // non-empty when record sharding was chosen
  // Sets the producer's file sharding (none when record sharding).
  void Apply(ProducerOptions* options) const;
};

QueueShardPlan PlanQueueShard(size_t num_files, int rank, int size);

// Keeps rows index, index + num_shards, ... of the stream of rows given to
// Keep() in turn.
class RecordSharder {
 public:
  RecordSharder(int num_shards, int index)
      : num_shards_(num_shards), index_(index) {}
  // This rank's rows of `rows` (dim 0), possibly none.
  Tensor Keep(const Tensor& rows);

 private:
  const int num_shards_, index_;
  std::atomic<int64_t> seen_{0};  // rows before the next call's first
};

}  // namespace sluice::distributed
