#pragma once
// Graph: a dataflow graph of Nodes (operations) with typed, shaped outputs,
// control dependencies and collections (TensorFlow 1.x's tf.Graph).
//
// Nodes are immutable once added and live as long as their Graph; Output and
// Operation are small handles (a Node* and an index) that stay valid while
// the graph lives. Nodes of different graphs never connect: AddNode rejects
// such an input with InvalidArgument naming both graphs.
//
// Names follow TensorFlow: node names are unique within a graph (UniqueName
// appends _1, _2, ... as Graph.unique_name does) and an output is named
// "<node>:<index>" ("op1/weight:0").
//
// Thread-safe: building (AddNode, UniqueName, collections) is serialised by
// an internal mutex, and Sessions may run while another thread adds nodes;
// a Node's fields never change after AddNode returns.

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"

namespace sluice {

class Graph;
class Node;
class Operation;
class Session;
struct OpDef;

// Node attributes (TensorFlow's AttrValue, without the protobuf).
using AttrValue =
    std::variant<int64_t, double, bool, std::string, DType, TensorShape, Tensor,
                 std::vector<int64_t>, std::vector<DType>, std::vector<TensorShape>,
                 std::vector<std::string>>;
using AttrMap = std::map<std::string, AttrValue, std::less<>>;

// One output of a node. A default-constructed Output is invalid (the result
// of an op builder that failed; the error is in the Scope's status).
class Output {
 public:
  Output() = default;
  Output(Node* node, int index = 0) : node_(node), index_(index) {}

  Node* node() const { return node_; }
  int index() const { return index_; }
  bool valid() const { return node_ != nullptr; }
  Operation op() const;
  Graph* graph() const;
  DType dtype() const;
  // Inferred static shape; -1 dims are unknown. See rank_known().
  const TensorShape& shape() const;
  bool rank_known() const;
  // "<node name>:<index>".
  std::string name() const;
  // tensor.eval(feed_dict, session): this output's value from one run of
  // `session`, or of the default session (default_session.h) when null.
  // FailedPrecondition when there is none; InvalidArgument when the
  // session runs another graph; otherwise the run's error.
  absl::StatusOr<Tensor> Eval(const std::vector<std::pair<Output, Tensor>>& feeds = {},
                              Session* session = nullptr) const;

  friend bool operator==(const Output& a, const Output& b) {
    return a.node_ == b.node_ && a.index_ == b.index_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Output& o) {
    return H::combine(std::move(h), o.node_, o.index_);
  }

 private:
  Node* node_ = nullptr;
  int index_ = 0;
};

// A node as a user handles it (TensorFlow's Operation). Session targets are
// Operations.
class Operation {
 public:
  Operation() = default;
  explicit Operation(Node* node) : node_(node) {}
  Node* node() const { return node_; }
  bool valid() const { return node_ != nullptr; }
  const std::string& name() const;
  const std::string& type() const;
  Graph* graph() const;
  int num_inputs() const;
  Output input(int i) const;
  int num_outputs() const;
  Output output(int i) const { return Output(node_, i); }
  // op.run(feed_dict, session): runs this op as the target of one run of
  // `session` or the default session (errors as Output::Eval).
  absl::Status Run(const std::vector<std::pair<Output, Tensor>>& feeds = {},
                   Session* session = nullptr) const;
  friend bool operator==(const Operation& a, const Operation& b) { return a.node_ == b.node_; }

 private:
  Node* node_ = nullptr;
};

// What AddNode needs. `name` must not be in use (see Graph::UniqueName).
struct NodeSpec {
  std::string op;
  std::string name;
  std::vector<Output> inputs;
  std::vector<Node*> control_inputs;
  AttrMap attrs;
  // Requested device ("/cpu:0", "/device:GPU:0", ""): see device.h.
  std::string device;
};

class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  Graph* graph() const { return graph_; }
  const OpDef& op_def() const { return *op_def_; }
  const std::vector<Output>& inputs() const { return inputs_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const Output& input(int i) const { return inputs_[i]; }
  const std::vector<Node*>& control_inputs() const { return control_inputs_; }
  int num_outputs() const { return static_cast<int>(output_dtypes_.size()); }
  DType output_dtype(int i) const { return output_dtypes_[i]; }
  const TensorShape& output_shape(int i) const { return output_shapes_[i]; }
  bool output_rank_known(int i) const { return output_rank_known_[i]; }
  const std::string& requested_device() const { return device_; }
  const AttrMap& attrs() const { return attrs_; }

  // The attribute `name` if present with type T, else null.
  template <typename T>
  const T* attr(std::string_view name) const {
    auto it = attrs_.find(name);
    if (it == attrs_.end()) return nullptr;
    return std::get_if<T>(&it->second);
  }
  // InvalidArgument naming the node and attribute when absent or mistyped.
  template <typename T>
  absl::StatusOr<T> GetAttr(std::string_view name) const {
    const T* v = attr<T>(name);
    if (v == nullptr) return MissingAttr(name);
    return *v;
  }

 private:
  friend class Graph;
  Node() = default;
  absl::Status MissingAttr(std::string_view name) const;

  int id_ = 0;
  std::string name_;
  std::string type_;
  Graph* graph_ = nullptr;
  const OpDef* op_def_ = nullptr;
  std::vector<Output> inputs_;
  std::vector<Node*> control_inputs_;
  std::vector<DType> output_dtypes_;
  std::vector<TensorShape> output_shapes_;
  std::vector<bool> output_rank_known_;
  std::string device_;
  AttrMap attrs_;
};

// A variable as the graph records it; Variable (variables.h) is the handle
// users hold. The Saver walks GLOBAL_VARIABLES for these.
struct VariableRecord {
  std::string name;               // "op1/weight" (the VariableV2 node's name)
  Node* var = nullptr;            // VariableV2 node; output 0 is the reference
  Node* initializer = nullptr;    // Assign node that stores the initial value
  Output initial_value;
  DType dtype = DType::kFloat32;
  TensorShape shape;              // declared shape (-1 dims when not validated)
  bool trainable = true;
  bool validate_shape = true;
};

// One QUEUE_RUNNERS entry: the enqueue ops one thread each runs in a loop,
// and the ops that close the queue (StartQueueRunners, queue_ops.h).
struct QueueRunnerSpec {
  Output queue;                       // the queue op's handle output
  std::vector<Operation> enqueue_ops;  // one loop thread per entry
  Operation close_op;                 // QueueClose(cancel_pending_enqueues=false)
  Operation cancel_op;                // QueueClose(cancel_pending_enqueues=true)
};

// TensorFlow's GraphKeys spellings.
inline constexpr char kGlobalVariablesKey[] = "variables";
inline constexpr char kTrainableVariablesKey[] = "trainable_variables";
inline constexpr char kLocalVariablesKey[] = "local_variables";
inline constexpr char kSummariesKey[] = "summaries";
inline constexpr char kQueueRunnersKey[] = "queue_runners";
inline constexpr char kTrainOpKey[] = "train_op";

using CollectionItem = std::variant<Output, Operation, const VariableRecord*, QueueRunnerSpec>;

class Graph {
 public:
  // `name` identifies the graph in error messages; empty picks "graph_<n>".
  explicit Graph(std::string name = {});
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  const std::string& name() const { return name_; }

  // Validates and adds a node: the op must be registered, every input and
  // control input must be a node of this graph (InvalidArgument naming both
  // graphs otherwise), the name must be unused, and the op's shape function
  // must accept the inputs (its error, prefixed with the node name).
  absl::StatusOr<Node*> AddNode(NodeSpec spec) ABSL_LOCKS_EXCLUDED(mu_);

  // TensorFlow's Graph.unique_name: `name` if unused, else name_1, name_2,
  // ...; the result is marked used (scope names share the namespace).
  std::string UniqueName(std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  bool IsNameUsed(std::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);

  Node* FindNode(std::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);
  // "name:0" (or "name", meaning output 0). NotFound when absent.
  absl::StatusOr<Output> GetTensorByName(std::string_view name) const;
  int num_nodes() const ABSL_LOCKS_EXCLUDED(mu_);
  Node* node(int id) const ABSL_LOCKS_EXCLUDED(mu_);

  // Variables, for GetVariable's store and the collections. The record
  // lives as long as the graph.
  const VariableRecord* AddVariable(VariableRecord r) ABSL_LOCKS_EXCLUDED(mu_);
  // By VariableRecord::name; null when absent.
  const VariableRecord* FindVariable(std::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);

  void AddToCollection(std::string_view key, CollectionItem item) ABSL_LOCKS_EXCLUDED(mu_);
  // A copy of the collection (empty when absent), in insertion order.
  std::vector<CollectionItem> GetCollection(std::string_view key) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> CollectionKeys() const ABSL_LOCKS_EXCLUDED(mu_);

  // Graph-level random seed (tf.set_random_seed). Ops without their own
  // seed then get a deterministic one derived from it.
  void set_seed(std::optional<int64_t> seed) ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<int64_t> seed() const ABSL_LOCKS_EXCLUDED(mu_);
  // A fresh per-op seed: (graph seed, op counter), TensorFlow's rule.
  int64_t NextOpSeed() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::string name_;
  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<Node>> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Node*> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> used_names_ ABSL_GUARDED_BY(mu_);
  std::deque<VariableRecord> variables_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, const VariableRecord*> variables_by_name_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<CollectionItem>, std::less<>> collections_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> seed_ ABSL_GUARDED_BY(mu_);
  int64_t op_seed_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
