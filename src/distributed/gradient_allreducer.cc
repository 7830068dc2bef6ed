#include "distributed/gradient_allreducer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"

namespace sluice::distributed {
namespace {

constexpr int64_t kAlignFloats = kTensorAlignment / sizeof(float);  // 16
constexpr int64_t kHeaderFloats = kAlignFloats;  // [samples, stop, 0...]

int64_t RoundUp(int64_t n) {
  return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// dst = w * src (a copy when w == 1).
void ScaledCopy(const float* src, int64_t n, float w, float* dst) {
  if (w == 1.0f) {
    std::memcpy(dst, src, n * sizeof(float));
  } else {
    for (int64_t k = 0; k < n; ++k) dst[k] = w * src[k];
  }
}

void Scale(float* p, int64_t n, float w) {
  for (int64_t k = 0; k < n; ++k) p[k] *= w;
}

}  // namespace

absl::Status GradientAllreducer::CheckFloat(const std::vector<Tensor>& grads,
                                            std::string_view what) const {
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("gradient ", i, " of ", Sv(what), " is ",
                       Sv(DTypeName(grads[i].dtype())), ", not float32"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>> GradientAllreducer::Prepare(
    const std::vector<TensorShape>& shapes) {
  // The arena is reused when it has the same layout and nobody but this
  // object (arena_ and the slots) holds it.
  const bool same = arena_ && shapes == shapes_;
  if (same && arena_->ref_count() == 1 + static_cast<int64_t>(slots_.size()))
    return slots_;
  shapes_ = shapes;
  offsets_.clear();
  int64_t n = kHeaderFloats;
  for (const TensorShape& s : shapes) {
    if (!s.IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gradient shape ", s.DebugString(), " is not fully defined"));
    }
    offsets_.push_back(n);
    n = RoundUp(n + s.num_elements());
  }
  floats_ = n;
  slots_.clear();
  arena_ = Buffer::Create(HostAllocator(), n * sizeof(float));
  if (!arena_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("gradient arena of ", n * 4, " bytes"));
  }
  std::memset(arena_->data(), 0, n * sizeof(float));  // padding stays zero
  for (size_t i = 0; i < shapes.size(); ++i) {
    slots_.push_back(Tensor::FromBuffer(DType::kFloat32, shapes[i], arena_,
                                        offsets_[i] * sizeof(float)));
  }
  return slots_;
}

bool GradientAllreducer::InPlace(int i, const Tensor& g) const {
  return i < static_cast<int>(slots_.size()) && g.SharesBufferWith(slots_[i]) &&
         g.raw_data() == slots_[i].raw_data() && g.shape() == slots_[i].shape();
}

absl::Status GradientAllreducer::Stage(int i, const Tensor& g) {
  if (i < 0 || i >= static_cast<int>(slots_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("gradient slot ", i, " of ", slots_.size(), " prepared"));
  }
  if (g.dtype() != DType::kFloat32 || g.shape() != slots_[i].shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("gradient ", i, " is ", Sv(DTypeName(g.dtype())), " ",
                     g.shape().DebugString(), ", its slot is float32 ",
                     slots_[i].shape().DebugString()));
  }
  if (!InPlace(i, g)) {
    std::memcpy(arena() + offsets_[i], g.data<float>(),
                g.NumElements() * sizeof(float));
  }
  return absl::OkStatus();
}

absl::StatusOr<StepAgreement> GradientAllreducer::Reduce(
    std::vector<Tensor>* grads, float weight, int64_t samples, bool stop,
    std::string_view what) {
  SLUICE_RETURN_IF_ERROR(CheckFloat(*grads, what));
  const auto t0 = std::chrono::steady_clock::now();
  const int n = static_cast<int>(grads->size());
  bool all_in_place = static_cast<int>(slots_.size()) == n;
  for (int i = 0; all_in_place && i < n; ++i)
    all_in_place = InPlace(i, (*grads)[i]);
  if (all_in_place) {
    if (weight != 1.0f) {
      for (int i = 0; i < n; ++i)
        Scale(arena() + offsets_[i], (*grads)[i].NumElements(), weight);
    }
  } else {
    std::vector<TensorShape> shapes;
    for (const Tensor& g : *grads) shapes.push_back(g.shape());
    // Tensors already in the arena hold it: they are copied out of it into
    // a fresh one (the mixed case is rare; Prepare keeps a free arena).
    SLUICE_ASSIGN_OR_RETURN(std::vector<Tensor> slots, Prepare(shapes));
    for (int i = 0; i < n; ++i) {
      const Tensor& g = (*grads)[i];
      if (InPlace(i, g)) {
        if (weight != 1.0f)
          Scale(arena() + offsets_[i], g.NumElements(), weight);
      } else {
        ScaledCopy(g.data<float>(), g.NumElements(), weight,
                   arena() + offsets_[i]);
      }
    }
  }
  float* a = arena();
  a[0] = static_cast<float>(samples);
  a[1] = stop ? 1.0f : 0.0f;
  last_copy_seconds_ = all_in_place && weight == 1.0f ? 0.0 : Since(t0);
  last_bytes_ = floats_ * static_cast<int64_t>(sizeof(float));

  // The buckets, in place, in the same order on every rank.
  const int64_t bucket =
      std::max<int64_t>(kAlignFloats, options_.bucket_bytes / sizeof(float));
  for (int64_t off = 0; off < floats_; off += bucket) {
    SLUICE_RETURN_IF_ERROR(
        world_->AllreduceSum(a + off, std::min(bucket, floats_ - off), what));
  }

  if (!all_in_place) {
    for (int i = 0; i < n; ++i) (*grads)[i] = slots_[i];
  }
  return ReadAgreement();
}

StepAgreement GradientAllreducer::ReadAgreement() const {
  StepAgreement agreement;
  agreement.total_samples = static_cast<int64_t>(arena()[0] + 0.5f);
  agreement.stop = arena()[1] > 0.5f;
  return agreement;
}

absl::Status GradientAllreducer::Rescale(const StepAgreement& a,
                                         int64_t expected_total) {
  if (a.total_samples > 0 && a.total_samples != expected_total) {
    const auto t0 = std::chrono::steady_clock::now();
    const float r = static_cast<float>(expected_total) /
                    static_cast<float>(a.total_samples);
    for (size_t i = 0; i < slots_.size(); ++i) {
      Scale(arena() + offsets_[i], slots_[i].NumElements(), r);
    }
    last_copy_seconds_ += Since(t0);
  }
  return absl::OkStatus();
}

absl::StatusOr<StepAgreement> GradientAllreducer::Average(
    std::vector<Tensor>* grads, int64_t samples, bool stop,
    std::string_view what) {
  SLUICE_ASSIGN_OR_RETURN(
      StepAgreement a,
      Reduce(grads, static_cast<float>(samples), samples, stop, what));
  const auto t0 = std::chrono::steady_clock::now();
  // Multiplying by the reciprocal is the same operation on every rank, so
  // the bits agree; it differs from a division in the last ulp only.
  const float inv =
      a.total_samples > 0 ? 1.0f / static_cast<float>(a.total_samples) : 0.0f;
  for (size_t i = 0; i < grads->size(); ++i) {
    Scale(arena() + offsets_[i], (*grads)[i].NumElements(), inv);
  }
  last_copy_seconds_ += Since(t0);
  return a;
}

absl::StatusOr<StepAgreement> GradientAllreducer::SumWeighted(
    std::vector<Tensor>* grads, int64_t samples, bool stop,
    int64_t expected_total, std::string_view what) {
  if (expected_total <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(what), ": expected_total must be > 0, got ", expected_total));
  }
  SLUICE_ASSIGN_OR_RETURN(StepAgreement a,
                          Reduce(grads, 1.0f, samples, stop, what));
  SLUICE_RETURN_IF_ERROR(Rescale(a, expected_total));
  return a;
}

GradientAllreducer::~GradientAllreducer() {
  if (!reducer_.joinable()) return;
  {
    absl::MutexLock l(&mu_);
    quit_ = true;
  }
  reducer_.join();
}

bool GradientAllreducer::BucketReady(int64_t k) const {
  for (int i = slot_of_float_begin_[k]; i < slot_of_float_end_[k]; ++i) {
    if (!staged_[i]) return false;
  }
  return true;
}

absl::Status GradientAllreducer::Begin(const std::vector<TensorShape>& shapes,
                                       int64_t samples, bool stop,
                                       std::string what) {
  {
    absl::MutexLock l(&mu_);
    if (active_)
      return absl::FailedPreconditionError(
          "Begin: the previous step has not finished");
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Tensor> slots, Prepare(shapes));
  (void)slots;
  what_ = std::move(what);
  last_copy_seconds_ = 0;
  last_bytes_ = floats_ * static_cast<int64_t>(sizeof(float));
  arena()[0] = static_cast<float>(samples);
  arena()[1] = stop ? 1.0f : 0.0f;
  // Buckets and the slots each touches (slot i spans offsets_[i] ..
  // offsets_[i] + elements; the header and padding belong to no slot).
  bucket_floats_ =
      std::max<int64_t>(kAlignFloats, options_.bucket_bytes / sizeof(float));
  num_buckets_ = (floats_ + bucket_floats_ - 1) / bucket_floats_;
  slot_of_float_begin_.assign(num_buckets_, 0);
  slot_of_float_end_.assign(num_buckets_, 0);
  for (int64_t k = 0; k < num_buckets_; ++k) {
    const int64_t b0 = k * bucket_floats_,
                  b1 = std::min(floats_, b0 + bucket_floats_);
    int first = static_cast<int>(slots_.size()), last = -1;
    for (int i = 0; i < static_cast<int>(slots_.size()); ++i) {
      const int64_t s0 = offsets_[i], s1 = s0 + slots_[i].NumElements();
      if (s0 < b1 && s1 > b0) {
        first = std::min(first, i);
        last = std::max(last, i);
      }
    }
    if (last >= 0) {
      slot_of_float_begin_[k] = first;
      slot_of_float_end_[k] = last + 1;
    }
  }
  absl::MutexLock l(&mu_);
  staged_.assign(slots_.size(), 0);
  next_bucket_ = 0;
  step_status_ = absl::OkStatus();
  active_ = true;
  if (!reducer_.joinable()) reducer_ = std::thread([this] { ReduceLoop(); });
  return absl::OkStatus();
}

void GradientAllreducer::StageReady(int i, const Tensor& g) {
  // Staged outside the lock: slots are disjoint.
  const bool ok =
      i >= 0 && i < static_cast<int>(slots_.size()) && Stage(i, g).ok();
  absl::MutexLock l(&mu_);
  if (ok) {
    staged_[i] = 1;  // a bad one is left for Finish to report
    staged_early_.fetch_add(1, std::memory_order_relaxed);
  }
}

void GradientAllreducer::ReduceLoop() {
  while (true) {
    int64_t k;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return quit_ || (active_ && next_bucket_ < num_buckets_ &&
                         step_status_.ok() && BucketReady(next_bucket_));
      };
      mu_.Await(absl::Condition(&ready));
      if (quit_) return;
      k = next_bucket_;
    }
    const int64_t b0 = k * bucket_floats_,
                  len = std::min(bucket_floats_, floats_ - b0);
    absl::Status st = world_->AllreduceSum(arena() + b0, len, what_);
    absl::MutexLock l(&mu_);
    if (!st.ok()) step_status_ = std::move(st);
    ++next_bucket_;
  }
}

absl::StatusOr<StepAgreement> GradientAllreducer::Finish(
    std::vector<Tensor>* grads, int64_t expected_total, double* wait_seconds) {
  absl::Status bad;
  if (grads->size() != slots_.size()) {
    bad = absl::InvalidArgumentError(absl::StrCat(what_, ": ", grads->size(),
                                                  " gradients for ",
                                                  slots_.size(), " slots"));
  }
  const auto t_copy = std::chrono::steady_clock::now();
  std::vector<char> staged;
  {
    absl::MutexLock l(&mu_);
    staged = staged_;
  }
  for (size_t i = 0; bad.ok() && i < slots_.size(); ++i) {
    if (!staged[i]) bad = Stage(static_cast<int>(i), (*grads)[i]);
  }
  last_copy_seconds_ += Since(t_copy);
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st;
  {
    absl::MutexLock l(&mu_);
    if (!bad.ok()) {
      // The other ranks are reducing: this rank cannot take part.
      active_ = false;
      return bad;
    }
    for (char& s : staged_) s = 1;
    auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return next_bucket_ >= num_buckets_ || !step_status_.ok();
    };
    mu_.Await(absl::Condition(&finished));
    st = step_status_;
    active_ = false;
  }
  if (wait_seconds != nullptr) *wait_seconds = Since(t0);
  SLUICE_RETURN_IF_ERROR(st);
  for (size_t i = 0; i < slots_.size(); ++i) (*grads)[i] = slots_[i];
  const StepAgreement a = ReadAgreement();
  SLUICE_RETURN_IF_ERROR(Rescale(a, expected_total));
  return a;
}

}  // namespace sluice::distributed
