#pragma once
// Nested fetch structures (TensorFlow's session.run fetch mapper): a fetch
// may be a tensor, an op, a list of fetches or a string-keyed map of
// fetches, nested to any depth; the result has the same structure, with a
// Tensor for each tensor and "none" for each op.
//
//   Fetch f = Fetch::Map({{"loss", loss}, {"parts", Fetch::List({a, b})},
//   {"train", train_op}}); SLUICE_ASSIGN_OR_RETURN(FetchResult r,
//   RunStructured(&sess, feeds, f)); float l =
//   r["loss"].tensor().scalar<float>();  r["parts"][1].tensor();
//   r["train"].is_none();
//
// One Session::Run serves the whole structure; a tensor fetched twice is
// run once. Errors: the run's, or InvalidArgument for an invalid leaf.
// Values, not thread-safe to mutate; RunStructured is as thread-safe as
// Session::Run.

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/session.h"

namespace sluice {

class Fetch {
 public:
  enum class Kind { kTensor, kOp, kList, kMap };
  Fetch(const Output& tensor) : kind_(Kind::kTensor), tensor_(tensor) {}
  Fetch(const Variable& var) : Fetch(var.value()) {}
  Fetch(const Operation& op) : kind_(Kind::kOp), op_(op) {}
  static Fetch List(std::vector<Fetch> items);
  static Fetch Map(std::map<std::string, Fetch> items);

  Kind kind() const { return kind_; }
  const Output& tensor() const { return tensor_; }
  const Operation& op() const { return op_; }
  const std::vector<Fetch>& list() const { return list_; }
  const std::map<std::string, Fetch>& map() const { return map_; }

 private:
  explicit Fetch(Kind k) : kind_(k) {}
  Kind kind_;
  Output tensor_;
  Operation op_;
  std::vector<Fetch> list_;
  std::map<std::string, Fetch> map_;
};

class FetchResult {
 public:
  using Kind = Fetch::Kind;
  Kind kind() const { return kind_; }
  // kOp leaves hold no value (Python's None).
  bool is_none() const { return kind_ == Kind::kOp; }
  // Requires kind() == kTensor.
  const Tensor& tensor() const { return tensor_; }
  // Requires kList / kMap (and an existing key).
  size_t size() const {
    return kind_ == Kind::kMap ? map_.size() : list_.size();
  }
  const FetchResult& operator[](size_t i) const { return list_[i]; }
  const FetchResult& operator[](const std::string& key) const {
    return map_.at(key);
  }
  const std::map<std::string, FetchResult>& map() const { return map_; }

 private:
  friend class FetchBuilder;
  Kind kind_ = Kind::kOp;
  Tensor tensor_;
  std::vector<FetchResult> list_;
  std::map<std::string, FetchResult> map_;
};

absl::StatusOr<FetchResult> RunStructured(Session* session,
                                          const FeedList& feeds,
                                          const Fetch& fetch,
                                          const RunOptions& options = {});

}  // namespace sluice
