#include "graph/ops/control_flow_ops.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "core/absl_compat.h"
#include "graph/gradient_registry.h"
#include "graph/gradients/gradients.h"
#include "graph/internal/op_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/logging_ops.h"
#include "graph/session.h"
#include "kernels/manip_ops.h"
#include "kernels/sequence_ops.h"

namespace sluice {
namespace internal {
namespace {

bool IsFloatingDType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64;
}

// One branch of a cond: its own graph, the placeholders standing for the
// cond's inputs, its results, the function that built it (for gradients)
// and a session over the graph made on first run. Thread-safe.
struct CondBranch {
  std::unique_ptr<Graph> graph;
  std::vector<Output> args;
  std::vector<Output> results;
  ops::BranchFn fn;
  absl::once_flag once;
  std::unique_ptr<Session> session;

  Session* GetSession() {
    absl::call_once(
        once, [this] { session = std::make_unique<Session>(graph.get()); });
    return session.get();
  }
};

// Branches by name (the If node's then_branch / else_branch). Entries are
// never removed: a graph's node may run as long as the graph lives, and
// nodes do not own attributes of this kind.
class BranchTable {
 public:
  static BranchTable* Global() {
    static BranchTable* t = new BranchTable();
    return t;
  }
  std::string Add(std::shared_ptr<CondBranch> b, std::string_view kind) {
    absl::MutexLock l(&mu_);
    std::string name = absl::StrCat("cond_", Sv(kind), "_", next_++);
    branches_[name] = std::move(b);
    return name;
  }
  std::shared_ptr<CondBranch> Find(std::string_view name) const {
    absl::MutexLock l(&mu_);
    auto it = branches_.find(std::string(name));
    return it == branches_.end() ? nullptr : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<CondBranch>> branches_
      ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::shared_ptr<CondBranch>> BuildBranch(
    const std::vector<Output>& inputs, const ops::BranchFn& fn,
    std::string_view kind) {
  auto b = std::make_shared<CondBranch>();
  b->graph = std::make_unique<Graph>(absl::StrCat("cond_", Sv(kind)));
  b->fn = fn;
  Scope root = Scope::Root(b->graph.get());
  for (size_t i = 0; i < inputs.size(); ++i) {
    Scope s = root.WithOpName(absl::StrCat("arg", i));
    b->args.push_back(
        inputs[i].rank_known()
            ? ops::Placeholder(s, inputs[i].dtype(), inputs[i].shape())
            : ops::Placeholder(s, inputs[i].dtype()));
  }
  b->results = fn(root, b->args);
  if (!root.ok()) {
    return absl::Status(
        root.status().code(),
        absl::StrCat("cond ", Sv(kind), " branch: ", root.status().message()));
  }
  for (const Output& o : b->results) {
    if (!o.valid())
      return absl::InvalidArgumentError(absl::StrCat(
          "cond ", Sv(kind), " branch returned an invalid output"));
  }
  return b;
}

absl::Status IfGrad(const Scope& s, const Operation& op,
                    const std::vector<Output>& g, std::vector<Output>* out) {
  std::shared_ptr<CondBranch> then_b =
      BranchTable::Global()->Find(*op.node()->attr<std::string>("then_branch"));
  std::shared_ptr<CondBranch> else_b =
      BranchTable::Global()->Find(*op.node()->attr<std::string>("else_branch"));
  if (then_b == nullptr || else_b == nullptr) {
    return absl::InternalError(
        absl::StrCat(op.name(), ": cond branches not found"));
  }
  const int nin = op.num_inputs() - 1;
  std::vector<Input> args;
  std::vector<int> float_in, float_out;
  for (int i = 0; i < nin; ++i) {
    args.push_back(op.input(i + 1));
    if (IsFloatingDType(op.input(i + 1).dtype())) float_in.push_back(i);
  }
  for (int j = 0; j < op.num_outputs(); ++j) {
    if (!IsFloatingDType(op.output(j).dtype())) continue;
    float_out.push_back(j);
    args.push_back(g[j].valid() ? g[j] : ops::ZerosLike(s, op.output(j)));
  }
  out->assign(op.num_inputs(), NoGradient());
  if (float_in.empty() || float_out.empty()) return absl::OkStatus();
  auto grad_branch = [nin, float_in,
                      float_out](ops::BranchFn fn) -> ops::BranchFn {
    return [=](const Scope& bs,
               const std::vector<Output>& a) -> std::vector<Output> {
      std::vector<Output> xs(a.begin(), a.begin() + nin);
      std::vector<Output> ys_all = fn(bs, xs);
      if (!bs.ok()) return {};
      std::vector<Output> ys, gys, fx;
      for (size_t k = 0; k < float_out.size(); ++k) {
        ys.push_back(ys_all[float_out[k]]);
        gys.push_back(a[nin + k]);
      }
      for (int i : float_in) fx.push_back(xs[i]);
      auto grads = Gradients(bs, ys, fx, gys);
      if (!grads.ok()) {
        bs.UpdateStatus(grads.status());
        return {};
      }
      std::vector<Output> result;
      for (size_t k = 0; k < fx.size(); ++k) {
        result.push_back((*grads)[k].valid() ? (*grads)[k]
                                             : ops::ZerosLike(bs, fx[k]));
      }
      return result;
    };
  };
  std::vector<Output> gr =
      ops::Cond(s.NewSubScope("gradients"), op.input(0), args,
                grad_branch(then_b->fn), grad_branch(else_b->fn));
  SLUICE_RETURN_IF_ERROR(s.status());
  for (size_t k = 0; k < float_in.size(); ++k) (*out)[float_in[k] + 1] = gr[k];
  return absl::OkStatus();
}

}  // namespace

void RegisterControlFlowOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops, {"Select", [](InferenceContext* c) {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(3));
                     SLUICE_RETURN_IF_ERROR(c->ExpectSameDType(1, 2));
                     if (c->input_dtype(0) != DType::kBool)
                       return c->Error("condition must be bool");
                     TensorShape s = c->input_shape(1);
                     bool known = c->input_rank_known(1);
                     if (!known && c->input_rank_known(2)) {
                       s = c->input_shape(2);
                       known = true;
                     }
                     if (known) {
                       c->set_output(0, c->input_dtype(1), s);
                     } else {
                       c->set_unknown_output(0, c->input_dtype(1));
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Select", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(
        sluice::Select(ctx->input(0), ctx->input(1), ctx->input(2), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"Where", [](InferenceContext* c) {
                     c->set_output(
                         0, DType::kInt64,
                         TensorShape{-1, c->input_rank_known(0)
                                             ? c->input_shape(0).rank()
                                             : int64_t{-1}});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "Where", [](OpKernelContext* ctx) {
    Tensor out;
    SLUICE_RETURN_IF_ERROR(sluice::Where(ctx->input(0), &out));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  OpDef assert_op{"Assert", shape_fns::NoOutputs};
  assert_op.stateful = true;
  RegisterOp(ops, std::move(assert_op));
  RegisterCpuKernel(kernels, "Assert", [](OpKernelContext* ctx) {
    const Tensor& c = ctx->input(0);
    if (c.dtype() != DType::kBool || c.NumElements() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          ctx->node().name(), ": In[0] expects a scalar bool, got ",
          c.DebugString(2)));
    }
    if (c.scalar<bool>()) return absl::OkStatus();
    const int64_t* summarize = ctx->node().attr<int64_t>("summarize");
    std::string msg = "assertion failed: ";
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      if (i > 1) msg.push_back(' ');
      const Tensor& t = ctx->input(i);
      const std::string v =
          FormatTensorForPrint(t, summarize ? static_cast<int>(*summarize) : 3);
      absl::StrAppend(&msg, t.rank() == 0 ? absl::StrCat("[", v, "]") : v);
    }
    return absl::InvalidArgumentError(msg);
  });

  // Variable::initialized_value(): the variable's value when initialised,
  // else input 1 (its initial value).
  OpDef initialized{"_InitializedValue", shape_fns::UnchangedShape};
  initialized.stateful = true;
  initialized.ref_inputs = {0};
  RegisterOp(ops, std::move(initialized));
  RegisterCpuKernel(kernels, "_InitializedValue", [](OpKernelContext* ctx) {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> var, ctx->variable(0));
    {
      absl::MutexLock l(&var->mu);
      if (var->initialized) {
        ctx->set_output(0, var->value);
        return absl::OkStatus();
      }
    }
    ctx->set_output(0, ctx->input(1));
    return absl::OkStatus();
  });

  RegisterOp(ops, {"CheckNumerics", shape_fns::UnchangedShape});
  RegisterCpuKernel(kernels, "CheckNumerics", [](OpKernelContext* ctx) {
    const Tensor& x = ctx->input(0);
    SLUICE_RETURN_IF_ERROR(
        sluice::CheckNumerics(x, *ctx->node().attr<std::string>("message")));
    ctx->set_output(0, x);
    return absl::OkStatus();
  });

  RegisterOp(ops, {"If", [](InferenceContext* c) {
                     SLUICE_ASSIGN_OR_RETURN(
                         auto dtypes, c->GetAttr<std::vector<DType>>("Tout"));
                     SLUICE_ASSIGN_OR_RETURN(
                         auto shapes,
                         c->GetAttr<std::vector<TensorShape>>("output_shapes"));
                     SLUICE_ASSIGN_OR_RETURN(
                         auto unknown,
                         c->GetAttr<std::vector<int64_t>>("_unknown_rank"));
                     for (size_t i = 0; i < dtypes.size(); ++i) {
                       c->set_output(static_cast<int>(i), dtypes[i], shapes[i],
                                     unknown[i] == 0);
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(
      kernels, "If",
      [](OpKernelContext* ctx) {
        const Tensor& p = ctx->input(0);
        if (p.dtype() != DType::kBool || p.NumElements() != 1) {
          return absl::InvalidArgumentError(absl::StrCat(
              ctx->node().name(), ": the predicate must be a bool scalar, got ",
              p.DebugString(2)));
        }
        const bool taken = p.data<bool>()[0];
        const char* attr = taken ? "then_branch" : "else_branch";
        std::shared_ptr<CondBranch> b =
            BranchTable::Global()->Find(*ctx->node().attr<std::string>(attr));
        if (b == nullptr)
          return absl::InternalError(
              absl::StrCat(ctx->node().name(), ": no ", attr));
        FeedList feeds;
        for (size_t i = 0; i < b->args.size(); ++i)
          feeds.emplace_back(b->args[i], ctx->input(static_cast<int>(i) + 1));
        std::vector<Tensor> out;
        absl::Status s = b->GetSession()->Run(
            RunOptions{ctx->wait().deadline, ctx->wait().stop}, feeds,
            b->results, {}, &out);
        if (!s.ok()) {
          return absl::Status(
              s.code(),
              absl::StrCat(s.message(), " (in the ", taken ? "true" : "false",
                           " branch of ", ctx->node().name(), ")"));
        }
        for (size_t i = 0; i < out.size(); ++i)
          ctx->set_output(static_cast<int>(i), out[i]);
        return absl::OkStatus();
      },
      {}, false, /*blocking=*/true);
  (void)GradientRegistry::Global()->Register("If", IfGrad);
}

}  // namespace internal

namespace ops {

Output Select(const Scope& scope, const Input& cond, const Input& x,
              const Input& y) {
  Output c = cond.ToOutput(scope);
  auto [a, b] = internal::BinaryOperands(scope, x, y);
  if (!c.valid() || !a.valid()) return Output();
  return internal::BuildOp(scope, "Select", "Select", {c, a, b},
                           {{"T", a.dtype()}});
}

Output Where(const Scope& scope, const Input& cond) {
  Output c = cond.ToOutput(scope);
  if (!c.valid()) return Output();
  return internal::BuildOp(scope, "Where", "Where", {c}, {{"T", c.dtype()}});
}

std::vector<Output> Cond(const Scope& scope, const Input& pred,
                         const std::vector<Input>& inputs,
                         const BranchFn& then_fn, const BranchFn& else_fn) {
  Output p = pred.ToOutput(scope);
  std::vector<Output> in;
  for (const Input& i : inputs) in.push_back(i.ToOutput(scope));
  if (!scope.ok()) return {};
  auto then_b = internal::BuildBranch(in, then_fn, "true");
  auto else_b =
      then_b.ok() ? internal::BuildBranch(in, else_fn, "false") : then_b;
  if (!else_b.ok()) {
    scope.UpdateStatus(else_b.status());
    return {};
  }
  const auto& tr = (*then_b)->results;
  const auto& er = (*else_b)->results;
  if (tr.size() != er.size()) {
    scope.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("cond: the true branch returns ", tr.size(),
                     " outputs and the false branch ", er.size())));
    return {};
  }
  std::vector<DType> tin, tout;
  std::vector<TensorShape> shapes;
  std::vector<int64_t> unknown;
  for (const Output& o : in) tin.push_back(o.dtype());
  for (size_t i = 0; i < tr.size(); ++i) {
    if (tr[i].dtype() != er[i].dtype()) {
      scope.UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat("cond: output ", i, " is ", Sv(DTypeName(tr[i].dtype())),
                       " in the true branch and ", Sv(DTypeName(er[i].dtype())),
                       " in the false branch")));
      return {};
    }
    tout.push_back(tr[i].dtype());
    TensorShape s;
    const bool same_rank = tr[i].rank_known() && er[i].rank_known() &&
                           tr[i].shape().rank() == er[i].shape().rank();
    if (same_rank) {
      for (int d = 0; d < tr[i].shape().rank(); ++d) {
        const int64_t a = tr[i].shape().dim(d), b = er[i].shape().dim(d);
        s.AddDim(a == b ? a : -1);
      }
    }
    shapes.push_back(s);
    unknown.push_back(same_rank ? 0 : 1);
  }
  std::vector<Output> node_in{p};
  node_in.insert(node_in.end(), in.begin(), in.end());
  internal::BranchTable* table = internal::BranchTable::Global();
  Node* n = scope.AddNode("If", "cond", std::move(node_in),
                          {{"Tcond", p.dtype()},
                           {"Tin", tin},
                           {"Tout", tout},
                           {"then_branch", table->Add(*then_b, "true")},
                           {"else_branch", table->Add(*else_b, "false")},
                           {"output_shapes", shapes},
                           {"_unknown_rank", unknown}});
  if (n == nullptr) return {};
  std::vector<Output> out;
  for (int i = 0; i < n->num_outputs(); ++i) out.emplace_back(n, i);
  return out;
}

Operation Assert(const Scope& scope, const Input& condition,
                 const std::vector<Input>& data, int64_t summarize) {
  std::vector<Output> in{condition.ToOutput(scope)};
  std::vector<DType> types;
  for (const Input& d : data) {
    in.push_back(d.ToOutput(scope));
    if (in.back().valid()) types.push_back(in.back().dtype());
  }
  return Operation(scope.AddNode("Assert", "Assert", std::move(in),
                                 {{"T", types}, {"summarize", summarize}}));
}

Output CheckNumerics(const Scope& scope, const Input& x,
                     std::string_view message) {
  Output in = x.ToOutput(scope);
  if (!in.valid()) return Output();
  return internal::BuildOp(
      scope, "CheckNumerics", "CheckNumerics", {in},
      {{"T", in.dtype()}, {"message", std::string(message)}});
}

}  // namespace ops
}  // namespace sluice
