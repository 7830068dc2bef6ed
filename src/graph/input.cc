#include "graph/input.h"

#include "graph/scope.h"
#include "graph/variables.h"
#include "kernels/cwise_ops.h"

namespace sluice {

namespace {
template <typename T, typename U>
Tensor Vec(std::initializer_list<U> v) {
  std::vector<T> vals(v.begin(), v.end());
  return Tensor::FromVector<T>(absl::Span<const T>(vals), TensorShape{static_cast<int64_t>(vals.size())});
}
template <typename T, typename U>
Tensor Mat(std::initializer_list<std::initializer_list<U>> v) {
  std::vector<T> vals;
  int64_t cols = v.size() == 0 ? 0 : static_cast<int64_t>(v.begin()->size());
  for (const auto& row : v) {
    // Ragged rows are a caller bug; pad/truncate would hide it.
    assert(static_cast<int64_t>(row.size()) == cols);
    vals.insert(vals.end(), row.begin(), row.end());
  }
  return Tensor::FromVector<T>(absl::Span<const T>(vals),
                               TensorShape{static_cast<int64_t>(v.size()), cols});
}
}  // namespace

Input::Input(const Variable& v) : output_(v.valid() ? v.value() : Output()) {}
Input::Input(std::initializer_list<float> v) : Input(Vec<float>(v), true) {}
Input::Input(std::initializer_list<double> v) : Input(Vec<float>(v), true) {}
Input::Input(std::initializer_list<int> v) : Input(Vec<int32_t>(v), true) {}
Input::Input(std::initializer_list<std::initializer_list<float>> v) : Input(Mat<float>(v), true) {}
Input::Input(std::initializer_list<std::initializer_list<int>> v) : Input(Mat<int32_t>(v), true) {}

DType Input::dtype() const {
  if (is_literal_) return literal_.dtype();
  return output_.valid() ? output_.dtype() : DType::kFloat32;
}

Output Input::ToOutput(const Scope& scope, std::optional<DType> hint) const {
  if (!is_literal_) return output_;
  Tensor value = literal_;
  if (flexible_ && hint.has_value() && *hint != value.dtype()) {
    const bool int_to_any = value.dtype() == DType::kInt32 && *hint != DType::kString &&
                            *hint != DType::kBool;
    const bool float_to_double = value.dtype() == DType::kFloat32 && *hint == DType::kFloat64;
    if (int_to_any || float_to_double) {
      Tensor converted;
      if (Cast(value, *hint, &converted).ok()) value = converted;
    }
  }
  Node* n = scope.WithOpName("Const").AddNode("Const", "Const", {},
                          {{"value", value}, {"dtype", value.dtype()}});
  return Output(n, 0);
}

}  // namespace sluice
