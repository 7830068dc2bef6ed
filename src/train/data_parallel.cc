#include "train/data_parallel.h"

#include <chrono>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "graph/ops/ops.h"

namespace sluice::train {

absl::StatusOr<DataParallelGraph> BuildDataParallelGraph(
    const Scope& scope, Optimizer* opt, const Output& loss,
    const std::vector<Variable>& vars, std::optional<Variable> global_step) {
  DataParallelGraph g;
  g.weight =
      ops::PlaceholderWithDefault(scope.WithOpName("allreduce_weight"),
                                  ops::Const(scope, 1.0f), TensorShape{});
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<GradAndVar> gv,
      opt->ComputeGradients(scope, ops::Mul(scope, loss, g.weight), vars));
  std::vector<GradAndVar> fed;
  for (size_t i = 0; i < gv.size(); ++i) {
    if (!gv[i].first.valid()) continue;
    const TensorShape shape = gv[i].second.shape();
    Output ph = ops::Placeholder(
        scope.WithOpName(absl::StrCat("allreduced_gradient_", i)),
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
  SLUICE_ASSIGN_OR_RETURN(g.apply,
                          opt->ApplyGradients(scope, fed, global_step));
  return g;
}

absl::StatusOr<distributed::StepAgreement> DataParallelStep::NcclStep(
    const FeedList* feeds, int64_t samples, const std::vector<Output>& fetches, bool stop,
    std::vector<Tensor>* out) {
  const std::string what = absl::StrCat("allreduce of step ", steps_ + 1);
  const int n = static_cast<int>(graph_.grads.size());
  const auto t0 = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(distributed::StepAgreement a, nccl_->Agree(samples, stop, what));
  out->clear();
  if (a.total_samples == 0) return a;  // every rank is out of data
  std::vector<Tensor> grads;           // empty: this rank brings zeros
  std::vector<Tensor> rest;
  if (feeds != nullptr) {
    FeedList weighted = *feeds;
    weighted.emplace_back(graph_.weight,
                          Tensor::Scalar<float>(static_cast<float>(samples) /
                                                static_cast<float>(a.total_samples)));
    std::vector<Output> f = graph_.grads;
    f.insert(f.end(), fetches.begin(), fetches.end());
    RunOptions ro;
    ro.fetch_device_tensors = true;
    std::vector<Tensor> values;
    SLUICE_RETURN_IF_ERROR(session_->Run(ro, weighted, f, {}, &values));
    grads.assign(std::make_move_iterator(values.begin()),
                 std::make_move_iterator(values.begin() + n));
    rest.assign(std::make_move_iterator(values.begin() + n), std::make_move_iterator(values.end()));
  }
  SLUICE_RETURN_IF_ERROR(nccl_->Sum(graph_.shapes, &grads, what));
  comm_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The GPU has finished the step: these copies do not wait long.
  for (Tensor& t : rest) {
    SLUICE_ASSIGN_OR_RETURN(Tensor host, nccl_->gpu()->CopyToHost(t));
    out->push_back(std::move(host));
  }
  FeedList apply;
  for (int i = 0; i < n; ++i) apply.emplace_back(graph_.grad_feeds[i], std::move(grads[i]));
  SLUICE_RETURN_IF_ERROR(session_->Run(apply, {}, {graph_.apply}, nullptr));
  ++steps_;
  return a;
}

absl::StatusOr<distributed::StepAgreement> DataParallelStep::Step(
    const FeedList* feeds, int64_t samples, const std::vector<Output>& fetches,
    bool stop, std::vector<Tensor>* out) {
  if (nccl_ != nullptr) return NcclStep(feeds, samples, fetches, stop, out);
  const std::string what = absl::StrCat("allreduce of step ", steps_ + 1);
  const int n = static_cast<int>(graph_.grads.size());
  const int64_t expected = options_.batch_size * world_->size();
  std::vector<Tensor> grads;  // in variable order
  distributed::StepAgreement a;
  if (expected <= 0) {
    // Unknown batch: gradients are means, averaged after the run.
    if (feeds != nullptr) {
      std::vector<Output> f = graph_.grads;
      f.insert(f.end(), fetches.begin(), fetches.end());
      std::vector<Tensor> values;
      SLUICE_RETURN_IF_ERROR(session_->Run(*feeds, f, &values));
      grads.assign(std::make_move_iterator(values.begin()),
                   std::make_move_iterator(values.begin() + n));
      out->assign(values.begin() + n, values.end());
    } else {
      for (const TensorShape& s : graph_.shapes)
        grads.push_back(Tensor::Zeros(DType::kFloat32, s));
      out->clear();
    }
    const auto t0 = std::chrono::steady_clock::now();
    SLUICE_ASSIGN_OR_RETURN(a, reducer_.Average(&grads, samples, stop, what));
    comm_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    copy_seconds_ += reducer_.last_copy_seconds();
  } else {
    // Pre-weighted gradients, in the order the backward pass makes them:
    // arena slot j holds gradient n-1-j.
    std::vector<TensorShape> shapes(graph_.shapes.rbegin(),
                                    graph_.shapes.rend());
    std::vector<Tensor> rev(n);
    if (feeds != nullptr) {
      FeedList weighted = *feeds;
      weighted.emplace_back(
          graph_.weight, Tensor::Scalar<float>(static_cast<float>(samples) /
                                               static_cast<float>(expected)));
      std::vector<Output> f(graph_.grads.rbegin(), graph_.grads.rend());
      f.insert(f.end(), fetches.begin(), fetches.end());
      RunOptions ro;
      if (options_.overlap) {
        SLUICE_RETURN_IF_ERROR(reducer_.Begin(shapes, samples, stop, what));
        ro.fetch_ready = [this, n](int k, const Tensor& t) {
          if (k < n) reducer_.StageReady(k, t);
        };
      }
      std::vector<Tensor> values;
      absl::Status st = session_->Run(ro, weighted, f, {}, &values);
      if (!st.ok()) {
        // The other ranks wait in this step's allreduce: the job must end.
        if (options_.overlap) (void)reducer_.Finish(&rev, expected, nullptr);
        return st;
      }
      for (int j = 0; j < n; ++j) rev[j] = std::move(values[j]);
      out->assign(values.begin() + n, values.end());
    } else {
      if (zeros_.empty()) {
        for (const TensorShape& s : shapes)
          zeros_.push_back(Tensor::Zeros(DType::kFloat32, s));
      }
      rev = zeros_;
      out->clear();
      if (options_.overlap)
        SLUICE_RETURN_IF_ERROR(reducer_.Begin(shapes, samples, stop, what));
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (options_.overlap) {
      double wait = 0;
      SLUICE_ASSIGN_OR_RETURN(a, reducer_.Finish(&rev, expected, &wait));
    } else {
      SLUICE_ASSIGN_OR_RETURN(
          a, reducer_.SumWeighted(&rev, samples, stop, expected, what));
    }
    comm_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    copy_seconds_ += reducer_.last_copy_seconds();
    grads.assign(rev.rbegin(), rev.rend());
  }
  if (a.total_samples == 0) return a;  // every rank is out of data
  FeedList apply;
  for (int i = 0; i < n; ++i)
    apply.emplace_back(graph_.grad_feeds[i], std::move(grads[i]));
  SLUICE_RETURN_IF_ERROR(session_->Run(apply, {}, {graph_.apply}, nullptr));
  ++steps_;
  return a;
}

}  // namespace sluice::train
