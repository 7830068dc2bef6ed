#include "graph/op_registry.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "kernels/cwise_ops.h"

namespace sluice {

const Tensor* InferenceContext::input_constant(int i) const {
  const Node* n = inputs_[i].node();
  if (n == nullptr || n->type() != "Const") return nullptr;
  return n->attr<Tensor>("value");
}

void InferenceContext::set_output(int i, DType dtype, TensorShape shape, bool rank_known) {
  if (static_cast<int>(dtypes_.size()) <= i) {
    dtypes_.resize(i + 1, DType::kFloat32);
    shapes_.resize(i + 1);
    rank_known_.resize(i + 1, false);
  }
  dtypes_[i] = dtype;
  shapes_[i] = std::move(shape);
  rank_known_[i] = rank_known;
}

absl::Status InferenceContext::ExpectNumInputs(int n) const {
  if (num_inputs() != n) {
    return Error(absl::StrCat("expected ", n, " inputs, got ", num_inputs()));
  }
  return absl::OkStatus();
}

absl::Status InferenceContext::ExpectSameDType(int i, int j) const {
  if (input_dtype(i) != input_dtype(j)) {
    return Error(absl::StrCat("inputs ", i, " and ", j, " must have one dtype, got ",
                              Sv(DTypeName(input_dtype(i))), " and ",
                              Sv(DTypeName(input_dtype(j)))));
  }
  return absl::OkStatus();
}

absl::Status InferenceContext::Error(std::string_view message) const {
  return absl::InvalidArgumentError(std::string(message));
}

absl::Status InferenceContext::MissingAttr(std::string_view name) const {
  return absl::InvalidArgumentError(
      absl::StrCat("missing or mistyped attribute '", Sv(name), "'"));
}

absl::Status OpRegistry::Register(OpDef def) {
  absl::MutexLock l(&mu_);
  if (ops_.contains(def.name)) {
    return absl::AlreadyExistsError(absl::StrCat("Op '", def.name, "' is already registered"));
  }
  std::string name = def.name;
  ops_[name] = std::make_unique<OpDef>(std::move(def));
  return absl::OkStatus();
}

const OpDef* OpRegistry::Find(std::string_view name) const {
  absl::MutexLock l(&mu_);
  auto it = ops_.find(std::string(name));
  return it == ops_.end() ? nullptr : it->second.get();
}

std::vector<std::string> OpRegistry::OpNames() const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> names;
  for (const auto& [k, v] : ops_) names.push_back(k);
  return names;
}

namespace shape_fns {

absl::Status UnchangedShape(InferenceContext* c) {
  if (c->num_inputs() < 1) return c->Error("expected an input");
  c->set_output(0, c->input_dtype(0), c->input_shape(0), c->input_rank_known(0));
  return absl::OkStatus();
}

absl::Status NoOutputs(InferenceContext*) { return absl::OkStatus(); }

absl::Status BroadcastBinary(InferenceContext* c, bool boolean) {
  SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(2));
  SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(0, 1));
  const DType out = boolean ? DType::kBool : c->input_dtype(0);
  if (!c->input_rank_known(0) || !c->input_rank_known(1)) {
    c->set_unknown_output(0, out);
    return absl::OkStatus();
  }
  SLUICE_ASSIGN_OR_RETURN(TensorShape s, BroadcastShapes(c->input_shape(0), c->input_shape(1)));
  c->set_output(0, out, std::move(s));
  return absl::OkStatus();
}

}  // namespace shape_fns
}  // namespace sluice
