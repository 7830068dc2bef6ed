// The device prefetch stage alone (DevicePrefetcher, written on the device
// interface of src/device):
//
//   pipeline.device_prefetch.gpu   batches shaped like the trainer's (uint8
//       [256, 784] images from a pinned buffer pool + int64 [256] labels)
//       staged onto GPU:0 through a depth-3 ring; the consumer makes the
//       compute stream wait for each batch (DeviceContext::WaitFor) and drops
//       it, so slots are released stream-ordered, as in the trainer. items/s
//       is images per second. Skipped without a GPU.
//   pipeline.device_prefetch.gpu.host_path  the same batches through the host path
//       (no copy): the baseline, so the ratio is what staging costs the
//       input.
// The batches' bytes are not rewritten per batch: the copy, the slot ring
// and the events are what is timed.

#include <memory>

#include "bench/harness.h"
#include "benchmark/benchmark.h"
#include "device/device_registry.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "pipeline/prefetch/pinned_memory.h"

namespace sluice {
namespace {

constexpr int64_t kRows = 256;
constexpr int64_t kPixels = 784;
constexpr int kBatches = 4000;

BatchSource Batches(std::shared_ptr<BufferPool> pool, int n) {
  auto next = std::make_shared<int>(0);
  Tensor labels(DType::kInt64, TensorShape{kRows});
  for (int64_t r = 0; r < kRows; ++r) labels.data<int64_t>()[r] = r % 10;
  return [pool, n, next, labels](const WaitOptions& w) -> absl::StatusOr<TensorTuple> {
    if ((*next)++ >= n) return absl::OutOfRangeError("done");
    SLUICE_ASSIGN_OR_RETURN(RefPtr buf, pool->Acquire(w));
    return TensorTuple{Tensor::FromBuffer(DType::kUInt8, TensorShape{kRows, kPixels}, buf), labels};
  };
}

void RunPrefetch(benchmark::State& state, bool on_gpu) {
  DeviceContext* device = nullptr;
  if (on_gpu) {
    absl::StatusOr<DeviceContext*> gpu = GpuContext(0);
    if (!gpu.ok()) {
      bench::Skip(state, std::string(gpu.status().message()));
      return;
    }
    device = *gpu;
  }
  auto pool = MakeBatchBufferPool(kRows * kPixels, 8);
  int64_t images = 0;
  for (auto _ : state) {
    DevicePrefetchOptions o;
    o.depth = 3;
    o.device = device;
    absl::StatusOr<std::unique_ptr<DevicePrefetcher>> p =
        DevicePrefetcher::Create(Batches(pool, kBatches), o);
    if (!p.ok()) {
      state.SkipWithError(std::string(p.status().message()).c_str());
      return;
    }
    int got = 0;
    while (true) {
      absl::StatusOr<DeviceBatch> b = (*p)->Next(WaitOptions::Timeout(absl::Seconds(60)));
      if (absl::IsOutOfRange(b.status())) break;
      if (!b.ok()) {
        state.SkipWithError(std::string(b.status().message()).c_str());
        return;
      }
      if (b->ready != nullptr && !device->WaitFor(*b->ready).ok()) {
        state.SkipWithError("WaitFor failed");
        return;
      }
      ++got;
    }
    if (device != nullptr && !device->Sync().ok()) {
      state.SkipWithError("device sync failed");
      return;
    }
    if (got != kBatches) {
      state.SkipWithError("the prefetcher lost batches");
      return;
    }
    images += static_cast<int64_t>(got) * kRows;
  }
  state.SetItemsProcessed(images);
}

void BM_DevicePrefetchGpu(benchmark::State& state) { RunPrefetch(state, true); }
void BM_DevicePrefetchHost(benchmark::State& state) { RunPrefetch(state, false); }

BENCHMARK(BM_DevicePrefetchGpu)->Name("pipeline.device_prefetch.gpu")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DevicePrefetchHost)->Name("pipeline.device_prefetch.gpu.host_path")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice

SLUICE_BENCH_BASELINE("pipeline.device_prefetch.gpu", "pipeline.device_prefetch.gpu.host_path");
