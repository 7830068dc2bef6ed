#include "graph/variables.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/random_ops.h"
#include "graph/ops/state_ops.h"
#include "kernels/cwise_ops.h"

namespace sluice {

namespace {

Tensor ShapeLiteral(const TensorShape& shape) {
  std::vector<int32_t> dims(shape.dims().begin(), shape.dims().end());
  return Tensor::FromVector<int32_t>(absl::Span<const int32_t>(dims),
                                     TensorShape{static_cast<int64_t>(dims.size())});
}

// Creates the VariableV2 node named exactly `name`, its Assign from
// `init`, and the record; adds it to the collections.
Variable MakeVariable(const Scope& scope, const std::string& name, const Output& init, DType dtype,
                      const TensorShape& shape, bool validate_shape, bool trainable,
                      bool local = false) {
  if (!scope.ok() || !init.valid()) return Variable();
  NodeSpec spec;
  spec.op = "VariableV2";
  spec.name = name;
  spec.attrs = {{"dtype", dtype}};
  if (validate_shape) spec.attrs["shape"] = shape;
  spec.device = scope.device();
  absl::StatusOr<Node*> var = scope.graph()->AddNode(std::move(spec));
  if (!var.ok()) {
    scope.UpdateStatus(var.status());
    return Variable();
  }
  Scope inner = scope.WithAbsoluteNameScope(name).WithNoControlDependencies();
  Output assign = ops::Assign(inner.WithOpName("Assign"), Output(*var, 0), init,
                              ops::AssignOptions{validate_shape});
  if (!assign.valid()) return Variable();
  VariableRecord r;
  r.name = name;
  r.var = *var;
  r.initializer = assign.node();
  r.initial_value = init;
  r.dtype = dtype;
  r.shape = validate_shape ? shape : TensorShape();
  r.trainable = trainable;
  r.validate_shape = validate_shape;
  const VariableRecord* rec = scope.graph()->AddVariable(std::move(r));
  if (local) {
    scope.graph()->AddToCollection(kLocalVariablesKey, rec);
    return Variable(rec);
  }
  scope.graph()->AddToCollection(kGlobalVariablesKey, rec);
  if (trainable) scope.graph()->AddToCollection(kTrainableVariablesKey, rec);
  return Variable(rec);
}

std::pair<int64_t, int64_t> Fans(const TensorShape& s) {
  if (s.rank() == 0) return {1, 1};
  if (s.rank() == 1) return {s.dim(0), s.dim(0)};
  int64_t receptive = 1;
  for (int i = 0; i + 2 < s.rank(); ++i) receptive *= s.dim(i);
  return {s.dim(s.rank() - 2) * receptive, s.dim(s.rank() - 1) * receptive};
}

std::vector<Variable> FromCollection(const Graph& graph, const char* key) {
  std::vector<Variable> out;
  for (const CollectionItem& item : graph.GetCollection(key)) {
    if (auto* r = std::get_if<const VariableRecord*>(&item)) out.emplace_back(*r);
  }
  return out;
}

}  // namespace

std::string Variable::name() const { return absl::StrCat(record_->name, ":0"); }

Variable NewVariable(const Scope& scope, const Input& initial_value, VariableOptions options) {
  if (!scope.ok()) return Variable();
  Scope vs = scope.NewSubScope(options.name.empty() ? "Variable" : options.name)
                 .WithNoControlDependencies();
  const std::string name = vs.name_scope();
  Output init;
  if (initial_value.is_literal()) {
    Tensor v = initial_value.literal();
    if (options.dtype.has_value() && *options.dtype != v.dtype()) {
      Tensor c;
      absl::Status s = Cast(v, *options.dtype, &c);
      if (!s.ok()) {
        scope.UpdateStatus(s);
        return Variable();
      }
      v = c;
    }
    if (options.shape.has_value() && options.shape->IsFullyDefined() &&
        v.NumElements() == options.shape->num_elements()) {
      v = v.Reshaped(*options.shape);
    }
    init = Output(vs.WithOpName("initial_value").AddNode("Const", "Const", {},
                                                         {{"value", v}, {"dtype", v.dtype()}}),
                  0);
  } else {
    init = initial_value.output();
    if (init.valid() && options.dtype.has_value() && *options.dtype != init.dtype()) {
      init = ops::Cast(vs, init, *options.dtype);
    }
  }
  if (!init.valid()) {
    scope.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("NewVariable ", name, ": invalid initial value")));
    return Variable();
  }
  TensorShape shape = options.shape.value_or(init.shape());
  bool validate = options.validate_shape && (options.shape.has_value() || init.rank_known());
  return MakeVariable(scope, name, init, init.dtype(), shape, validate,
                      options.trainable && !options.local, options.local);
}

Variable GetVariable(const Scope& scope, std::string_view name, const TensorShape& shape,
                     GetVariableOptions options) {
  if (!scope.ok()) return Variable();
  const std::string full = scope.variable_scope().empty()
                               ? std::string(name)
                               : absl::StrCat(scope.variable_scope(), "/", Sv(name));
  Graph* g = scope.graph();
  if (const VariableRecord* existing = g->FindVariable(full)) {
    if (scope.reuse() == VariableReuse::kInherit) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          "Variable ", full,
          " already exists, disallowed. Did you mean to set reuse=True or "
          "reuse=tf.AUTO_REUSE in VarScope?")));
      return Variable();
    }
    if (existing->dtype != options.dtype || !existing->shape.IsCompatibleWith(shape)) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          "Trying to share variable ", full, ", but specified shape ", shape.DebugString(),
          " and dtype ", Sv(DTypeName(options.dtype)), " and found shape ",
          existing->shape.DebugString(), " and dtype ", Sv(DTypeName(existing->dtype)), ".")));
      return Variable();
    }
    return Variable(existing);
  }
  if (scope.reuse() == VariableReuse::kReuse) {
    scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "Variable ", full,
        " does not exist, or was not created with tf.get_variable(). Did you mean to set "
        "reuse=tf.AUTO_REUSE in VarScope?")));
    return Variable();
  }
  if (!shape.IsFullyDefined()) {
    scope.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("Shape of a new variable (", full, ") must be fully defined, but instead was ",
                     shape.DebugString(), ".")));
    return Variable();
  }
  Initializer init_fn = options.initializer ? options.initializer : scope.variable_initializer();
  if (!init_fn) {
    init_fn = (options.dtype == DType::kFloat32 || options.dtype == DType::kFloat64)
                  ? GlorotUniformInitializer()
                  : ZerosInitializer();
  }
  const std::string var_name = g->UniqueName(full);
  Scope init_scope =
      scope.WithAbsoluteNameScope(absl::StrCat(var_name, "/Initializer")).WithNoControlDependencies();
  Output init = init_fn(init_scope, shape, options.dtype);
  if (!init.valid()) {
    scope.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("GetVariable ", full, ": the initializer failed")));
    return Variable();
  }
  return MakeVariable(scope, var_name, init, options.dtype, shape, true, options.trainable);
}

Initializer ZerosInitializer() { return ConstantInitializer(0.0); }
Initializer OnesInitializer() { return ConstantInitializer(1.0); }

Initializer ConstantInitializer(double value) {
  return [value](const Scope& s, const TensorShape& shape, DType dtype) {
    return ops::Const(s, Tensor::Scalar<double>(value), dtype, shape);
  };
}

Initializer RandomNormalInitializer(double mean, double stddev, int64_t seed) {
  return [=](const Scope& s, const TensorShape& shape, DType dtype) {
    return ops::RandomNormal(s, ShapeLiteral(shape), mean, stddev, {dtype, seed});
  };
}

Initializer TruncatedNormalInitializer(double mean, double stddev, int64_t seed) {
  return [=](const Scope& s, const TensorShape& shape, DType dtype) {
    return ops::TruncatedNormal(s, ShapeLiteral(shape), mean, stddev, {dtype, seed});
  };
}

Initializer RandomUniformInitializer(double minval, double maxval, int64_t seed) {
  return [=](const Scope& s, const TensorShape& shape, DType dtype) {
    return ops::RandomUniform(s, ShapeLiteral(shape), minval, maxval, {dtype, seed});
  };
}

Initializer GlorotUniformInitializer(int64_t seed) {
  return [=](const Scope& s, const TensorShape& shape, DType dtype) {
    auto [fan_in, fan_out] = Fans(shape);
    const double limit = std::sqrt(6.0 / std::max<double>(1.0, fan_in + fan_out));
    return ops::RandomUniform(s, ShapeLiteral(shape), -limit, limit, {dtype, seed});
  };
}

Initializer GlorotNormalInitializer(int64_t seed) {
  return [=](const Scope& s, const TensorShape& shape, DType dtype) {
    auto [fan_in, fan_out] = Fans(shape);
    // TensorFlow's truncation correction for a normal cut at two stddevs.
    const double stddev = std::sqrt(2.0 / std::max<double>(1.0, fan_in + fan_out)) /
                          0.87962566103423978;
    return ops::TruncatedNormal(s, ShapeLiteral(shape), 0.0, stddev, {dtype, seed});
  };
}

Operation VariablesInitializer(const Scope& scope, const std::vector<Variable>& vars) {
  std::vector<Operation> inits;
  for (const Variable& v : vars) {
    if (v.valid()) inits.push_back(v.initializer());
  }
  return Operation(scope.WithControlDependencies(inits).AddNode("NoOp", "init", {}));
}

Operation GlobalVariablesInitializer(const Scope& scope) {
  return VariablesInitializer(scope, GlobalVariables(*scope.graph()));
}

Operation LocalVariablesInitializer(const Scope& scope) {
  return Operation(scope.WithControlDependencies([&] {
    std::vector<Operation> inits;
    for (const Variable& v : LocalVariables(*scope.graph())) inits.push_back(v.initializer());
    return inits;
  }()).AddNode("NoOp", "init_1", {}));
}

std::vector<Variable> LocalVariables(const Graph& graph) {
  return FromCollection(graph, kLocalVariablesKey);
}

std::vector<Variable> GlobalVariables(const Graph& graph) {
  return FromCollection(graph, kGlobalVariablesKey);
}

std::vector<Variable> TrainableVariables(const Graph& graph) {
  return FromCollection(graph, kTrainableVariablesKey);
}

}  // namespace sluice
