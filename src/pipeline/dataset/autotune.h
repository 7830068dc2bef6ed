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
//   y(p) = max(u, (u + m) / p, C / cpus)
// where u is the serial input pull per element (the input lock), m the
// function's time per element, C the process's CPU time per element (every
// stage, the consumer and whatever else the process does) and cpus the CPU
// budget: calls beyond what the CPUs can run at once do not help, and the
// input pull is a serial step. All figures are measured while the pipeline
// runs (wall time for u and m, so that a function that waits on I/O gets
// the parallelism that hides the wait).
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
// Pure functions; thread-compatible.

#include <cstdint>

namespace sluice::autotune {

// The consumer's expected wait per element (seconds), as above. y <= 0:
// 0; x <= 0: y.
double WaitTime(double producer_s, double consumer_s, int64_t buffer);

struct MapRates {
  double pull_s = 0;      // u: input pull per element (serial)
  double fn_s = 0;        // m: function per element
  double fn_sd_s = 0;     // s: standard deviation of the function's time
  double consumer_s = 0;  // x: the consumer's own time per element
  double cpu_s = 0;       // C: process CPU per element (0: unknown)
  int cpus = 1;           // the CPU budget
};

struct MapChoice {
  int parallelism = 1;
  int64_t buffer = 0;   // results buffered beyond `parallelism`
  double output_s = 0;  // modelled time per element at the consumer
};

// Producer time per element with p calls in flight (no reorder stall).
double MapProducerTime(const MapRates& r, int p);

// The reorder stall per element with p calls in flight and `buffer` spare
// slots, as above; never negative, and never larger for a larger buffer.
double ReorderStall(const MapRates& r, int p, int64_t buffer);

// The modelled time per element at the consumer: its own time plus its
// wait on a producer of MapProducerTime + ReorderStall with p + buffer
// results ahead.
double MapOutputTime(const MapRates& r, int p, int64_t buffer);

// Hill climb from (tune_parallelism ? 1 : fixed parallelism,
// tune_buffer ? 0 : fixed buffer) up to max_parallelism / max_buffer.
MapChoice ChooseMap(const MapRates& r, bool tune_parallelism, int parallelism,
                    int max_parallelism, bool tune_buffer, int64_t buffer,
                    int64_t max_buffer);

}  // namespace sluice::autotune
