#include "distributed/sharding.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace sluice::distributed {
namespace {

// SplitMix64: a fixed, portable mixer, so every rank (and every build)
// derives the same permutation from the same numbers.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t ShuffleSeed(uint64_t seed, int64_t epoch, int rank) {
  const uint64_t s = Mix(Mix(Mix(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(rank));
  return s == 0 ? 1 : s;
}

ShardPlan PlanEpochShard(const std::vector<std::string>& files, int rank, int size, int64_t epoch,
                         uint64_t seed, std::string_view holder) {
  std::vector<size_t> perm(files.size());
  std::iota(perm.begin(), perm.end(), 0);
  // Fisher-Yates with the mixer (std::shuffle's use of the engine is
  // implementation-defined).
  uint64_t state = Mix(seed ^ Mix(static_cast<uint64_t>(epoch) + 0x5851f42d4c957f2dull));
  for (size_t i = perm.size(); i > 1; --i) {
    state = Mix(state);
    std::swap(perm[i - 1], perm[state % i]);
  }
  ShardPlan p;
  p.num_shards = size;
  p.index = rank;
  if (static_cast<int64_t>(files.size()) >= size) {
    for (size_t i = rank; i < perm.size(); i += size) p.files.push_back(files[perm[i]]);
    return p;
  }
  p.record_sharding = size > 1;
  for (size_t i : perm) p.files.push_back(files[i]);
  if (p.record_sharding) {
    const std::string who(holder);  // this absl's StrCat takes no std::string_view
    p.note = absl::StrCat(files.size(), " file", files.size() == 1 ? "" : "s", " for ", size, " ",
                          who, "s: sharding by record (every ", who,
                          " reads every file and keeps 1 record in ", size, ")");
  }
  return p;
}

Dataset ShardedRecords(const ShardPlan& plan, const TFRecordDatasetOptions& options) {
  Dataset ds = TFRecordDataset(plan.files, options);
  if (plan.record_sharding) ds = ds.Shard(plan.num_shards, plan.index);
  return ds;
}

}  // namespace sluice::distributed
