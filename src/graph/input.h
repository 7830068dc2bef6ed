#pragma once
// Input: what op builders accept for a tensor argument: an Output, a
// Variable, or a literal (number, string, initializer list, Tensor) that
// becomes a Const node when the op is built, as Python converts arguments
// with convert_to_tensor.
//
// Literal numbers are "flexible": an int literal next to a float tensor
// becomes float (tf.add(x, 1) with float x), and a float literal takes the
// other operand's floating type. Without a hint, ints are int32 and floats
// float32, as in TensorFlow.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace sluice {

class Scope;
class Variable;

class Input {
 public:
  Input(const Output& o) : output_(o) {}
  Input(const Variable& v);
  Input(const Tensor& t) : literal_(t), is_literal_(true) {}
  Input(float v) : Input(Tensor::Scalar<float>(v), true) {}
  Input(double v) : Input(Tensor::Scalar<float>(static_cast<float>(v)), true) {}
  Input(int v) : Input(Tensor::Scalar<int32_t>(v), true) {}
  Input(int64_t v) : Input(Tensor::Scalar<int64_t>(v), false) {}
  Input(bool v) : Input(Tensor::Scalar<bool>(v), false) {}
  Input(const char* s) : Input(Tensor::StringScalar(s), false) {}
  Input(const std::string& s) : Input(Tensor::StringScalar(s), false) {}
  Input(std::initializer_list<float> v);
  Input(std::initializer_list<double> v);
  Input(std::initializer_list<int> v);
  Input(std::initializer_list<std::initializer_list<float>> v);
  Input(std::initializer_list<std::initializer_list<int>> v);

  bool is_literal() const { return is_literal_; }
  const Output& output() const { return output_; }
  const Tensor& literal() const { return literal_; }

  // The dtype this input will have when given no hint (literal or not).
  DType dtype() const;
  // The Output for this input: itself, or a new Const node built in
  // `scope` (named "Const"). A flexible literal is converted to `hint`
  // when the conversion is exact enough (int -> float, float -> double).
  Output ToOutput(const Scope& scope, std::optional<DType> hint = std::nullopt) const;

 private:
  Input(Tensor t, bool flexible) : literal_(std::move(t)), is_literal_(true), flexible_(flexible) {}

  Output output_;
  Tensor literal_;
  bool is_literal_ = false;
  bool flexible_ = false;
};

using InputList = std::vector<Input>;

}  // namespace sluice
