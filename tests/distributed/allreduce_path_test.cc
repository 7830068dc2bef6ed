// The device-independent half of the NCCL path: which path a run takes,
// which GPU a rank takes, how the gradient arena is laid out and cut into
// buckets, and what a build without NCCL (or a context that is not a CUDA
// GPU) answers. No MPI, no GPU.
#include "distributed/allreduce_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "device/device_communicator.h"

namespace sluice::distributed {
namespace {

using ::testing::HasSubstr;

TEST(AllreducePathTest, AutoTakesNcclOnlyForGpuGradientsInABuildWithNccl) {
  EXPECT_EQ(*ChooseAllreducePath("auto", /*gpu=*/true, /*nccl_built=*/true),
            AllreducePath::kNccl);
  EXPECT_EQ(*ChooseAllreducePath("auto", true, false), AllreducePath::kMpi);
  EXPECT_EQ(*ChooseAllreducePath("auto", false, true), AllreducePath::kMpi);
  EXPECT_EQ(*ChooseAllreducePath("mpi", true, true), AllreducePath::kMpi);
  EXPECT_EQ(*ChooseAllreducePath("nccl", true, true), AllreducePath::kNccl);
  EXPECT_EQ(AllreducePathName(AllreducePath::kNccl), "nccl");
  EXPECT_EQ(AllreducePathName(AllreducePath::kMpi), "mpi");
}

TEST(AllreducePathTest, NcclThatCannotBeSaysWhy) {
  absl::StatusOr<AllreducePath> cpu = ChooseAllreducePath("nccl", false, true);
  EXPECT_EQ(cpu.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cpu.status().message(), HasSubstr("--device gpu"));
  absl::StatusOr<AllreducePath> unbuilt =
      ChooseAllreducePath("nccl", true, false);
  EXPECT_EQ(unbuilt.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unbuilt.status().message(), HasSubstr("no NCCL here"));
  absl::StatusOr<AllreducePath> typo = ChooseAllreducePath("ncl", true, true);
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(typo.status().message(), HasSubstr("'ncl'"));
}

TEST(AllreducePathTest, EachLocalRankTakesItsOwnGpu) {
  // 2 hosts x 4 ranks, 4 GPUs each: rank 5 is local rank 1.
  EXPECT_EQ(*GpuForRank(-1, 5, 1, 4, 4), 1);
  EXPECT_EQ(*GpuForRank(-1, 0, 0, 1, 1), 0);
  // --device gpu:N wins (one rank per host, say, on a chosen GPU).
  EXPECT_EQ(*GpuForRank(2, 0, 0, 1, 4), 2);
}

TEST(AllreducePathTest, FewerGpusThanLocalRanksNamesTheRank) {
  absl::StatusOr<int> g = GpuForRank(-1, 6, 2, 3, 2);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(g.status().message(), HasSubstr("rank 6 is local rank 2 of 3"));
  EXPECT_THAT(g.status().message(), HasSubstr("2 GPUs"));
  absl::StatusOr<int> e = GpuForRank(3, 1, 1, 2, 2);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), HasSubstr("rank 1: --device gpu:3"));
}

TEST(AllreducePathTest, BucketsCoverTheArenaInOrder) {
  // 8 MiB buckets over 5 M floats (20 MB): 2 full + the rest.
  const std::vector<Bucket> b = PlanBuckets(5'000'000, 8 << 20);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0], (Bucket{0, 2097152}));
  EXPECT_EQ(b[1], (Bucket{2097152, 2097152}));
  EXPECT_EQ(b[2], (Bucket{4194304, 5'000'000 - 4194304}));
  EXPECT_TRUE(PlanBuckets(0, 8 << 20).empty());
  // At least one 64-byte line per bucket, whatever is asked.
  const std::vector<Bucket> tiny = PlanBuckets(40, 4);
  ASSERT_EQ(tiny.size(), 3u);
  EXPECT_EQ(tiny[2], (Bucket{32, 8}));
}

TEST(AllreducePathTest, SlotsStartOnCacheLines) {
  absl::StatusOr<SlotLayout> l = LayOutSlots({{3, 5}, {7}, {1}, {33}}, 16);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->offsets, (std::vector<int64_t>{16, 32, 48, 64}));
  EXPECT_EQ(l->floats, 112);
  EXPECT_EQ(LayOutSlots({TensorShape({-1, 3})}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LayOutSlots({{2}}, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DeviceCommunicatorTest, NeedsNcclAndACudaGpu) {
  // The CPU is never a communicator's device; without NCCL (not built, or
  // libnccl.so.2 not loadable) nothing is, and the reason is given.
  absl::StatusOr<std::unique_ptr<DeviceCommunicator>> c = NewDeviceCommunicator(
      CpuDeviceContext::Get(), std::string(kCommunicatorIdBytes, '\0'), 0, 1,
      absl::Seconds(1));
  if (CommunicatorsAvailable()) {
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument)
        << c.status();
    EXPECT_THAT(c.status().message(), HasSubstr("not a CUDA GPU"));
    EXPECT_EQ(CommunicatorsUnavailableReason(), "");
  } else {
    EXPECT_THAT(CommunicatorsUnavailableReason(),
                ::testing::AnyOf(HasSubstr("this build has no NCCL"),
                                 HasSubstr("libnccl.so.2")));
    for (const absl::Status& st : {c.status(), NewCommunicatorId().status()}) {
      EXPECT_TRUE(st.code() == absl::StatusCode::kUnimplemented ||
                  st.code() == absl::StatusCode::kFailedPrecondition)
          << st;
    }
  }
}

}  // namespace
}  // namespace sluice::distributed
