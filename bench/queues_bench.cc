// Queue throughput: sluice's FIFOQueue and RandomShuffleQueue beside the
// designs a user would otherwise reach for, moving the same elements
// (TensorTuples of scalar int64, or of one 784-byte string) with P producer
// and C consumer threads. Elements are built before the clock starts; the
// clock covers the transfer only. Every run checks that the sum of what was
// consumed equals the sum produced.

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "bench/harness.h"
#include "blockingconcurrentqueue.h"
#include "core/tensor.h"
#include "queues/fifo_queue.h"
#include "queues/random_shuffle_queue.h"
#include "tbb/concurrent_queue.h"

namespace sluice {
namespace {

constexpr int64_t kBatch = 128;
constexpr int64_t kStrBytes = 784;

// ---------------------------------------------------------------- elements

int64_t ValueOf(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::kInt64) return t.data<int64_t>()[i];
  int64_t v;
  std::memcpy(&v, t.data<std::string_view>()[i].data(), sizeof v);
  return v;
}

std::string StrPayload(int64_t v) {
  std::string s(kStrBytes, 'x');
  std::memcpy(s.data(), &v, sizeof v);
  return s;
}

TensorTuple MakeElement(int64_t v, bool str) {
  if (!str) return {Tensor::Scalar<int64_t>(v)};
  return {Tensor::StringScalar(StrPayload(v))};
}

TensorTuple MakeBatch(int64_t first, bool str) {
  if (!str) {
    Tensor t(DType::kInt64, TensorShape{kBatch});
    for (int64_t i = 0; i < kBatch; ++i) t.data<int64_t>()[i] = first + i;
    return {t};
  }
  Tensor t(DType::kString, TensorShape{kBatch});
  for (int64_t i = 0; i < kBatch; ++i) t.SetString(i, StrPayload(first + i));
  return {t};
}

QueueOptions Options(bool str, int64_t capacity) {
  QueueOptions o;
  o.name = "bench";
  o.dtypes = {str ? DType::kString : DType::kInt64};
  o.shapes = {TensorShape{}};
  o.capacity = capacity;
  return o;
}

// ------------------------------------------------------------------ driver

// Runs P producers over `work[p]` and C consumers; `produce(p, item)` and
// `consume(c)` (returns false at end of stream, adds to *sum and *count)
// are the queue-specific parts. `finish()` runs after the last producer.
template <typename Item, typename Produce, typename Consume, typename Finish>
void Transfer(benchmark::State& state, int P, int C, std::vector<std::vector<Item>>& work,
              int64_t elements, int64_t expected_sum, Produce produce, Consume consume,
              Finish finish) {
  std::latch start(P + C + 1);
  std::atomic<int> producers_left{P};
  std::vector<int64_t> sums(C, 0), counts(C, 0);
  std::vector<std::thread> threads;
  for (int p = 0; p < P; ++p) {
    threads.emplace_back([&, p] {
      start.arrive_and_wait();
      for (Item& item : work[p]) produce(std::move(item));
      if (producers_left.fetch_sub(1) == 1) finish();
    });
  }
  for (int c = 0; c < C; ++c) {
    threads.emplace_back([&, c] {
      start.arrive_and_wait();
      while (consume(&sums[c], &counts[c])) {
      }
    });
  }
  start.arrive_and_wait();
  const absl::Time t0 = absl::Now();
  for (auto& t : threads) t.join();
  state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - t0));
  int64_t sum = 0, count = 0;
  for (int c = 0; c < C; ++c) sum += sums[c], count += counts[c];
  if (sum != expected_sum || count != elements) {
    state.SkipWithError("consumed elements do not match produced ones");
  }
}

// Splits [0, n) into P per-producer lists of items built by make(first).
template <typename Make>
auto Partition(int64_t n, int64_t step, int P, Make make) {
  std::vector<std::vector<decltype(make(0))>> work(P);
  for (int64_t i = 0, k = 0; i < n; i += step, ++k) work[k % P].push_back(make(i));
  return work;
}

int64_t SumTo(int64_t n) { return n * (n - 1) / 2; }

void Finalize(benchmark::State& state, int64_t elements, bool str) {
  state.SetItemsProcessed(state.iterations() * elements);
  state.SetBytesProcessed(state.iterations() * elements * (str ? kStrBytes : 8));
}

// ------------------------------------------------------------ sluice queues

void BM_FifoSingle(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = str ? 40000 : 100000;
  for (auto _ : state) {
    state.PauseTiming();
    auto q = *FIFOQueue::Create(Options(str, 1024));
    auto work = Partition(n, 1, P, [&](int64_t i) { return MakeElement(i, str); });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n),
             [&](TensorTuple t) { (void)q->Enqueue(std::move(t)); },
             [&](int64_t* sum, int64_t* count) {
               auto e = q->Dequeue();
               if (!e.ok()) return false;
               *sum += ValueOf((*e)[0], 0);
               ++*count;
               return true;
             },
             [&] { (void)q->Close(); });
  }
  Finalize(state, n, str);
}

void BM_FifoMany(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = kBatch * (str ? 512 : 2048);
  for (auto _ : state) {
    state.PauseTiming();
    auto q = *FIFOQueue::Create(Options(str, 8 * kBatch));
    auto work = Partition(n, kBatch, P, [&](int64_t i) { return MakeBatch(i, str); });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n),
             [&](TensorTuple t) { (void)q->EnqueueMany(std::move(t)); },
             [&](int64_t* sum, int64_t* count) {
               auto b = q->DequeueUpTo(kBatch);
               if (!b.ok()) return false;
               const Tensor& t = (*b)[0];
               for (int64_t i = 0; i < t.dim(0); ++i) *sum += ValueOf(t, i);
               *count += t.dim(0);
               return true;
             },
             [&] { (void)q->Close(); });
  }
  Finalize(state, n, str);
}

void BM_ShuffleMany(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = kBatch * (str ? 512 : 2048);
  for (auto _ : state) {
    state.PauseTiming();
    RandomShuffleQueueOptions o;
    o.queue = Options(str, 10000);
    o.min_after_dequeue = 5000;
    o.seed = 1;
    auto q = *RandomShuffleQueue::Create(o);
    auto work = Partition(n, kBatch, P, [&](int64_t i) { return MakeBatch(i, str); });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n),
             [&](TensorTuple t) { (void)q->EnqueueMany(std::move(t)); },
             [&](int64_t* sum, int64_t* count) {
               auto b = q->DequeueUpTo(kBatch);
               if (!b.ok()) return false;
               const Tensor& t = (*b)[0];
               for (int64_t i = 0; i < t.dim(0); ++i) *sum += ValueOf(t, i);
               *count += t.dim(0);
               return true;
             },
             [&] { (void)q->Close(); });
  }
  Finalize(state, n, str);
}

// ---------------------------------------------------------------- baselines

// TensorFlow 1.x's FIFOQueue design without the attempt machinery: a mutex,
// two condition variables and a deque, `batch` items per lock.
class MutexDeque {
 public:
  explicit MutexDeque(size_t capacity) : capacity_(capacity) {}
  void PushMany(std::vector<TensorTuple>& items) {
    size_t i = 0;
    while (i < items.size()) {
      std::unique_lock<std::mutex> l(mu_);
      not_full_.wait(l, [&] { return q_.size() < capacity_; });
      while (i < items.size() && q_.size() < capacity_) q_.push_back(std::move(items[i++]));
      l.unlock();
      not_empty_.notify_all();
    }
  }
  void Push(TensorTuple t) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(t));
    l.unlock();
    not_empty_.notify_one();
  }
  // Up to `max` items; false once closed and empty.
  bool PopMany(size_t max, std::vector<TensorTuple>* out) {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    while (!q_.empty() && out->size() < max) {
      out->push_back(std::move(q_.front()));
      q_.pop_front();
    }
    l.unlock();
    not_full_.notify_all();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<TensorTuple> q_;
  size_t capacity_;
  bool closed_ = false;
};

void BM_MutexDequeSingle(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = str ? 40000 : 100000;
  for (auto _ : state) {
    state.PauseTiming();
    MutexDeque q(1024);
    auto work = Partition(n, 1, P, [&](int64_t i) { return MakeElement(i, str); });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n), [&](TensorTuple t) { q.Push(std::move(t)); },
             [&](int64_t* sum, int64_t* count) {
               std::vector<TensorTuple> out;
               if (!q.PopMany(1, &out)) return false;
               *sum += ValueOf(out[0][0], 0);
               ++*count;
               return true;
             },
             [&] { q.Close(); });
  }
  Finalize(state, n, str);
}

void BM_MutexDequeMany(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = kBatch * (str ? 512 : 2048);
  for (auto _ : state) {
    state.PauseTiming();
    MutexDeque q(8 * kBatch);
    auto work = Partition(n, kBatch, P, [&](int64_t first) {
      std::vector<TensorTuple> items;
      for (int64_t i = 0; i < kBatch; ++i) items.push_back(MakeElement(first + i, str));
      return items;
    });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n),
             [&](std::vector<TensorTuple> items) { q.PushMany(items); },
             [&](int64_t* sum, int64_t* count) {
               std::vector<TensorTuple> out;
               out.reserve(kBatch);
               if (!q.PopMany(kBatch, &out)) return false;
               for (auto& e : out) *sum += ValueOf(e[0], 0);
               *count += out.size();
               return true;
             },
             [&] { q.Close(); });
  }
  Finalize(state, n, str);
}

void BM_TbbBoundedSingle(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = str ? 40000 : 100000;
  for (auto _ : state) {
    state.PauseTiming();
    tbb::concurrent_bounded_queue<TensorTuple> q;
    q.set_capacity(1024);
    auto work = Partition(n, 1, P, [&](int64_t i) { return MakeElement(i, str); });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n), [&](TensorTuple t) { q.push(std::move(t)); },
             [&](int64_t* sum, int64_t* count) {
               TensorTuple e;
               q.pop(e);
               if (e.empty()) return false;  // end-of-stream marker
               *sum += ValueOf(e[0], 0);
               ++*count;
               return true;
             },
             [&] {
               for (int c = 0; c < C; ++c) q.push(TensorTuple());
             });
  }
  Finalize(state, n, str);
}

void BM_MoodycamelBulk(benchmark::State& state, int P, int C, bool str) {
  const int64_t n = kBatch * (str ? 512 : 2048);
  for (auto _ : state) {
    state.PauseTiming();
    // Bounded like the others: producers wait while more than 8 batches
    // are queued (moodycamel queues are unbounded by design).
    moodycamel::BlockingConcurrentQueue<TensorTuple> q;
    std::atomic<int64_t> queued{0};
    // moodycamel orders items per producer only, so an end marker can
    // overtake another producer's data: consumers stop on a marker only
    // once every element has been consumed.
    std::atomic<int64_t> unconsumed{n};
    auto work = Partition(n, kBatch, P, [&](int64_t first) {
      std::vector<TensorTuple> items;
      for (int64_t i = 0; i < kBatch; ++i) items.push_back(MakeElement(first + i, str));
      return items;
    });
    state.ResumeTiming();
    Transfer(state, P, C, work, n, SumTo(n),
             [&](std::vector<TensorTuple> items) {
               while (queued.load(std::memory_order_acquire) > 8 * kBatch) std::this_thread::yield();
               queued.fetch_add(kBatch, std::memory_order_acq_rel);
               q.enqueue_bulk(std::make_move_iterator(items.begin()), items.size());
             },
             [&](int64_t* sum, int64_t* count) {
               TensorTuple out[kBatch];
               size_t got = q.wait_dequeue_bulk(out, kBatch);
               queued.fetch_sub(got, std::memory_order_acq_rel);
               size_t ends = 0;
               int64_t items = 0;
               for (size_t i = 0; i < got; ++i) {
                 if (out[i].empty()) {
                   ++ends;
                   continue;
                 }
                 *sum += ValueOf(out[i][0], 0);
                 ++items;
               }
               *count += items;
               const bool all_consumed = unconsumed.fetch_sub(items) == items;
               if (ends == 0) return true;
               if (!all_consumed && unconsumed.load() > 0) {
                 // Data is still on its way: put the markers back and go on.
                 for (size_t i = 0; i < ends; ++i) q.enqueue(TensorTuple());
                 std::this_thread::yield();
                 return true;
               }
               // One end marker per consumer: hand back any extra this bulk
               // dequeue took, so every other consumer still gets its own.
               for (size_t i = 1; i < ends; ++i) q.enqueue(TensorTuple());
               return false;
             },
             [&] {
               for (int c = 0; c < C; ++c) q.enqueue(TensorTuple());
             });
  }
  Finalize(state, n, str);
}

// One thread, no contention: enqueue 64 single elements, dequeue them, so
// the figure is the per-operation cost of the queue itself.
void BM_FifoUncontended(benchmark::State& state) {
  auto q = *FIFOQueue::Create(Options(false, 1024));
  std::vector<TensorTuple> elems;
  for (int i = 0; i < 64; ++i) elems.push_back(MakeElement(i, false));
  int64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) (void)q->Enqueue(elems[i]);
    for (int i = 0; i < 64; ++i) sum += ValueOf((*q->Dequeue())[0], 0);
  }
  if (sum != static_cast<int64_t>(state.iterations()) * SumTo(64)) state.SkipWithError("sum");
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_FifoUncontended)->Name("queue.fifo.single.uncontended");

void BM_MutexDequeUncontended(benchmark::State& state) {
  MutexDeque q(1024);
  std::vector<TensorTuple> elems;
  for (int i = 0; i < 64; ++i) elems.push_back(MakeElement(i, false));
  int64_t sum = 0;
  std::vector<TensorTuple> out;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) q.Push(elems[i]);
    for (int i = 0; i < 64; ++i) {
      out.clear();
      q.PopMany(1, &out);
      sum += ValueOf(out[0][0], 0);
    }
  }
  if (sum != static_cast<int64_t>(state.iterations()) * SumTo(64)) state.SkipWithError("sum");
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_MutexDequeUncontended)->Name("queue.baseline.mutex_deque.single.uncontended");
SLUICE_BENCH_BASELINE("queue.fifo.single.uncontended",
                      "queue.baseline.mutex_deque.single.uncontended");

// ------------------------------------------------------------- registration

void Register(const std::string& name, void (*fn)(benchmark::State&, int, int, bool), int P,
              int C, bool str) {
  benchmark::RegisterBenchmark((name + (str ? ".str784" : "")).c_str(),
                               [=](benchmark::State& s) { fn(s, P, C, str); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

const bool kRegistered = [] {
  for (bool str : {false, true}) {
    const std::string s = str ? ".str784" : "";
    for (auto [p, tag] : {std::pair{1, "1p1c"}, {2, "2p2c"}, {4, "4p4c"}}) {
      const std::string t = tag;
      Register("queue.fifo.single." + t, BM_FifoSingle, p, p, str);
      Register("queue.fifo.many128." + t, BM_FifoMany, p, p, str);
      Register("queue.baseline.mutex_deque.single." + t, BM_MutexDequeSingle, p, p, str);
      Register("queue.baseline.mutex_deque.many128." + t, BM_MutexDequeMany, p, p, str);
      Register("queue.baseline.tbb_bounded.single." + t, BM_TbbBoundedSingle, p, p, str);
      Register("queue.baseline.moodycamel.bulk128." + t, BM_MoodycamelBulk, p, p, str);
      sluice::bench::RegisterBaseline(("queue.fifo.single." + t + s).c_str(),
                                      ("queue.baseline.mutex_deque.single." + t + s).c_str());
      sluice::bench::RegisterBaseline(("queue.fifo.many128." + t + s).c_str(),
                                      ("queue.baseline.mutex_deque.many128." + t + s).c_str());
    }
    Register("queue.shuffle.many128.1p1c", BM_ShuffleMany, 1, 1, str);
    sluice::bench::RegisterBaseline(("queue.shuffle.many128.1p1c" + s).c_str(),
                                    ("queue.fifo.many128.1p1c" + s).c_str());
  }
  return true;
}();

}  // namespace
}  // namespace sluice
