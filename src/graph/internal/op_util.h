#pragma once
// Helpers shared by the op files (builders and kernel registration).
// Private to src/graph.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/input.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/scope.h"
#include "kernels/array_ops.h"

namespace sluice::internal {

// Builds a node; Output(node, 0), or an invalid Output when it failed (the
// error is in the scope's status).
inline Output BuildOp(const Scope& scope, std::string_view op, std::string_view default_name,
                      std::vector<Output> inputs, AttrMap attrs = {}) {
  return Output(scope.AddNode(op, default_name, std::move(inputs), std::move(attrs)), 0);
}

// Converts two operands; a literal takes the other operand's dtype.
inline std::pair<Output, Output> BinaryOperands(const Scope& scope, const Input& a, const Input& b) {
  std::optional<DType> ha, hb;
  if (!a.is_literal()) hb = a.dtype();
  if (!b.is_literal()) ha = b.dtype();
  return {a.ToOutput(scope, ha), b.ToOutput(scope, hb)};
}

inline std::vector<Output> ToOutputs(const Scope& scope, const std::vector<Input>& in,
                                     std::optional<DType> hint = std::nullopt) {
  if (!hint.has_value()) {
    for (const Input& i : in) {
      if (!i.is_literal()) {
        hint = i.dtype();
        break;
      }
    }
  }
  std::vector<Output> out;
  for (const Input& i : in) out.push_back(i.ToOutput(scope, hint));
  return out;
}

inline void RegisterOp(OpRegistry* ops, OpDef def) { (void)ops->Register(std::move(def)); }

inline void RegisterCpuKernel(KernelRegistry* kernels, std::string op, KernelFn fn,
                              std::vector<DType> dtypes = {}, bool inexpensive = false,
                              bool blocking = false) {
  KernelDef k;
  k.op = std::move(op);
  k.device = DeviceType::kCPU;
  k.dtypes = std::move(dtypes);
  k.fn = std::move(fn);
  k.inexpensive = inexpensive;
  k.blocking = blocking;
  kernels->Register(std::move(k));
}

// The int64 values of an integer tensor (int32 or int64).
inline absl::StatusOr<std::vector<int64_t>> IntValues(const Tensor& t) {
  std::vector<int64_t> v;
  if (t.dtype() == DType::kInt32) {
    for (int64_t i = 0; i < t.NumElements(); ++i) v.push_back(t.data<int32_t>()[i]);
  } else if (t.dtype() == DType::kInt64) {
    for (int64_t i = 0; i < t.NumElements(); ++i) v.push_back(t.data<int64_t>()[i]);
  } else {
    return absl::InvalidArgumentError("expected an int32 or int64 tensor");
  }
  return v;
}

// A StridedSlice node's spec from its attributes (the op, its kernel and
// its gradient read them the same way).
inline StridedSliceSpec StridedSliceSpecOf(const AttrMap& a) {
  StridedSliceSpec s;
  auto get = [&](const char* k) -> const AttrValue* {
    auto it = a.find(k);
    return it == a.end() ? nullptr : &it->second;
  };
  if (auto* v = get("begin")) s.begin = std::get<std::vector<int64_t>>(*v);
  if (auto* v = get("end")) s.end = std::get<std::vector<int64_t>>(*v);
  if (auto* v = get("strides")) s.strides = std::get<std::vector<int64_t>>(*v);
  if (auto* v = get("begin_mask")) s.begin_mask = std::get<int64_t>(*v);
  if (auto* v = get("end_mask")) s.end_mask = std::get<int64_t>(*v);
  if (auto* v = get("shrink_axis_mask")) s.shrink_axis_mask = std::get<int64_t>(*v);
  return s;
}

// The op files' registration functions, called once by the registries.
void RegisterArrayOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterMathOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterNnOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterRandomOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterStateOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterLoggingOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterQueueOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterParsingOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterIoOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterManipOps(OpRegistry* ops, KernelRegistry* kernels);
void RegisterControlFlowOps(OpRegistry* ops, KernelRegistry* kernels);
#if SLUICE_GRAPH_WITH_IMAGE
void RegisterImageOps(OpRegistry* ops, KernelRegistry* kernels);
#endif

}  // namespace sluice::internal
