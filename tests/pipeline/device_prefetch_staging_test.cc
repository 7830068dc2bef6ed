// The device path of DevicePrefetcher on a simulated asynchronous device
// (tests/support/simulated_device.h: streams are queues a worker runs, and
// the test can hold the compute stream as a busy GPU would), so the
// stream-ordered staging logic is tested on CPUs: every byte arrives through
// the device interface's copies, and a staging slot is not refilled before
// the compute stream has passed the step that read it.
#include <chrono>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../support/simulated_device.h"
#include "pipeline/prefetch/device_prefetcher.h"

namespace sluice {
namespace {

using testing_sim::SimDevice;
using testing_sim::SimStream;

// Batch i: int64 {i, i + 1} and float {0.5 * i}.
BatchSource Counting(int n) {
  auto next = std::make_shared<std::atomic<int>>(0);
  return [next, n](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    const int i = next->fetch_add(1);
    if (i >= n) return absl::OutOfRangeError("done");
    return TensorTuple{Tensor::FromVector<int64_t>({i, i + 1}, TensorShape{2}),
                       Tensor::FromVector<float>({0.5f * i}, TensorShape{1})};
  };
}

// Polls `cond` for at most 30 s.
template <typename Cond>
bool Eventually(Cond cond) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

TEST(DevicePrefetchStagingTest, EveryBatchArrivesInDeviceMemoryThroughTheStreamCopies) {
  SimDevice dev;
  DevicePrefetchOptions o;
  o.depth = 3;
  o.device = &dev;
  auto p = DevicePrefetcher::Create(Counting(10), o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->on_device());
  int n = 0;
  while (true) {
    auto b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(30)));
    if (absl::IsOutOfRange(b.status())) break;
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(b->on_device);
    ASSERT_NE(b->ready, nullptr);
    ASSERT_EQ(b->tensors[0].buffer()->allocator()->kind(), MemoryKind::kDevice);
    // The consumer's reads wait for the copies on the device.
    ASSERT_TRUE(dev.WaitFor(*b->ready).ok());
    auto ints = dev.CopyToHost(b->tensors[0]);
    auto floats = dev.CopyToHost(b->tensors[1]);
    ASSERT_TRUE(ints.ok() && floats.ok());
    EXPECT_THAT(std::vector<int64_t>(ints->flat<int64_t>().begin(), ints->flat<int64_t>().end()),
                ::testing::ElementsAre(n, n + 1));
    EXPECT_EQ(floats->flat<float>()[0], 0.5f * n);
    ++n;
  }
  EXPECT_EQ(n, 10);
  // Two tensors per batch, each one copy on the prefetcher's own stream.
  ASSERT_NE(dev.last_stream(), nullptr);
  EXPECT_EQ(dev.last_stream()->copies.load(), 20);
}

TEST(DevicePrefetchStagingTest, ASlotIsRefilledOnlyAfterTheComputeStreamPassedTheStepThatReadIt) {
  SimDevice dev;
  DevicePrefetchOptions o;
  o.depth = 2;
  o.device = &dev;
  auto p = DevicePrefetcher::Create(Counting(4), o);
  ASSERT_TRUE(p.ok()) << p.status();
  auto b0 = (*p)->Next(WaitOptions::Timeout(absl::Seconds(30)));
  auto b1 = (*p)->Next(WaitOptions::Timeout(absl::Seconds(30)));
  ASSERT_TRUE(b0.ok() && b1.ok());
  ASSERT_TRUE(b0->ready->Synchronize().ok());
  ASSERT_TRUE(b1->ready->Synchronize().ok());
  const int64_t* slot0 = b0->tensors[0].data<int64_t>();

  // The device is busy: step 0, queued on the compute stream, reads batch
  // 0 in its slot, and the batch is dropped as soon as the step is queued.
  dev.compute().Pause();
  ASSERT_TRUE(dev.WaitFor(*b0->ready).ok());
  std::vector<int64_t> read_by_step0;
  dev.compute().Enqueue([&read_by_step0, slot0] { read_by_step0.assign(slot0, slot0 + 2); });
  b0 = absl::StatusOr<DeviceBatch>(absl::CancelledError("dropped"));

  // Batch 2 goes into slot 0, but its copy waits on the device for step 0.
  SimStream* copies = dev.last_stream();
  ASSERT_TRUE(Eventually([copies] { return copies->blocked_on_event(); }));
  EXPECT_EQ(slot0[0], 0);  // not overwritten under the queued step
  EXPECT_EQ(slot0[1], 1);
  EXPECT_TRUE(read_by_step0.empty());

  dev.compute().Resume();
  auto b2 = (*p)->Next(WaitOptions::Timeout(absl::Seconds(30)));
  ASSERT_TRUE(b2.ok()) << b2.status();
  ASSERT_TRUE(b2->ready->Synchronize().ok());
  EXPECT_THAT(read_by_step0, ::testing::ElementsAre(0, 1));  // step 0 saw its own batch
  EXPECT_EQ(b2->tensors[0].data<int64_t>(), slot0);          // the same slot, refilled
  EXPECT_EQ(slot0[0], 2);
  EXPECT_EQ(b1->tensors[0].data<int64_t>()[0], 1);  // the held batch is untouched
  ASSERT_TRUE(dev.Sync().ok());
}

}  // namespace
}  // namespace sluice
