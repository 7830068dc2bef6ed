#include "distributed/gradient_allreducer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice::distributed {

absl::StatusOr<StepAgreement> GradientAllreducer::Average(std::vector<Tensor>* grads,
                                                          int64_t samples, bool stop,
                                                          std::string_view what) {
  int64_t n = 2;  // [samples, stop] ahead of the gradients
  for (size_t i = 0; i < grads->size(); ++i) {
    const Tensor& g = (*grads)[i];
    if (g.dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat("gradient ", i, " of ", Sv(what), " is ",
                                                     Sv(DTypeName(g.dtype())), ", not float32"));
    }
    n += g.NumElements();
  }
  flat_.resize(n);
  last_bytes_ = n * static_cast<int64_t>(sizeof(float));
  const int64_t bucket = std::max<int64_t>(1, options_.bucket_bytes / sizeof(float));
  // Pack each bucket scaled by the sample count, and start its sum as
  // soon as it is full.
  const float w = static_cast<float>(samples);
  flat_[0] = w;
  flat_[1] = stop ? 1.0f : 0.0f;
  int64_t pos = 2, started = 0;
  auto start_ready = [&](bool all) -> absl::Status {
    while (pos - started >= bucket || (all && pos > started)) {
      const int64_t len = std::min(bucket, pos - started);
      SLUICE_ASSIGN_OR_RETURN(int h, world_->StartAllreduceSum(flat_.data() + started, len));
      (void)world_->Test(h);  // progress it (Open MPI moves data inside MPI calls)
      started += len;
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(start_ready(false));  // buckets smaller than the header
  for (const Tensor& g : *grads) {
    const float* src = g.data<float>();
    const int64_t m = g.NumElements();
    for (int64_t off = 0; off < m;) {
      const int64_t take = std::min(m - off, bucket - (pos - started));
      float* dst = flat_.data() + pos;
      for (int64_t k = 0; k < take; ++k) dst[k] = w * src[off + k];
      pos += take;
      off += take;
      SLUICE_RETURN_IF_ERROR(start_ready(false));
    }
  }
  SLUICE_RETURN_IF_ERROR(start_ready(true));
  SLUICE_RETURN_IF_ERROR(world_->WaitAll(what));

  StepAgreement a;
  a.total_samples = static_cast<int64_t>(flat_[0] + 0.5f);
  a.stop = flat_[1] > 0.5f;
  const float inv = a.total_samples > 0 ? 1.0f / static_cast<float>(a.total_samples) : 0.0f;
  pos = 2;
  for (Tensor& g : *grads) {
    Tensor avg(DType::kFloat32, g.shape());
    float* dst = avg.data<float>();
    const int64_t m = g.NumElements();
    // Multiplying by the reciprocal is the same operation on every rank,
    // so the bits agree; it differs from a division in the last ulp only.
    for (int64_t k = 0; k < m; ++k) dst[k] = flat_[pos + k] * inv;
    pos += m;
    g = std::move(avg);
  }
  return a;
}

}  // namespace sluice::distributed
