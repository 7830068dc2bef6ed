#pragma once
// Shared by the gradient function files: registration entry points and
// small helpers. Private to src/graph/gradients.

#include <optional>
#include <vector>

#include "core/status.h"
#include "graph/gradient_registry.h"
#include "graph/graph.h"
#include "graph/scope.h"

namespace sluice::internal {

void RegisterMathGradients(GradientRegistry* r);
void RegisterNnGradients(GradientRegistry* r);
void RegisterArrayGradients(GradientRegistry* r);
void RegisterManipGradients(GradientRegistry* r);

// The int values of a Const node's tensor (axes, perms), or nullopt when
// `o` is not produced by a Const.
std::optional<std::vector<int64_t>> ConstIntValues(const Output& o);

inline bool IsFloating(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }

// Registers a gradient function that gives no input a gradient
// (TensorFlow's NotDifferentiable).
void RegisterNoGradient(GradientRegistry* r, std::string_view op);

}  // namespace sluice::internal
