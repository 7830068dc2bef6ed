#pragma once
// CUDA and cuBLAS errors as absl::Status: Internal, naming what failed (the
// op, or the runtime call) and CUDA's error name and text. Nothing here
// aborts the process.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"

namespace sluice::cuda {

inline absl::Status CudaStatus(cudaError_t e, std::string_view what) {
  if (e == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("CUDA error in ", Sv(what), ": ", cudaGetErrorName(e),
                                          ": ", cudaGetErrorString(e)));
}

inline absl::Status CublasStatus(cublasStatus_t e, std::string_view what) {
  if (e == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cuBLAS error in ", Sv(what), ": status ",
                                          static_cast<int>(e)));
}

}  // namespace sluice::cuda

#define SLUICE_CUDA_RETURN_IF_ERROR(expr, what) \
  SLUICE_RETURN_IF_ERROR(::sluice::cuda::CudaStatus((expr), (what)))
