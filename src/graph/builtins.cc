// The process-wide op and kernel registries, with every built-in op
// registered on first use (explicit calls, so no static initialiser can be
// dropped by the linker).
#include "graph/internal/op_util.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"

namespace sluice {
namespace {

struct Registries {
  OpRegistry ops;
  KernelRegistry kernels;
  Registries() {
    internal::RegisterArrayOps(&ops, &kernels);
    internal::RegisterMathOps(&ops, &kernels);
    internal::RegisterNnOps(&ops, &kernels);
    internal::RegisterRandomOps(&ops, &kernels);
    internal::RegisterStateOps(&ops, &kernels);
    internal::RegisterLoggingOps(&ops, &kernels);
    internal::RegisterQueueOps(&ops, &kernels);
    internal::RegisterParsingOps(&ops, &kernels);
    internal::RegisterIoOps(&ops, &kernels);
    internal::RegisterManipOps(&ops, &kernels);
    internal::RegisterControlFlowOps(&ops, &kernels);
#if SLUICE_GRAPH_WITH_IMAGE
    internal::RegisterImageOps(&ops, &kernels);
#endif
  }
};

Registries& All() {
  static Registries* r = new Registries();
  return *r;
}

}  // namespace

OpRegistry* OpRegistry::Global() { return &All().ops; }
KernelRegistry* KernelRegistry::Global() { return &All().kernels; }

}  // namespace sluice
