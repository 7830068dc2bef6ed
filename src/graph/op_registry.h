#pragma once
// OpRegistry: every op type the graph knows, with its shape function
// (TensorFlow's REGISTER_OP). Graph::AddNode refuses unregistered ops and
// runs the shape function to type and shape the node's outputs.
//
// Registering: call OpRegistry::Global()->Register(OpDef{...}) from code
// that runs before the op is used (the built-in ops register themselves the
// first time Global() is called, so the linker can never drop them).
// Thread-safe.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "graph/graph.h"

namespace sluice {

// What a shape function sees: the node-to-be's input types and shapes and
// its attributes; it sets one (dtype, shape) per output.
class InferenceContext {
 public:
  InferenceContext(std::string_view node_name, const std::vector<Output>& inputs,
                   const AttrMap& attrs)
      : node_name_(node_name), inputs_(inputs), attrs_(attrs) {}

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  DType input_dtype(int i) const { return inputs_[i].dtype(); }
  const TensorShape& input_shape(int i) const { return inputs_[i].shape(); }
  bool input_rank_known(int i) const { return inputs_[i].rank_known(); }
  // The node producing input i.
  const Node* input_node(int i) const { return inputs_[i].node(); }
  // The value of input i when it is produced by a Const node, else null
  // (shape functions of Reshape, Fill, ... use it).
  const Tensor* input_constant(int i) const;
  const AttrMap& attrs() const { return attrs_; }
  std::string_view node_name() const { return node_name_; }

  template <typename T>
  const T* attr(std::string_view name) const {
    auto it = attrs_.find(name);
    return it == attrs_.end() ? nullptr : std::get_if<T>(&it->second);
  }
  // InvalidArgument when absent or of another type.
  template <typename T>
  absl::StatusOr<T> GetAttr(std::string_view name) const {
    const T* v = attr<T>(name);
    if (v == nullptr) return MissingAttr(name);
    return *v;
  }

  void set_output(int i, DType dtype, TensorShape shape, bool rank_known = true);
  void set_unknown_output(int i, DType dtype) { set_output(i, dtype, TensorShape(), false); }

  // Helpers for common checks (InvalidArgument naming the node).
  absl::Status ExpectNumInputs(int n) const;
  absl::Status ExpectSameDType(int i, int j) const;
  absl::Status Error(std::string_view message) const;

  const std::vector<DType>& output_dtypes() const { return dtypes_; }
  const std::vector<TensorShape>& output_shapes() const { return shapes_; }
  const std::vector<bool>& output_rank_known() const { return rank_known_; }

 private:
  absl::Status MissingAttr(std::string_view name) const;

  std::string_view node_name_;
  const std::vector<Output>& inputs_;
  const AttrMap& attrs_;
  std::vector<DType> dtypes_;
  std::vector<TensorShape> shapes_;
  std::vector<bool> rank_known_;
};

using ShapeFn = std::function<absl::Status(InferenceContext*)>;

struct OpDef {
  std::string name;
  ShapeFn shape_fn;
  // Stateful ops (variables, queues, random, print) are never assumed pure.
  bool stateful = false;
  // Inputs that receive a variable reference instead of its value
  // (Assign's input 0): the session hands the kernel the variable itself.
  std::vector<int> ref_inputs;
  // Output 0 is a variable reference (VariableV2): consumers read the
  // variable's value when they run, and a fetch reads it when the run ends.
  bool ref_output = false;
};

class OpRegistry {
 public:
  // The process-wide registry, with the built-in ops registered.
  static OpRegistry* Global();

  // AlreadyExists when the name is taken.
  absl::Status Register(OpDef def) ABSL_LOCKS_EXCLUDED(mu_);
  // Null when unknown. The pointer stays valid for the process lifetime.
  const OpDef* Find(std::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> OpNames() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<OpDef>> ops_ ABSL_GUARDED_BY(mu_);
};

// Shape-function helpers shared by the op files.
namespace shape_fns {
// Output 0 = input 0's dtype and shape.
absl::Status UnchangedShape(InferenceContext* c);
// No outputs.
absl::Status NoOutputs(InferenceContext* c);
// Broadcast of inputs 0 and 1; output dtype = input 0's (bool when
// `boolean`).
absl::Status BroadcastBinary(InferenceContext* c, bool boolean);
}  // namespace shape_fns

}  // namespace sluice
