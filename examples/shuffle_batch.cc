// tf.train.shuffle_batch with a Coordinator: two runner threads feed the
// numbers 0..N-1 into a RandomShuffleQueue, the main thread takes shuffled
// batches until the input ends, and the Coordinator stops and joins the
// threads. Checks that every number arrives exactly once and that the
// batches are shuffled.
//
//   shuffle_batch [--count N] [--batch B]
// Exit status 0 when every check passed.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "coordinator/coordinator.h"
#include "coordinator/queue_runner.h"
#include "pipeline/batching.h"
#include "pipeline/input_collections.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "shuffle_batch: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t count = 5000, batch_size = 32;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: shuffle_batch [--count N] [--batch B]\n"
          "Runs shuffle_batch (capacity 1000, min_after_dequeue 500, two enqueue\n"
          "threads, smaller final batch allowed) over the numbers 0..N-1 under a\n"
          "Coordinator and checks that each number is dequeued exactly once.\n");
      return 0;
    } else if (!std::strcmp(argv[i], "--count") && i + 1 < argc) {
      count = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) {
      batch_size = std::atoll(argv[++i]);
    } else {
      return Fail(std::string("unknown argument ") + argv[i] + " (see --help)");
    }
  }
  if (count < 1 || batch_size < 1) return Fail("--count and --batch must be at least 1");

  // The source is called by both runner threads: one number per call, then
  // OutOfRange, which closes the queue once every thread has seen it.
  std::atomic<int64_t> next{0};
  sluice::TensorSource source =
      [&next, count](const sluice::WaitOptions&) -> absl::StatusOr<sluice::TensorTuple> {
    const int64_t n = next.fetch_add(1);
    if (n >= count) return absl::OutOfRangeError("end of the numbers");
    return sluice::TensorTuple{sluice::Tensor::Scalar<int64_t>(n)};
  };
  sluice::BatchOptions options;
  options.batch_size = batch_size;
  options.num_threads = 2;
  options.capacity = 1000;
  options.min_after_dequeue = 500;
  options.seed = 42;
  options.allow_smaller_final_batch = true;
  options.dtypes = {sluice::DType::kInt64};
  options.shapes = {sluice::TensorShape{}};
  sluice::InputCollections collections;
  auto batcher = sluice::ShuffleBatch(source, options, &collections);
  if (!batcher.ok()) return Fail(batcher.status().ToString());

  sluice::Coordinator coord;
  auto threads = sluice::StartQueueRunners(&collections.runners, &coord);
  if (!threads.ok()) return Fail(threads.status().ToString());

  std::vector<int> seen(count, 0);
  int64_t total = 0, batches = 0, in_place = 0;
  const auto wait = sluice::WaitOptions::Timeout(absl::Seconds(60));
  while (!coord.ShouldStop()) {
    auto batch = batcher->Dequeue(wait);
    if (absl::IsOutOfRange(batch.status())) break;  // closed and drained
    if (!batch.ok()) {
      coord.RequestStop(batch.status()).IgnoreError();
      break;
    }
    for (int64_t v : (*batch)[0].flat<int64_t>()) {
      if (v < 0 || v >= count) return Fail("number out of range: " + std::to_string(v));
      ++seen[v];
      if (v == total) ++in_place;
      ++total;
    }
    ++batches;
  }
  coord.RequestStop().IgnoreError();
  absl::Status joined = coord.Join(absl::Seconds(60));
  if (!joined.ok()) return Fail("Join: " + joined.ToString());
  for (int64_t i = 0; i < count; ++i) {
    if (seen[i] != 1) {
      return Fail("number " + std::to_string(i) + " seen " + std::to_string(seen[i]) + " times");
    }
  }
  if (count >= 1000 && in_place * 10 > count) {
    return Fail(std::to_string(in_place) + " of " + std::to_string(count) +
                " numbers left in their place: not shuffled");
  }
  std::printf("shuffle_batch: %lld numbers in %lld batches, each once, %lld in place: OK\n",
              static_cast<long long>(total), static_cast<long long>(batches),
              static_cast<long long>(in_place));
  return 0;
}
