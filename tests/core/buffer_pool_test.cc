#include "core/buffer_pool.h"

#include <atomic>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(BufferPoolTest, ReturnedBuffersAreReused) {
  auto pool = BufferPool::Create(HostAllocator(), 4096, 2);
  void* first;
  {
    auto b = pool->Acquire();
    ASSERT_TRUE(b.ok());
    first = (*b)->data();
    EXPECT_EQ((*b)->size(), 4096u);
  }
  EXPECT_EQ(pool->free_count(), 1u);
  auto again = pool->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->data(), first);
  EXPECT_EQ(pool->allocated(), 1u);
}

TEST(BufferPoolTest, NeverExceedsMaxAndAcquireWaitsWithDeadline) {
  auto pool = BufferPool::Create(HostAllocator(), 64, 2);
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(pool->TryAcquire());
  auto c = pool->Acquire(WaitOptions::Timeout(absl::Milliseconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(c.status())) << c.status();
  EXPECT_EQ(pool->allocated(), 2u);
}

TEST(BufferPoolTest, BlockedAcquireWakesWhenAnotherThreadReleases) {
  auto pool = BufferPool::Create(HostAllocator(), 64, 1);
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  auto waiter = std::async(std::launch::async,
                           [&] { return pool->Acquire(WaitOptions::Timeout(absl::Seconds(10))); });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  *held = RefPtr();  // release
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waiter.get().ok());
}

TEST(BufferPoolTest, StopTokenCancelsABlockedAcquire) {
  auto pool = BufferPool::Create(HostAllocator(), 64, 1);
  auto held = pool->Acquire();
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] {
    return pool->Acquire(WaitOptions::Timeout(absl::Seconds(10), stop.get_token()));
  });
  stop.request_stop();
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(absl::IsCancelled(waiter.get().status()));
}

TEST(BufferPoolTest, BuffersMayOutliveThePool) {
  RefPtr survivor;
  {
    auto pool = BufferPool::Create(HostAllocator(), 128, 4);
    survivor = *pool->Acquire();
    static_cast<char*>(survivor->data())[0] = 'x';
  }
  EXPECT_EQ(static_cast<char*>(survivor->data())[0], 'x');
  survivor = RefPtr();  // freed by its last reference (ASan checks)
}

TEST(BufferPoolTest, ConcurrentAcquireReleaseKeepsEveryBufferAccountedFor) {
  auto pool = BufferPool::Create(HostAllocator(), 256, 8);
  std::atomic<int> acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto b = pool->Acquire(WaitOptions::Timeout(absl::Seconds(10)));
        ASSERT_TRUE(b.ok()) << b.status();
        static_cast<char*>((*b)->data())[0] = static_cast<char>(i);
        acquired.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(acquired.load(), 8000);
  EXPECT_LE(pool->allocated(), 8u);
  EXPECT_EQ(pool->free_count(), pool->allocated());
}

}  // namespace
}  // namespace sluice
