#pragma once
// The op "Triple" for placement tests: y = 3 * x (float32) with a CPU and
// a GPU kernel that count their runs by device, so a test sees where a
// node ran. RegisterTripleOp() registers it once per process;
// TripleRuns()[0] counts the CPU kernel's runs, TripleRuns()[1 + N] those
// on GPU:N (N < 8); ResetTripleRuns() zeroes them. Kernels may run on any
// thread (the counts are atomic).
#include <array>
#include <atomic>

#include "core/status.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"

namespace sluice::testing_sim {

inline std::array<std::atomic<int>, 9>& TripleRuns() {
  static std::array<std::atomic<int>, 9> runs{};
  return runs;
}

inline void ResetTripleRuns() {
  for (auto& r : TripleRuns()) r.store(0);
}

inline void RegisterTripleOp() {
  static bool once = [] {
    (void)OpRegistry::Global()->Register(
        OpDef{"Triple", shape_fns::UnchangedShape});
    for (DeviceType type : {DeviceType::kCPU, DeviceType::kGPU}) {
      KernelDef k;
      k.op = "Triple";
      k.device = type;
      k.fn = [](OpKernelContext* ctx) -> absl::Status {
        const DeviceContext* d = ctx->device();
        TripleRuns()[d->type() == DeviceType::kCPU ? 0 : 1 + d->index()]
            .fetch_add(1);
        SLUICE_ASSIGN_OR_RETURN(Tensor in, d->CopyToDevice(ctx->input(0)));
        Tensor out(DType::kFloat32, in.shape(), d->allocator());
        for (int64_t i = 0; i < out.NumElements(); ++i) {
          out.data<float>()[i] = 3 * in.data<float>()[i];
        }
        ctx->set_output(0, out);
        return absl::OkStatus();
      };
      KernelRegistry::Global()->Register(std::move(k));
    }
    return true;
  }();
  (void)once;
}

}  // namespace sluice::testing_sim
