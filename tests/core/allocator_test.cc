// HostAllocator: alignment, and the reuse of freed large blocks.
#include "core/allocator.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(HostAllocatorTest, AlignsAndServesZeroBytes) {
  Allocator* a = HostAllocator();
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{3} << 20}) {
    void* p = a->Allocate(bytes, kTensorAlignment);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kTensorAlignment, 0u);
    std::memset(p, 0xab, bytes);
    a->Deallocate(p, bytes);
  }
}

#if !defined(SLUICE_SANITIZER_BUILD)
TEST(HostAllocatorTest, AFreedLargeBlockServesTheNextRequestOfItsSizeClass) {
  Allocator* a = HostAllocator();
  const size_t bytes = size_t{38535168};  // 64 x 224 x 224 x 3 floats
  void* p = a->Allocate(bytes, kTensorAlignment);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const size_t before = HostAllocatorCachedBytes();
  a->Deallocate(p, bytes);
  EXPECT_GE(HostAllocatorCachedBytes(), before + bytes);
  void* q = a->Allocate(bytes - 100, kTensorAlignment);  // same 64 KiB class
  EXPECT_EQ(q, p);
  EXPECT_EQ(HostAllocatorCachedBytes(), before);
  a->Deallocate(q, bytes - 100);
}

TEST(HostAllocatorTest, BlocksBelowTheFloorGoBackToMalloc) {
  Allocator* a = HostAllocator();
  const size_t bytes = size_t{12} << 20;  // below kLargeBlockBytes
  static_assert(size_t{12} << 20 < kLargeBlockBytes);
  void* p = a->Allocate(bytes, kTensorAlignment);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const size_t before = HostAllocatorCachedBytes();
  a->Deallocate(p, bytes);
  EXPECT_EQ(HostAllocatorCachedBytes(), before);
}

TEST(HostAllocatorTest, TheCacheStaysWithinItsBound) {
  Allocator* a = HostAllocator();
  std::vector<void*> blocks;
  const size_t bytes = size_t{40} << 20;
  for (int i = 0; i < 10; ++i)
    blocks.push_back(a->Allocate(bytes, kTensorAlignment));
  for (void* p : blocks) a->Deallocate(p, bytes);  // 400 MiB freed
  EXPECT_LE(HostAllocatorCachedBytes(), kLargeBlockCacheBytes);
  EXPECT_GT(HostAllocatorCachedBytes(), 0u);
}
#endif

}  // namespace
}  // namespace sluice
