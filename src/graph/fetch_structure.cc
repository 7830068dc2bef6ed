#include "graph/fetch_structure.h"

#include "absl/container/flat_hash_map.h"

namespace sluice {

Fetch Fetch::List(std::vector<Fetch> items) {
  Fetch f(Kind::kList);
  f.list_ = std::move(items);
  return f;
}

Fetch Fetch::Map(std::map<std::string, Fetch> items) {
  Fetch f(Kind::kMap);
  f.map_ = std::move(items);
  return f;
}

// Flattens a Fetch into unique tensors and ops, then rebuilds the result.
class FetchBuilder {
 public:
  absl::Status Flatten(const Fetch& f) {
    switch (f.kind()) {
      case Fetch::Kind::kTensor:
        if (!f.tensor().valid())
          return absl::InvalidArgumentError(
              "RunStructured: invalid tensor in fetch");
        if (index_.emplace(f.tensor(), tensors_.size()).second)
          tensors_.push_back(f.tensor());
        return absl::OkStatus();
      case Fetch::Kind::kOp:
        if (!f.op().valid())
          return absl::InvalidArgumentError(
              "RunStructured: invalid op in fetch");
        ops_.push_back(f.op());
        return absl::OkStatus();
      case Fetch::Kind::kList:
        for (const Fetch& c : f.list()) SLUICE_RETURN_IF_ERROR(Flatten(c));
        return absl::OkStatus();
      case Fetch::Kind::kMap:
        for (const auto& [k, c] : f.map()) SLUICE_RETURN_IF_ERROR(Flatten(c));
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  FetchResult Build(const Fetch& f, const std::vector<Tensor>& values) const {
    FetchResult r;
    r.kind_ = f.kind();
    switch (f.kind()) {
      case Fetch::Kind::kTensor:
        r.tensor_ = values[index_.at(f.tensor())];
        break;
      case Fetch::Kind::kOp:
        break;
      case Fetch::Kind::kList:
        for (const Fetch& c : f.list()) r.list_.push_back(Build(c, values));
        break;
      case Fetch::Kind::kMap:
        for (const auto& [k, c] : f.map()) r.map_.emplace(k, Build(c, values));
        break;
    }
    return r;
  }

  const std::vector<Output>& tensors() const { return tensors_; }
  const std::vector<Operation>& ops() const { return ops_; }

 private:
  std::vector<Output> tensors_;
  std::vector<Operation> ops_;
  absl::flat_hash_map<Output, size_t> index_;
};

absl::StatusOr<FetchResult> RunStructured(Session* session,
                                          const FeedList& feeds,
                                          const Fetch& fetch,
                                          const RunOptions& options) {
  FetchBuilder b;
  SLUICE_RETURN_IF_ERROR(b.Flatten(fetch));
  std::vector<Tensor> values;
  SLUICE_RETURN_IF_ERROR(
      session->Run(options, feeds, b.tensors(), b.ops(), &values));
  return b.Build(fetch, values);
}

}  // namespace sluice
