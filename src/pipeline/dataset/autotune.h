#pragma once
// AUTOTUNE's model (kAutotune in dataset.h): how a parallel Map's
// parallelism and result buffer are chosen from measured stage rates.
//
// tf.data's model-based autotuning is the anchor (tensorflow/core/framework/
// model.cc): each asynchronous stage is a producer feeding a consumer
// through a buffer; the consumer's expected wait per element for producer
// time y, consumer time x and buffer n is that of an M/M/1/n queue,
//   p_empty = (1 - x/y) / (1 - (x/y)^(n+1))   (1/(n+1) when x == y),
//   wait = p_empty * y,
// and a hill climb, starting from the smallest settings, takes the step
// (parallelism + 1 or buffer + 1) that lowers the modelled time per element
// most, until no step gains more than 1% or the limits are reached.
//
// The Map's producer time with p calls in flight is
//   y(p) = max(u, w / p, C / cpus)
// where u is the serial input pull per element (the input lock), w a
// call's wall time (from before it waits for the input lock to its end:
// Little's law, p calls each holding a slot for w give p / w elements per
// second), at least u + m with m the function's time per element, C the
// process's CPU time per element (every stage, the consumer and whatever
// else the process does) and cpus the CPU budget: calls beyond what the
// CPUs can run at once do not help, and the input pull is a serial step.
// All figures are measured while the pipeline runs (wall time for u, m and
// w, so that a function that waits on I/O gets the parallelism that hides
// the wait). w used to be u + m alone: on pipeline.dataset (2 CPUs) a call
// waited for the input lock about as long as it worked, the model saw 2
// calls at ~30 us per batch where they ran at ~34-56 us, and never found a
// third call worth it.
//
// Results leave in input order and at most p + b positions are
// outstanding (running, or done and not yet taken; b: the buffer). A call
// that finishes before the call at the head parks its result; once b
// results are parked, the threads that finish next have no slot and idle
// until the head is done. With the function's time per call spread
// (standard deviation s, measured), the head lags a later call by
// D ~ Normal(0, 2 s^2); the other p - 1 calls fill the b slots in
// t_b = b * m / (p - 1) and then idle for (D - t_b)+, so the producer time
// per element grows by the reorder stall
//   stall(p, b) = (p - 1) / p * E[(D - t_b)+]
//              = (p - 1) / p * (sd * phi(t_b / sd) - t_b * (1 - Phi(t_b / sd)))
// with sd = sqrt(2) min(s, m) (0 for p = 1 or s = 0). Without it a consumer
// that takes no time gains nothing from a buffer in the M/M/1/n wait, and the
// climb left the buffer at 0: on pipeline.image.jpeg (2 calls of ~27 ms on
// 2 CPUs) each thread then stopped whenever its batch was done before the
// other's, and whenever the other was preempted.
//
// Measured call times are not Normal: most calls are alike and a few are
// much longer (preempted, a page fault). With the function's times as a
// histogram (MapRates::fn_times), D = T1 - T2 is taken over pairs of its
// buckets instead, with no cap on the spread, and a stopped slot costs more
// than its idle time: its thread has left the Map and starts again only
// after the pool wakes one up (L, measured from a task's submission to its
// start: tens of microseconds on a loaded 2-core machine, against ~25-45 us
// per batch on pipeline.dataset). So with the histogram
//   stall(p, b) = (p - 1) / p * (E[(D - t_b)+] + L * P(D > t_b)).
// Within a bucket the calls still differ: a half-octave bucket spans +-17%
// of its centre, and most calls of a steady function fall into one. Taken
// as a point at its mean, a bucket lags itself by exactly 0, so a function
// whose calls all fell into one bucket had no reorder stall at all: on
// pipeline.image.jpeg (2 calls of ~13 ms on 2 CPUs, buffer 0 again, 0.83-
// 0.88x its best hand-tuned shape) the climb left the buffer at 0. So each
// bucket keeps the sum of its times' squares and stands for a Normal of its
// mean and variance; a pair of buckets lags by the Normal of the difference
// of their means with the sum of their variances, and E[(D - t)+],
// P(D > t) are summed over the pairs.
// A buffer step gains about y * P(D > t_b) (plus the restarts it saves), so
// the climb deepens the buffer while more than ~1% of the lags outlast it;
// rare long stalls, which no buffer of a few elements covers, do not grow
// it (the Normal's cap at m was for them).
//
// The consumer's takes are bursty too: it usually comes back for the next
// element within microseconds, but now and then after a long gap G (it was
// preempted, or did other work). During a gap the producer fills the
// p + b free positions in about (p + b) * y and then idles, so the producer
// time per element grows by the consumer stall
//   consumer_stall(p, b) = E[(G - (p + b) * y(p))+]
// taken over the measured distribution of the consumer's gaps (a
// TimeHistogram; the mean alone, which the M/M/1/n wait uses, says nothing
// about the long gaps). A buffer step gains about y * P(G > (p + b) * y):
// again the climb deepens the buffer while more than ~1% of the gaps
// outlast it.
//
// Two budgets bound the climb (tf.data has a CPU and a RAM budget too):
//
// CPU: the budget bounds the CPU the calls use, not their number. With f
// the measured share of a call's wall time its thread is on a CPU or
// runnable (waiting for one: preempted), i.e. not blocked, over sampled
// calls, the wait for the input lock included, p calls use p * f CPUs, and
// p is allowed while p * f <= cpus (ParallelismCap). A call that computes
// all the time (f ~ 1, however often it is preempted) gets the CPU budget;
// one that sleeps on its input or on I/O half of the time gets twice as
// many calls. f unknown counts as 1. (Thread CPU time alone made a
// CPU-bound JPEG decode look 36-56% busy on a loaded 2-core machine: the
// rest was preemption, and 5 calls ran.)
//
// Memory: at most p + b results are outstanding, each of the measured
// result size e (bytes of its tensors' payload), so a step is allowed only
// while (p + b) * e <= the memory budget (HeldBytes). A fixed setting the
// caller chose is kept even above it; the climb's start (1 call, no
// buffer) is always allowed. Without it, 2 CPUs' worth of 38.5 MB batches
// of float images plus buffer reached ~420 MB and ran slower (the
// allocator keeps only 256 MiB of freed large blocks; beyond that each
// batch is page-faulted afresh).
//
// Pure functions; thread-compatible.

#include <array>
#include <cstdint>

namespace sluice::autotune {

// A measured distribution of durations (seconds): counts, sums and sums of
// squares in half-octave buckets from 250 ns (bucket i >= 1: [250 ns *
// 2^((i-1)/2), 250 ns * 2^(i/2))). MeanExcess takes each bucket as its
// mean; the lags take each as a Normal of its measured mean and variance
// (see the reorder stall above). Thread-compatible.
class TimeHistogram {
 public:
  void Add(double seconds);
  // Scales every count and sum by `factor` in [0, 1] (older periods weigh
  // less; 0 clears).
  void Decay(double factor);
  double count() const;
  // E[(G - t)+] for G drawn from the histogram, seconds (0 when empty).
  double MeanExcess(double t) const;
  // For T1, T2 drawn independently: E[(T1 - T2 - t)+] and P(T1 - T2 > t)
  // (0 when empty); T1 - T2 for two buckets is the Normal of their means'
  // difference and their variances' sum.
  struct Lag {
    double excess = 0;  // E[(T1 - T2 - t)+], seconds
    double tail = 0;    // P(T1 - T2 > t)
  };
  // Both in one pass over the bucket pairs (the model needs both).
  Lag LagAt(double t) const;
  double LagExcess(double t) const { return LagAt(t).excess; }
  double LagTail(double t) const { return LagAt(t).tail; }

 private:
  static constexpr int kBuckets = 64;
  template <typename F>
  void ForPairs(F f) const;
  std::array<double, kBuckets> count_{};
  std::array<double, kBuckets> sum_{};
  std::array<double, kBuckets> sq_{};  // sums of squares
};

// The consumer's expected wait per element (seconds), as above. y <= 0:
// 0; x <= 0: y.
double WaitTime(double producer_s, double consumer_s, int64_t buffer);

struct MapRates {
  double pull_s = 0;      // u: input pull per element (serial)
  double fn_s = 0;        // m: function per element
  double fn_sd_s = 0;     // s: standard deviation of the function's time
  double call_s = 0;      // w: a call's wall time, lock wait included (0: u + m)
  double consumer_s = 0;  // x: the consumer's own time per element
  double cpu_s = 0;       // C: process CPU per element (0: unknown)
  int cpus = 1;           // the CPU budget
  // f: share of a call's wall time on a CPU or runnable, in (0, 1]
  // (1: unknown).
  double call_cpu_fraction = 1;
  double result_bytes = 0;  // e: bytes of one result (0: unknown)
  // G: the consumer's gaps between takes (null or empty: no stall). Not
  // owned; must outlive the calls it is passed to.
  const TimeHistogram* consumer_gaps = nullptr;
  // The function's times per call (null or empty: the Normal with fn_sd_s
  // above). Not owned.
  const TimeHistogram* fn_times = nullptr;
  // L: a stopped call slot's restart latency (the pool's wake-up, from a
  // task's submission to its start).
  double restart_s = 0;
};

struct MapChoice {
  int parallelism = 1;
  int64_t buffer = 0;   // results buffered beyond `parallelism`
  double output_s = 0;  // modelled time per element at the consumer
};

// The largest p in [1, ceiling] with p * call_cpu_fraction <= cpus.
int ParallelismCap(const MapRates& r, int ceiling);

// Bytes held by p calls in flight and `buffer` results: (p + buffer) *
// result_bytes.
double HeldBytes(const MapRates& r, int p, int64_t buffer);

// Producer time per element with p calls in flight (no reorder stall).
double MapProducerTime(const MapRates& r, int p);

// The reorder stall per element with p calls in flight and `buffer` spare
// slots, as above; never negative, and never larger for a larger buffer.
double ReorderStall(const MapRates& r, int p, int64_t buffer);

// The consumer stall per element with p calls and `buffer` spare slots:
// E[(G - (p + buffer) * MapProducerTime(p))+]; never larger for a larger
// buffer.
double ConsumerStall(const MapRates& r, int p, int64_t buffer);

// The modelled time per element at the consumer: its own time plus its
// wait on a producer of MapProducerTime + ReorderStall + ConsumerStall with
// p + buffer results ahead.
double MapOutputTime(const MapRates& r, int p, int64_t buffer);

// Hill climb from (tune_parallelism ? 1 : fixed parallelism,
// tune_buffer ? 0 : fixed buffer). A parallelism step stays within
// ParallelismCap(r, max_parallelism) (max_parallelism: a ceiling on the
// calls, whatever their CPU share), a buffer step within max_buffer, and
// either only while HeldBytes stays <= memory_budget_bytes (0: no budget).
MapChoice ChooseMap(const MapRates& r, bool tune_parallelism, int parallelism,
                    int max_parallelism, bool tune_buffer, int64_t buffer,
                    int64_t max_buffer, int64_t memory_budget_bytes = 0);

}  // namespace sluice::autotune
