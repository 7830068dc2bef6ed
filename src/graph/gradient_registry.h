#pragma once
// GradientRegistry: the gradient function of each op type (TensorFlow's
// REGISTER_GRADIENT_OP). The engine only declares the contract; the
// gradient functions and AddSymbolicGradients live in src/graph/gradients/.
//
// A gradient function builds, with ops in `scope`, the gradients of the
// op's inputs from the gradients of its outputs:
//   * grad_outputs[i] is dL/d(op.output(i)); an invalid Output means "no
//     gradient flows into that output" (treat as zeros);
//   * grad_inputs receives one Output per op input, in order; an invalid
//     Output (NoGradient()) means the input gets no gradient (integer
//     inputs, shapes, labels).
// It returns an error (InvalidArgument, Unimplemented) instead of building
// wrong graphs.
//
// Registration: SLUICE_REGISTER_GRADIENT(MatMul, MatMulGrad) at namespace
// scope registers during static initialisation. In a static library a
// file whose only content is registrations is dropped by the linker unless
// something references it: keep registrations in a file with referenced
// symbols, or register from a function that AddSymbolicGradients calls.
// Thread-safe.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "graph/graph.h"
#include "graph/scope.h"

namespace sluice {

using GradFunc = std::function<absl::Status(const Scope& scope, const Operation& op,
                                            const std::vector<Output>& grad_outputs,
                                            std::vector<Output>* grad_inputs)>;

// "This input gets no gradient."
inline Output NoGradient() { return Output(); }

class GradientRegistry {
 public:
  static GradientRegistry* Global();
  // AlreadyExists when `op` has one.
  absl::Status Register(std::string_view op, GradFunc fn) ABSL_LOCKS_EXCLUDED(mu_);
  // NotFound "No gradient defined for op: X" when absent.
  absl::StatusOr<GradFunc> Lookup(std::string_view op) const ABSL_LOCKS_EXCLUDED(mu_);
  bool Has(std::string_view op) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, GradFunc> fns_ ABSL_GUARDED_BY(mu_);
};

namespace internal {
struct GradientRegistrar {
  GradientRegistrar(std::string_view op, GradFunc fn) {
    (void)GradientRegistry::Global()->Register(op, std::move(fn));
  }
};
}  // namespace internal

#define SLUICE_REGISTER_GRADIENT(op_type, fn)                                  \
  static ::sluice::internal::GradientRegistrar SLUICE_GRAD_CONCAT_(            \
      sluice_grad_registrar_, __COUNTER__)(#op_type, fn)
#define SLUICE_GRAD_CONCAT_(a, b) SLUICE_GRAD_CONCAT_INNER_(a, b)
#define SLUICE_GRAD_CONCAT_INNER_(a, b) a##b

}  // namespace sluice
