// Epoch shards from (rank, size, epoch, seed): every file (or record) in
// exactly one rank's share per epoch, shares change every epoch, fewer
// files than ranks switch to record sharding and say so.
#include "distributed/sharding.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::distributed {
namespace {

std::vector<std::string> Files(int n) {
  std::vector<std::string> f;
  for (int i = 0; i < n; ++i) f.push_back(absl::StrCat("f", i));
  return f;
}

TEST(PlanEpochShardTest, EveryFileInExactlyOneShareEveryEpoch) {
  for (int nfiles : {1, 2, 3, 5, 8, 13}) {
    for (int size : {1, 2, 3, 4, 7}) {
      if (nfiles < size) continue;
      for (int epoch = 0; epoch < 4; ++epoch) {
        std::map<std::string, int> seen;
        for (int r = 0; r < size; ++r) {
          ShardPlan p = PlanEpochShard(Files(nfiles), r, size, epoch, 42);
          EXPECT_FALSE(p.record_sharding);
          EXPECT_TRUE(p.note.empty());
          for (const auto& f : p.files) ++seen[f];
        }
        ASSERT_EQ(seen.size(), static_cast<size_t>(nfiles)) << nfiles << " " << size;
        for (const auto& [f, n] : seen) EXPECT_EQ(n, 1) << f;
      }
    }
  }
}

TEST(PlanEpochShardTest, SharesChangeFromEpochToEpochAndFollowTheSeed) {
  std::set<std::vector<std::string>> shares;
  for (int epoch = 0; epoch < 6; ++epoch) shares.insert(PlanEpochShard(Files(8), 0, 2, epoch, 7).files);
  EXPECT_GT(shares.size(), 3u);
  EXPECT_EQ(PlanEpochShard(Files(8), 1, 2, 3, 7).files, PlanEpochShard(Files(8), 1, 2, 3, 7).files);
  EXPECT_NE(PlanEpochShard(Files(8), 1, 2, 3, 7).files, PlanEpochShard(Files(8), 1, 2, 3, 8).files);
  EXPECT_NE(ShuffleSeed(7, 0, 0), ShuffleSeed(7, 1, 0));
  EXPECT_NE(ShuffleSeed(7, 0, 0), ShuffleSeed(7, 0, 1));
}

TEST(PlanEpochShardTest, FewerFilesThanRanksShardsByRecordAndSaysSo) {
  ShardPlan p = PlanEpochShard(Files(2), 3, 4, 0, 1);
  EXPECT_TRUE(p.record_sharding);
  EXPECT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.num_shards, 4);
  EXPECT_EQ(p.index, 3);
  EXPECT_THAT(p.note, ::testing::HasSubstr("2 files for 4 ranks: sharding by record"));
  // Parameter-server mode names the shares' holders workers.
  EXPECT_THAT(PlanEpochShard(Files(1), 0, 2, 0, 1, "worker").note,
              ::testing::StartsWith("1 file for 2 workers: sharding by record (every worker "));
  // Every rank reads the files in the same order (the record stride needs it).
  EXPECT_EQ(PlanEpochShard(Files(2), 0, 4, 5, 1).files, PlanEpochShard(Files(2), 2, 4, 5, 1).files);
}

}  // namespace
}  // namespace sluice::distributed
