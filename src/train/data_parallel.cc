#include "train/data_parallel.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/ops/ops.h"

namespace sluice::train {

absl::StatusOr<DataParallelGraph> BuildDataParallelGraph(const Scope& scope, Optimizer* opt,
                                                         const Output& loss,
                                                         const std::vector<Variable>& vars,
                                                         std::optional<Variable> global_step) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<GradAndVar> gv, opt->ComputeGradients(scope, loss, vars));
  DataParallelGraph g;
  std::vector<GradAndVar> fed;
  for (size_t i = 0; i < gv.size(); ++i) {
    if (!gv[i].first.valid()) continue;
    const TensorShape shape = gv[i].second.shape();
    Output ph = ops::Placeholder(scope.WithOpName(absl::StrCat("allreduced_gradient_", i)),
                                 DType::kFloat32, shape);
    g.grads.push_back(gv[i].first);
    g.grad_feeds.push_back(ph);
    g.shapes.push_back(shape);
    // The optimizer gates its updates on its gradients' ops; an Identity
    // keeps that control edge off the fed placeholder (a session would
    // otherwise want the placeholder itself run).
    fed.emplace_back(ops::Identity(scope, ph), gv[i].second);
  }
  SLUICE_RETURN_IF_ERROR(scope.status());
  SLUICE_ASSIGN_OR_RETURN(g.apply, opt->ApplyGradients(scope, fed, global_step));
  return g;
}

absl::StatusOr<distributed::StepAgreement> DataParallelStep::Step(
    const FeedList* feeds, int64_t samples, const std::vector<Output>& fetches, bool stop,
    std::vector<Tensor>* out) {
  std::vector<Tensor> grads;
  if (feeds != nullptr) {
    std::vector<Output> f = graph_.grads;
    f.insert(f.end(), fetches.begin(), fetches.end());
    std::vector<Tensor> values;
    SLUICE_RETURN_IF_ERROR(session_->Run(*feeds, f, &values));
    grads.assign(values.begin(), values.begin() + graph_.grads.size());
    out->assign(values.begin() + graph_.grads.size(), values.end());
  } else {
    for (const TensorShape& s : graph_.shapes) grads.push_back(Tensor::Zeros(DType::kFloat32, s));
    out->clear();
  }
  const auto t0 = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(distributed::StepAgreement a,
                          reducer_.Average(&grads, samples, stop,
                                           absl::StrCat("allreduce of step ", steps_ + 1)));
  comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.total_samples == 0) return a;  // every rank is out of data
  FeedList apply;
  for (size_t i = 0; i < grads.size(); ++i) apply.emplace_back(graph_.grad_feeds[i], grads[i]);
  SLUICE_RETURN_IF_ERROR(session_->Run(apply, {}, {graph_.apply}, nullptr));
  ++steps_;
  return a;
}

}  // namespace sluice::train
