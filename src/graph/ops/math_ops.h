#pragma once
// Math op builders: element-wise arithmetic with broadcasting, comparisons,
// unary functions, matmul, reductions, argmax, add_n. Default node names
// follow TensorFlow's ("Add", "Mul", "truediv", "MatMul", "Sum").
// Literal operands take the other operand's dtype (see input.h). Errors go
// to the scope's status.

#include <cstdint>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"

namespace sluice::ops {

Output Add(const Scope& scope, const Input& x, const Input& y);
Output Sub(const Scope& scope, const Input& x, const Input& y);
Output Mul(const Scope& scope, const Input& x, const Input& y);
inline Output Multiply(const Scope& s, const Input& x, const Input& y) { return Mul(s, x, y); }
inline Output Subtract(const Scope& s, const Input& x, const Input& y) { return Sub(s, x, y); }
// x / y (RealDiv; integer inputs divide with truncation).
Output Div(const Scope& scope, const Input& x, const Input& y);
inline Output Divide(const Scope& s, const Input& x, const Input& y) { return Div(s, x, y); }
Output Pow(const Scope& scope, const Input& x, const Input& y);
Output Maximum(const Scope& scope, const Input& x, const Input& y);
Output Minimum(const Scope& scope, const Input& x, const Input& y);
Output SquaredDifference(const Scope& scope, const Input& x, const Input& y);
Output Equal(const Scope& scope, const Input& x, const Input& y);
Output NotEqual(const Scope& scope, const Input& x, const Input& y);
Output Less(const Scope& scope, const Input& x, const Input& y);
Output LessEqual(const Scope& scope, const Input& x, const Input& y);
Output Greater(const Scope& scope, const Input& x, const Input& y);
Output GreaterEqual(const Scope& scope, const Input& x, const Input& y);
Output LogicalAnd(const Scope& scope, const Input& x, const Input& y);
Output LogicalOr(const Scope& scope, const Input& x, const Input& y);
// Gradient helpers (TensorFlow's ops of the same names).
Output ReluGrad(const Scope& scope, const Input& gradients, const Input& features);
Output SigmoidGrad(const Scope& scope, const Input& y, const Input& dy);
Output TanhGrad(const Scope& scope, const Input& y, const Input& dy);

Output Neg(const Scope& scope, const Input& x);
Output Exp(const Scope& scope, const Input& x);
Output Log(const Scope& scope, const Input& x);
Output Sqrt(const Scope& scope, const Input& x);
Output Rsqrt(const Scope& scope, const Input& x);
Output Square(const Scope& scope, const Input& x);
Output Abs(const Scope& scope, const Input& x);
Output Sign(const Scope& scope, const Input& x);
Output Reciprocal(const Scope& scope, const Input& x);
Output Floor(const Scope& scope, const Input& x);
Output Ceil(const Scope& scope, const Input& x);
Output LogicalNot(const Scope& scope, const Input& x);

struct MatMulOptions {
  bool transpose_a = false;
  bool transpose_b = false;
};
Output MatMul(const Scope& scope, const Input& a, const Input& b, MatMulOptions options = {});

// Reductions over `axes` (nullopt: all axes, Python's axis=None).
struct ReduceOptions {
  bool keep_dims = false;
};
Output ReduceSum(const Scope& scope, const Input& x, std::optional<std::vector<int64_t>> axes = std::nullopt,
                 ReduceOptions options = {});
Output ReduceMean(const Scope& scope, const Input& x, std::optional<std::vector<int64_t>> axes = std::nullopt,
                  ReduceOptions options = {});
Output ReduceMax(const Scope& scope, const Input& x, std::optional<std::vector<int64_t>> axes = std::nullopt,
                 ReduceOptions options = {});
Output ReduceMin(const Scope& scope, const Input& x, std::optional<std::vector<int64_t>> axes = std::nullopt,
                 ReduceOptions options = {});
Output ReduceProd(const Scope& scope, const Input& x, std::optional<std::vector<int64_t>> axes = std::nullopt,
                  ReduceOptions options = {});
// int64 indices along `axis`.
Output ArgMax(const Scope& scope, const Input& x, int64_t axis);
Output ArgMin(const Scope& scope, const Input& x, int64_t axis);
Output AddN(const Scope& scope, const std::vector<Input>& inputs);

}  // namespace sluice::ops
