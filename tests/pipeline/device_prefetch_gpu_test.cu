// DevicePrefetcher on a real device (label gpu; skipped without one):
// every byte of every batch arrives in device memory, the copies run
// while a kernel keeps the device busy (they overlap compute), and with a
// slot is overwritten under the work the consumer queued on the device's
// compute stream. The prefetcher is driven through the device interface;
// the test itself uses CUDA to keep the device busy and to look.
#include <cuda_runtime.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "device/cuda/gpu_device_context.h"
#include "device/device_registry.h"
#include "gtest/gtest.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "pipeline/prefetch/pinned_memory.h"

namespace sluice {
namespace {

constexpr int64_t kRows = 128;
constexpr int64_t kCols = 784;

__global__ void Spin(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

#define ASSERT_CUDA(x) ASSERT_EQ((x), cudaSuccess) << #x

// Batch b: pixels (b * 131 + i) & 0xff, labels b * 1000 + row.
BatchSource PatternSource(std::shared_ptr<BufferPool> pool, int batches) {
  auto next = std::make_shared<int>(0);
  return [pool, batches, next](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
    const int b = (*next)++;
    if (b >= batches) return absl::OutOfRangeError("done");
    SLUICE_ASSIGN_OR_RETURN(RefPtr buf, pool->Acquire(w));
    Tensor pixels = Tensor::FromBuffer(DType::kUInt8, TensorShape{kRows, kCols}, buf);
    uint8_t* p = pixels.data<uint8_t>();
    for (int64_t i = 0; i < kRows * kCols; ++i) p[i] = static_cast<uint8_t>((b * 131 + i) & 0xff);
    Tensor labels(DType::kInt64, TensorShape{kRows});
    for (int64_t r = 0; r < kRows; ++r) labels.data<int64_t>()[r] = b * 1000 + r;
    return TensorTuple{pixels, labels};
  };
}

class DevicePrefetchGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
    gpu_ = static_cast<cuda::GpuDeviceContext*>(*GpuContext(0));
  }
  cuda::GpuDeviceContext* gpu_ = nullptr;
};

TEST_F(DevicePrefetchGpuTest, EveryByteArrivesOnTheDevice) {
  auto pool = MakeBatchBufferPool(kRows * kCols, 4);
  EXPECT_EQ(PinnedBatchAllocator()->kind(), MemoryKind::kPinnedHost);
  DevicePrefetchOptions o;
  o.depth = 3;
  o.device = gpu_;
  auto p = DevicePrefetcher::Create(PatternSource(pool, 20), o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->on_device());
  cudaStream_t s;
  ASSERT_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::vector<uint8_t> pixels(kRows * kCols);
  std::vector<int64_t> labels(kRows);
  int batches = 0;
  while (true) {
    auto b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(60)));
    if (absl::IsOutOfRange(b.status())) break;
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(b->on_device);
    ASSERT_NE(b->ready, nullptr);
    ASSERT_CUDA(cudaStreamWaitEvent(s, static_cast<const cuda::CudaEvent*>(b->ready)->event(), 0));
    ASSERT_CUDA(cudaMemcpyAsync(pixels.data(), b->tensors[0].raw_data(), pixels.size(),
                                cudaMemcpyDeviceToHost, s));
    ASSERT_CUDA(cudaMemcpyAsync(labels.data(), b->tensors[1].raw_data(), kRows * 8,
                                cudaMemcpyDeviceToHost, s));
    ASSERT_CUDA(cudaStreamSynchronize(s));
    for (int64_t i = 0; i < kRows * kCols; ++i) {
      ASSERT_EQ(pixels[i], static_cast<uint8_t>((batches * 131 + i) & 0xff))
          << "batch " << batches << " byte " << i;
    }
    for (int64_t r = 0; r < kRows; ++r) ASSERT_EQ(labels[r], batches * 1000 + r);
    ++batches;
  }
  EXPECT_EQ(batches, 20);
  ASSERT_CUDA(cudaStreamDestroy(s));
}

TEST_F(DevicePrefetchGpuTest, CopiesCompleteWhileAKernelKeepsTheDeviceBusy) {
  int khz = 0;
  ASSERT_CUDA(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0));
  cudaStream_t compute;
  ASSERT_CUDA(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking));
  cudaEvent_t kernel_done;
  ASSERT_CUDA(cudaEventCreate(&kernel_done));
  // ~1.5 s of spinning on one SM.
  Spin<<<1, 1, 0, compute>>>(static_cast<long long>(khz) * 1500);
  ASSERT_CUDA(cudaGetLastError());
  ASSERT_CUDA(cudaEventRecord(kernel_done, compute));

  auto pool = MakeBatchBufferPool(kRows * kCols, 4);
  DevicePrefetchOptions o;
  o.depth = 3;
  o.device = gpu_;
  auto p = DevicePrefetcher::Create(PatternSource(pool, 3), o);
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<DeviceBatch> held;
  for (int i = 0; i < 3; ++i) {
    auto b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(60)));
    ASSERT_TRUE(b.ok()) << b.status();
    held.push_back(*std::move(b));
  }
  // Wait (bounded) for all three copies to finish.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool all_ready = false;
  while (!all_ready && std::chrono::steady_clock::now() < give_up) {
    all_ready = true;
    for (const DeviceBatch& b : held) {
      cudaError_t q = cudaEventQuery(static_cast<const cuda::CudaEvent*>(b.ready)->event());
      ASSERT_TRUE(q == cudaSuccess || q == cudaErrorNotReady) << cudaGetErrorString(q);
      all_ready = all_ready && q == cudaSuccess;
    }
    if (!all_ready) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(all_ready);
  // The kernel is still running: the copies overlapped it.
  EXPECT_EQ(cudaEventQuery(kernel_done), cudaErrorNotReady);
  ASSERT_CUDA(cudaEventSynchronize(kernel_done));
  held.clear();
  p->reset();
  ASSERT_CUDA(cudaEventDestroy(kernel_done));
  ASSERT_CUDA(cudaStreamDestroy(compute));
}

// A consumer that queues slow work on a batch on the device's compute
// stream and drops it at once: a slot is refilled only after that work, so every
// batch the consumer copies out is intact; and Next()'s waits while the
// prefetch thread waited for the consumer are reported as such.
TEST_F(DevicePrefetchGpuTest, SlotsAreRefilledOnlyAfterTheConsumerStreamIsDone) {
  int khz = 0;
  ASSERT_CUDA(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0));
  constexpr int kBatches = 12;
  cudaStream_t consumer = gpu_->cuda_stream();
  uint8_t* out = nullptr;  // pinned, so the copies out stay asynchronous
  ASSERT_CUDA(cudaMallocHost(&out, kBatches * kRows * kCols));
  auto pool = MakeBatchBufferPool(kRows * kCols, 6);
  DevicePrefetchOptions o;
  o.depth = 2;
  o.device = gpu_;
  auto p = DevicePrefetcher::Create(PatternSource(pool, kBatches), o);
  ASSERT_TRUE(p.ok()) << p.status();
  for (int b = 0; b < kBatches; ++b) {
    auto batch = (*p)->Next(WaitOptions::Timeout(absl::Seconds(60)));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_TRUE(gpu_->WaitFor(*batch->ready).ok());
    Spin<<<1, 1, 0, consumer>>>(static_cast<long long>(khz) * 20);  // ~20 ms
    ASSERT_CUDA(cudaGetLastError());
    ASSERT_CUDA(cudaMemcpyAsync(out + b * kRows * kCols, batch->tensors[0].raw_data(), kRows * kCols,
                                cudaMemcpyDeviceToHost, consumer));
    // The batch is dropped here, long before the copy above runs.
  }
  ASSERT_CUDA(cudaStreamSynchronize(consumer));
  for (int b = 0; b < kBatches; ++b) {
    for (int64_t i = 0; i < kRows * kCols; ++i) {
      ASSERT_EQ(out[b * kRows * kCols + i], static_cast<uint8_t>((b * 131 + i) & 0xff))
          << "batch " << b << " byte " << i;
    }
  }
  EXPECT_GT((*p)->consumer_bound_wait_ns(), 0);
  p->reset();
  ASSERT_CUDA(cudaFreeHost(out));
}

// The pipeline prefetches to a chosen device: staged on GPU N, the batch's
// memory belongs to device N and holds the host batch's bytes.
TEST_F(DevicePrefetchGpuTest, PrefetchesToAChosenDevice) {
  const int n = GpuDeviceCount() - 1;  // the last GPU (GPU:0 on one-GPU machines)
  auto target = GpuContext(n);
  ASSERT_TRUE(target.ok()) << target.status();
  auto pool = MakeBatchBufferPool(kRows * kCols, 2);
  DevicePrefetchOptions o;
  o.device = *target;
  auto p = DevicePrefetcher::Create(PatternSource(pool, 2), o);
  ASSERT_TRUE(p.ok()) << p.status();
  auto b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(60)));
  ASSERT_TRUE(b.ok()) << b.status();
  cudaPointerAttributes attr;
  ASSERT_CUDA(cudaPointerGetAttributes(&attr, b->tensors[0].raw_data()));
  EXPECT_EQ(attr.device, n);
  ASSERT_TRUE((*target)->WaitFor(*b->ready).ok());
  auto host = (*target)->CopyToHost(b->tensors[0]);
  ASSERT_TRUE(host.ok()) << host.status();
  for (int64_t i = 0; i < kRows * kCols; ++i) {
    ASSERT_EQ(host->data<uint8_t>()[i], static_cast<uint8_t>(i & 0xff)) << "byte " << i;
  }
  b = absl::StatusOr<DeviceBatch>(absl::CancelledError("dropped"));
  p->reset();
}

}  // namespace
}  // namespace sluice
