#include "pipeline/dataset/autotune.h"

#include <algorithm>
#include <cmath>

namespace sluice::autotune {

namespace {
constexpr double kGapBucketFloor = 250e-9;  // seconds: the top of bucket 0
}  // namespace

void TimeHistogram::Add(double seconds) {
  if (!(seconds >= 0)) return;  // negative or NaN: not a gap
  int i = 0;
  if (seconds >= kGapBucketFloor) {
    i = 1 + static_cast<int>(std::floor(2 * std::log2(seconds / kGapBucketFloor)));
    i = std::min(i, kBuckets - 1);
  }
  count_[i] += 1;
  sum_[i] += seconds;
  sq_[i] += seconds * seconds;
}

void TimeHistogram::Decay(double factor) {
  factor = std::clamp(factor, 0.0, 1.0);
  for (int i = 0; i < kBuckets; ++i) {
    count_[i] *= factor;
    sum_[i] *= factor;
    sq_[i] *= factor;
  }
}

double TimeHistogram::count() const {
  double n = 0;
  for (double c : count_) n += c;
  return n;
}

double TimeHistogram::MeanExcess(double t) const {
  const double n = count();
  if (n <= 0) return 0;
  double excess = 0;
  for (int i = 0; i < kBuckets; ++i) excess += std::max(sum_[i] - count_[i] * t, 0.0);
  return excess / n;
}

// Calls f(a, b, weight) for every pair of non-empty buckets, each given as
// its mean and variance.
template <typename F>
void TimeHistogram::ForPairs(F f) const {
  std::array<double, kBuckets> mean, var, count;
  int k = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (count_[i] <= 0) continue;
    mean[k] = sum_[i] / count_[i];
    // Rounding leaves a residue for alike times: below a millionth of the
    // mean's spread, none.
    const double v = sq_[i] / count_[i] - mean[k] * mean[k];
    var[k] = v > 1e-12 * mean[k] * mean[k] ? v : 0.0;
    count[k++] = count_[i];
  }
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) f(mean[i] - mean[j], var[i] + var[j], count[i] * count[j]);
  }
}

namespace {
// For D ~ Normal(mu, var) (a point at mu when var is 0): E[(D - t)+] and
// P(D > t).
void NormalExcessAndTail(double mu, double var, double t, double* excess, double* tail) {
  const double d = mu - t;
  const double sd = std::sqrt(var);
  if (!(sd > 0) || std::abs(d) > 8 * sd) {  // a point, or beyond 8 sd: as one
    *excess = std::max(d, 0.0);
    *tail = d > 0 ? 1.0 : 0.0;
    return;
  }
  const double z = d / sd;
  const double upper = 0.5 * std::erfc(-z / std::sqrt(2.0));  // Phi(z)
  *tail = upper;
  *excess = std::max(d * upper + sd * std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI), 0.0);
}
}  // namespace

TimeHistogram::Lag TimeHistogram::LagAt(double t) const {
  Lag lag;
  const double n = count();
  if (n <= 0) return lag;
  ForPairs([&](double mu, double var, double w) {
    double e, p;
    NormalExcessAndTail(mu, var, t, &e, &p);
    lag.excess += w * e;
    lag.tail += w * p;
  });
  lag.excess /= n * n;
  lag.tail /= n * n;
  return lag;
}

double WaitTime(double y, double x, int64_t n) {
  if (y <= 0) return 0;
  if (x <= 0) return y;
  const double r = x / y;
  double p_empty;
  if (std::abs(r - 1.0) < 1e-9) {
    p_empty = 1.0 / static_cast<double>(n + 1);
  } else {
    // (1 - r) / (1 - r^(n+1)), written to stay finite for large r^(n+1).
    const double rn = std::pow(r, static_cast<double>(n + 1));
    p_empty = std::isinf(rn) ? 0.0 : (1.0 - r) / (1.0 - rn);
  }
  return std::clamp(p_empty, 0.0, 1.0) * y;
}

int ParallelismCap(const MapRates& r, int ceiling) {
  ceiling = std::max(ceiling, 1);
  const double f = r.call_cpu_fraction;
  if (!(f > 0) || f >= 1) return std::min(std::max(r.cpus, 1), ceiling);
  // p * f <= cpus, with a little slack for f measured as cpus / p exactly.
  const double p = std::floor(static_cast<double>(std::max(r.cpus, 1)) / f + 1e-9);
  return static_cast<int>(std::clamp(p, 1.0, static_cast<double>(ceiling)));
}

double HeldBytes(const MapRates& r, int p, int64_t buffer) {
  return static_cast<double>(p + std::max<int64_t>(buffer, 0)) * std::max(r.result_bytes, 0.0);
}

double MapProducerTime(const MapRates& r, int p) {
  const double work = std::max(r.call_s, r.pull_s + r.fn_s) / std::max(p, 1);
  const double cpu = r.cpu_s / std::max(r.cpus, 1);
  return std::max({r.pull_s, work, cpu});
}

double ReorderStall(const MapRates& r, int p, int64_t buffer) {
  if (p <= 1) return 0;
  const double share = static_cast<double>(p - 1) / static_cast<double>(p);
  if (r.fn_times != nullptr && r.fn_times->count() > 0) {
    const double t = static_cast<double>(std::max<int64_t>(buffer, 0)) * r.fn_s /
                     static_cast<double>(p - 1);
    const TimeHistogram::Lag lag = r.fn_times->LagAt(t);
    return share * (lag.excess + std::max(r.restart_s, 0.0) * lag.tail);
  }
  if (r.fn_sd_s <= 0) return 0;
  // The spread counts at most the mean call time: wider spreads come from
  // rare long stalls (a thread preempted by another process, a page fault)
  // that no small buffer covers; sized for them, the buffer reached 36
  // batches on pipeline.dataset.
  const double spread = std::min(r.fn_sd_s, r.fn_s);
  const double sd = std::sqrt(2.0) * spread;  // of the head's lag D
  const double t = static_cast<double>(std::max<int64_t>(buffer, 0)) * r.fn_s /
                   static_cast<double>(p - 1);
  const double z = t / sd;
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
  const double upper = 0.5 * std::erfc(z / std::sqrt(2.0));  // 1 - Phi(z)
  const double lag = std::max(sd * pdf - t * upper, 0.0);    // E[(D - t)+]
  return static_cast<double>(p - 1) / static_cast<double>(p) * lag;
}

double ConsumerStall(const MapRates& r, int p, int64_t buffer) {
  if (r.consumer_gaps == nullptr) return 0;
  const double slots = static_cast<double>(std::max(p, 1) + std::max<int64_t>(buffer, 0));
  return r.consumer_gaps->MeanExcess(slots * MapProducerTime(r, p));
}

double MapOutputTime(const MapRates& r, int p, int64_t buffer) {
  // Up to p results are computed ahead plus `buffer` more wait.
  const double producer =
      MapProducerTime(r, p) + ReorderStall(r, p, buffer) + ConsumerStall(r, p, buffer);
  return r.consumer_s + WaitTime(producer, r.consumer_s, p + buffer);
}

MapChoice ChooseMap(const MapRates& r, bool tune_p, int p, int max_p,
                    bool tune_b, int64_t b, int64_t max_b, int64_t budget) {
  max_p = ParallelismCap(r, max_p);
  auto fits = [&](int q, int64_t n) {
    return budget <= 0 || HeldBytes(r, q, n) <= static_cast<double>(budget);
  };
  MapChoice c;
  c.parallelism = tune_p ? 1 : std::max(p, 1);
  c.buffer = tune_b ? 0 : std::max<int64_t>(b, 0);
  c.output_s = MapOutputTime(r, c.parallelism, c.buffer);
  while (true) {
    double best = c.output_s;
    int step = 0;  // 1: parallelism, 2: buffer
    if (tune_p && c.parallelism < max_p && fits(c.parallelism + 1, c.buffer)) {
      const double t = MapOutputTime(r, c.parallelism + 1, c.buffer);
      if (t < best) best = t, step = 1;
    }
    if (tune_b && c.buffer < max_b && fits(c.parallelism, c.buffer + 1)) {
      const double t = MapOutputTime(r, c.parallelism, c.buffer + 1);
      if (t < best) best = t, step = 2;
    }
    // Both at once: a call more pays only with a slot to park its result
    // when the restarts of stopped slots dominate the reorder stall.
    if (tune_p && tune_b && c.parallelism < max_p && c.buffer < max_b &&
        fits(c.parallelism + 1, c.buffer + 1)) {
      const double t = MapOutputTime(r, c.parallelism + 1, c.buffer + 1);
      if (t < best * 0.99) best = t, step = 3;
    }
    if (step == 0 || best > c.output_s * 0.99) break;
    if (step & 1) ++c.parallelism;
    if (step & 2) ++c.buffer;
    c.output_s = best;
  }
  return c;
}

}  // namespace sluice::autotune
