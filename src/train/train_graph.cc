#include "train/internal/train_graph.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

#include "graph/ops/ops.h"
#include "graph/optimizers/optimizer.h"
#include "graph/scope.h"
#include "train/models.h"

namespace sluice::train::internal {
namespace {

// The update by mode (see the header) on `gr`'s loss and weights.
absl::Status BuildUpdate(const Scope& root, const Scope& dev,
                         const TrainOptions& o, Optimizer* opt,
                         TrainGraph* gr) {
  if (o.world != nullptr) {  // both modes under mpirun: for --resume
    VariableOptions ed;
    ed.name = "epochs_done";
    ed.trainable = false;
    gr->epochs_done =
        NewVariable(root.WithDevice("/cpu:0"), Tensor::Scalar<int64_t>(0), ed);
  }
  if (o.world != nullptr && o.ps_tasks > 0) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<GradAndVar> gv,
                            opt->ComputeGradients(dev, gr->loss, gr->weights));
    for (const GradAndVar& p : gv) {
      if (!p.first.valid()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "variable '", p.second.op_name(), "' has no gradient"));
      }
      gr->ps_grads.push_back(p.first);
    }
    // The optimizer's slots and non-slot variables, named as the ps tasks
    // name theirs: the chief's copies of their state for checkpoints (this
    // update is never run; train/ps_training.h).
    SLUICE_RETURN_IF_ERROR(
        opt->ApplyGradients(dev, gv, gr->global_step).status());
  } else if (o.world != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(
        DataParallelGraph dp,
        BuildDataParallelGraph(dev, opt, gr->loss, gr->weights,
                               gr->global_step));
    gr->train_op = dp.apply;
    gr->dp = std::move(dp);
  } else {
    SLUICE_ASSIGN_OR_RETURN(gr->train_op,
                            opt->Minimize(dev, gr->loss,
                                          {.var_list = gr->weights,
                                           .global_step = gr->global_step}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainGraph> BuildTrainGraph(Graph* g, const TrainOptions& o,
                                           int gpu_index) {
  const bool gpu = gpu_index >= 0;
  Scope root = Scope::Root(g);
  g->set_seed(o.seed);
  Scope dev = gpu ? root.WithDevice(absl::StrCat("/gpu:", gpu_index)) : root;
  TrainGraph gr;
  const int64_t pixels = o.height * o.width;
  gr.images = ops::Placeholder(root.WithOpName("images"), DType::kUInt8,
                               TensorShape{-1, pixels});
  gr.labels = ops::Placeholder(root.WithOpName("labels"), DType::kInt64,
                               TensorShape{-1});
  Output x =
      ops::Mul(dev.WithOpName("scale"),
               ops::Cast(dev, gr.images, DType::kFloat32), 1.0f / 255.0f);
  SLUICE_ASSIGN_OR_RETURN(Model m, BuildModel(dev, o.model, x, o.height,
                                              o.width, o.num_classes, o.seed));
  gr.weights = m.weights;
  auto xent =
      ops::SparseSoftmaxCrossEntropyWithLogits(dev, gr.labels, m.logits);
  gr.loss = ops::ReduceMean(dev.WithOpName("loss"), xent.loss);
  gr.predictions = ops::ArgMax(dev.WithOpName("predictions"), m.logits, 1);
  VariableOptions gs;
  gs.name = "global_step";
  gs.trainable = false;
  gr.global_step =
      NewVariable(root.WithDevice("/cpu:0"), Tensor::Scalar<int64_t>(0), gs);
  SLUICE_RETURN_IF_ERROR(root.status());
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> opt,
                          MakeOptimizer(o, gpu, gr.global_step));
  SLUICE_RETURN_IF_ERROR(BuildUpdate(root, dev, o, opt.get(), &gr));
  SLUICE_RETURN_IF_ERROR(root.status());
  return gr;
}

}  // namespace sluice::train::internal
