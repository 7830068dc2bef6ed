#include "distributed/queue_sharding.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice::distributed {

void QueueShardPlan::Apply(ProducerOptions* options) const {
  options->shard_index = record_sharding ? 0 : index;
  options->num_shards = record_sharding ? 1 : num_shards;
}

QueueShardPlan PlanQueueShard(size_t num_files, int rank, int size) {
  QueueShardPlan p;
  p.num_shards = size;
  p.index = rank;
  if (static_cast<int64_t>(num_files) >= size) return p;
  p.record_sharding = size > 1;
  if (!p.record_sharding) return p;
  p.note = absl::StrCat(
      num_files, " file", num_files == 1 ? "" : "s", " for ", size,
      " ranks: the input queue shards by record (every rank reads every file "
      "and keeps 1 record in ",
      size, ")");
  return p;
}

Tensor RecordSharder::Keep(const Tensor& rows) {
  const int64_t n = rows.dim(0);
  const int64_t first = seen_.fetch_add(n, std::memory_order_relaxed);
  std::vector<int64_t> mine;
  for (int64_t i = 0; i < n; ++i) {
    if ((first + i) % num_shards_ == index_) mine.push_back(i);
  }
  if (static_cast<int64_t>(mine.size()) == n) return rows;
  TensorShape shape = rows.shape();
  shape.set_dim(0, static_cast<int64_t>(mine.size()));
  Tensor out(rows.dtype(), shape);
  for (size_t k = 0; k < mine.size(); ++k) {
    Tensor::CopyRows(rows, mine[k], &out, static_cast<int64_t>(k), 1);
  }
  return out;
}

}  // namespace sluice::distributed
