#pragma once
// Sharded input for data-parallel training: rank r of n's share of epoch e,
// derived from (r, n, e, seed) alone, so no rank needs to tell another and
// no one calls set_epoch:
//   * the file list is permuted by (seed, e), identically on every rank;
//   * with at least n files, rank r reads files perm[r], perm[r+n], ...
//     (file sharding: which files a rank reads changes every epoch);
//   * with fewer files than ranks, every rank reads all files in the
//     permuted order and keeps records r, r+n, r+2n, ... (record sharding;
//     the plan says so in `note`, which callers log once; `holder` names
//     who holds a share there: "rank", or "worker" where only some ranks
//     read input, as in parameter-server mode);
//   * every record is in exactly one rank's share per epoch; shares may be
//     uneven (nothing is padded or dropped): the training step's
//     agreement (GradientAllreducer) ends the epoch when all ranks are out.
// Within its share a rank shuffles with ShuffleSeed(seed, e, r).
//
// Thread-safe (pure functions).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/dataset/dataset.h"
#include "pipeline/dataset/tfrecord_dataset.h"

namespace sluice::distributed {

struct ShardPlan {
  std::vector<std::string> files;  // what this rank reads, in order
  bool record_sharding = false;    // keep every num_shards-th record
  int64_t num_shards = 1;
  int64_t index = 0;
  std::string note;  // non-empty when record sharding was chosen
};

ShardPlan PlanEpochShard(const std::vector<std::string>& files, int rank, int size, int64_t epoch,
                         uint64_t seed, std::string_view holder = "rank");

// The rank's shuffle seed in epoch e (never 0: 0 means "nondeterministic").
uint64_t ShuffleSeed(uint64_t seed, int64_t epoch, int rank);

// The plan's records: TFRecordDataset(plan.files, options), then
// .Shard(num_shards, index) when record sharding.
Dataset ShardedRecords(const ShardPlan& plan, const TFRecordDatasetOptions& options);

}  // namespace sluice::distributed
