// The host path of DevicePrefetcher (runs everywhere) and the pinned pool.
#include "pipeline/prefetch/device_prefetcher.h"

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "device/device_registry.h"
#include "pipeline/prefetch/pinned_memory.h"

namespace sluice {
namespace {

BatchSource Counting(int n, int fail_at = -1) {
  auto next = std::make_shared<std::atomic<int>>(0);
  return [next, n, fail_at](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    const int i = next->fetch_add(1);
    if (i == fail_at) return absl::DataLossError("bad batch");
    if (i >= n) return absl::OutOfRangeError("done");
    return TensorTuple{Tensor::FromVector<int64_t>({i, i + 1}, TensorShape{2})};
  };
}

TEST(DevicePrefetcherTest, HostPathDeliversInOrderWithErrorsThenStickyEnd) {
  DevicePrefetchOptions o;
  o.depth = 2;
  auto p = DevicePrefetcher::Create(Counting(5, 2), o);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->on_device());
  std::vector<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    auto b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(30)));
    if (absl::IsOutOfRange(b.status())) {
      seen.push_back("end");
      continue;
    }
    if (!b.ok()) {
      seen.push_back("E");
      continue;
    }
    EXPECT_EQ(b->ready, nullptr);
    seen.push_back(std::to_string(b->tensors[0].flat<int64_t>()[0]));
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("0", "1", "E", "3", "4", "end", "end", "end"));
}

TEST(DevicePrefetcherTest, InvalidOptions) {
  EXPECT_TRUE(absl::IsInvalidArgument(DevicePrefetcher::Create(nullptr, {}).status()));
  DevicePrefetchOptions o;
  o.depth = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(DevicePrefetcher::Create(Counting(1), o).status()));
}

TEST(DevicePrefetcherTest, NextHonoursDeadlineAndStopAndDestructionIsPrompt) {
  std::atomic<bool> release{false};
  BatchSource slow = [&release](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
    while (!release.load() && !w.stop.stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return absl::CancelledError("stopped");
  };
  DevicePrefetchOptions o;
  auto p = DevicePrefetcher::Create(slow, o);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      (*p)->Next(WaitOptions::Timeout(absl::Milliseconds(20))).status()));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_TRUE(absl::IsCancelled((*p)->Next(WaitOptions::StopOn(stop.get_token())).status()));
  p->reset();  // returns: the source honours the stop token
}

TEST(PinnedMemoryTest, PoolReusesBuffers) {
  auto pool = MakeBatchBufferPool(1 << 16, 2);
  void* first;
  {
    auto a = pool->Acquire(WaitOptions::Timeout(absl::Seconds(5)));
    ASSERT_TRUE(a.ok());
    first = (*a)->data();
  }
  auto b = pool->Acquire(WaitOptions::Timeout(absl::Seconds(5)));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->data(), first);
  EXPECT_EQ(pool->allocated(), 1u);
  EXPECT_EQ(PinnedBatchAllocator()->kind(),
            GpuDeviceCount() > 0 ? MemoryKind::kPinnedHost : MemoryKind::kHost);
}

}  // namespace
}  // namespace sluice
