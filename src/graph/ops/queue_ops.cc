#include "graph/ops/queue_ops.h"

#include "absl/strings/str_cat.h"
#include "coordinator/queue_runner.h"
#include "core/absl_compat.h"
#include "graph/internal/op_util.h"
#include "graph/session.h"
#include "queues/fifo_queue.h"
#include "queues/padding_fifo_queue.h"
#include "queues/random_shuffle_queue.h"

namespace sluice {
namespace ops {
namespace {

Output QueueOp(const Scope& scope, const char* op, const char* name, const QueueOpOptions& o) {
  AttrMap attrs{{"component_types", o.dtypes},
                {"shapes", o.shapes},
                {"capacity", o.capacity},
                {"shared_name", o.shared_name},
                {"min_after_dequeue", o.min_after_dequeue},
                {"seed", o.seed}};
  return internal::BuildOp(scope, op, name, {}, std::move(attrs));
}

std::vector<Output> AllOutputs(Node* n, size_t expected) {
  if (n == nullptr) return std::vector<Output>(expected);
  std::vector<Output> out;
  for (int i = 0; i < n->num_outputs(); ++i) out.emplace_back(n, i);
  return out;
}

size_t NumComponents(const Output& queue) {
  if (!queue.valid()) return 0;
  auto* t = queue.node()->attr<std::vector<DType>>("component_types");
  return t ? t->size() : 0;
}

Operation Enqueue(const Scope& scope, const char* op, const char* name, const Output& queue,
                  const std::vector<Input>& components) {
  std::vector<Output> in{queue};
  auto* types = queue.valid() ? queue.node()->attr<std::vector<DType>>("component_types") : nullptr;
  for (size_t i = 0; i < components.size(); ++i) {
    std::optional<DType> hint;
    if (types != nullptr && i < types->size()) hint = (*types)[i];
    in.push_back(components[i].ToOutput(scope, hint));
  }
  return Operation(scope.AddNode(op, name, std::move(in)));
}

}  // namespace

Output FIFOQueue(const Scope& s, const QueueOpOptions& o) {
  return QueueOp(s, "FIFOQueueV2", "fifo_queue", o);
}
Output RandomShuffleQueue(const Scope& s, const QueueOpOptions& o) {
  return QueueOp(s, "RandomShuffleQueueV2", "random_shuffle_queue", o);
}
Output PaddingFIFOQueue(const Scope& s, const QueueOpOptions& o) {
  return QueueOp(s, "PaddingFIFOQueueV2", "padding_fifo_queue", o);
}

Operation QueueEnqueue(const Scope& s, const Output& q, const std::vector<Input>& c) {
  return Enqueue(s, "QueueEnqueueV2", "QueueEnqueueV2", q, c);
}
Operation QueueEnqueueMany(const Scope& s, const Output& q, const std::vector<Input>& c) {
  return Enqueue(s, "QueueEnqueueManyV2", "QueueEnqueueManyV2", q, c);
}
std::vector<Output> QueueDequeue(const Scope& s, const Output& q) {
  return AllOutputs(s.AddNode("QueueDequeueV2", "QueueDequeueV2", {q}), NumComponents(q));
}
std::vector<Output> QueueDequeueMany(const Scope& s, const Output& q, const Input& n) {
  return AllOutputs(s.AddNode("QueueDequeueManyV2", "QueueDequeueManyV2",
                              {q, n.ToOutput(s, DType::kInt32)}),
                    NumComponents(q));
}
std::vector<Output> QueueDequeueUpTo(const Scope& s, const Output& q, const Input& n) {
  return AllOutputs(s.AddNode("QueueDequeueUpToV2", "QueueDequeueUpToV2",
                              {q, n.ToOutput(s, DType::kInt32)}),
                    NumComponents(q));
}
Operation QueueClose(const Scope& s, const Output& q, bool cancel) {
  return Operation(s.AddNode("QueueCloseV2", "QueueCloseV2", {q},
                             {{"cancel_pending_enqueues", cancel}}));
}
Output QueueSize(const Scope& s, const Output& q) {
  return internal::BuildOp(s, "QueueSizeV2", "QueueSizeV2", {q});
}

void AddQueueRunner(const Scope& scope, const Output& queue,
                    const std::vector<Operation>& enqueue_ops) {
  if (!scope.ok() || !queue.valid()) return;
  QueueRunnerSpec spec;
  spec.queue = queue;
  spec.enqueue_ops = enqueue_ops;
  Scope s = scope.WithNoControlDependencies();
  spec.close_op = QueueClose(s.WithOpName(absl::StrCat(queue.node()->name(), "_Close")), queue, false);
  spec.cancel_op = QueueClose(s.WithOpName(absl::StrCat(queue.node()->name(), "_Close_1")), queue, true);
  scope.graph()->AddToCollection(kQueueRunnersKey, std::move(spec));
}

namespace {

std::vector<Output> BatchImpl(const Scope& scope, const char* name, bool shuffle,
                              const std::vector<Input>& tensors, int64_t batch_size,
                              int64_t capacity, int64_t min_after_dequeue,
                              const BatchOptions& options) {
  Scope s = scope.NewSubScope(name);
  std::vector<Output> in;
  QueueOpOptions qo;
  for (const Input& t : tensors) {
    Output o = t.ToOutput(s);
    if (!o.valid()) return std::vector<Output>(tensors.size());
    TensorShape shape = o.shape();
    if (options.enqueue_many && o.rank_known() && shape.rank() > 0) shape = shape.DroppedFirst();
    if (!o.rank_known() || !shape.IsFullyDefined()) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          name, ": all shapes must be fully defined: ", o.name(), " has shape ",
          o.rank_known() ? o.shape().DebugString() : std::string("<unknown>"))));
      return std::vector<Output>(tensors.size());
    }
    qo.dtypes.push_back(o.dtype());
    qo.shapes.push_back(shape);
    in.push_back(o);
  }
  qo.capacity = capacity;
  qo.shared_name = options.shared_name;
  qo.min_after_dequeue = min_after_dequeue;
  qo.seed = options.seed;
  Output q = shuffle ? RandomShuffleQueue(s, qo) : FIFOQueue(s, qo);
  std::vector<Input> comps(in.begin(), in.end());
  std::vector<Operation> enqueues;
  Operation enq = options.enqueue_many ? QueueEnqueueMany(s, q, comps) : QueueEnqueue(s, q, comps);
  for (int64_t i = 0; i < std::max<int64_t>(1, options.num_threads); ++i) enqueues.push_back(enq);
  AddQueueRunner(s, q, enqueues);
  // The dequeue op takes the scope's own name ("shuffle_batch"), as
  // TensorFlow names it.
  Scope out_scope = scope.WithExactOpName(s.name_scope());
  return options.allow_smaller_final_batch ? QueueDequeueUpTo(out_scope, q, static_cast<int>(batch_size))
                                           : QueueDequeueMany(out_scope, q, static_cast<int>(batch_size));
}

}  // namespace

std::vector<Output> Batch(const Scope& scope, const std::vector<Input>& tensors,
                          int64_t batch_size, int64_t capacity, BatchOptions options) {
  return BatchImpl(scope, "batch", false, tensors, batch_size, capacity, 0, options);
}

std::vector<Output> ShuffleBatch(const Scope& scope, const std::vector<Input>& tensors,
                                 int64_t batch_size, int64_t capacity, int64_t min_after_dequeue,
                                 BatchOptions options) {
  return BatchImpl(scope, "shuffle_batch", true, tensors, batch_size, capacity, min_after_dequeue,
                   options);
}

}  // namespace ops

namespace internal {
namespace {

absl::StatusOr<std::shared_ptr<QueueInterface>> MakeQueue(const Node& n) {
  QueueOptions o;
  const std::string* shared = n.attr<std::string>("shared_name");
  o.name = shared != nullptr && !shared->empty() ? *shared : n.name();
  SLUICE_ASSIGN_OR_RETURN(o.dtypes, n.GetAttr<std::vector<DType>>("component_types"));
  SLUICE_ASSIGN_OR_RETURN(o.shapes, n.GetAttr<std::vector<TensorShape>>("shapes"));
  SLUICE_ASSIGN_OR_RETURN(o.capacity, n.GetAttr<int64_t>("capacity"));
  if (n.type() == "FIFOQueueV2") {
    SLUICE_ASSIGN_OR_RETURN(auto q, FIFOQueue::Create(std::move(o)));
    return std::shared_ptr<QueueInterface>(std::move(q));
  }
  if (n.type() == "PaddingFIFOQueueV2") {
    SLUICE_ASSIGN_OR_RETURN(auto q, PaddingFIFOQueue::Create(std::move(o)));
    return std::shared_ptr<QueueInterface>(std::move(q));
  }
  RandomShuffleQueueOptions ro;
  ro.queue = std::move(o);
  SLUICE_ASSIGN_OR_RETURN(ro.min_after_dequeue, n.GetAttr<int64_t>("min_after_dequeue"));
  SLUICE_ASSIGN_OR_RETURN(int64_t seed, n.GetAttr<int64_t>("seed"));
  ro.seed = static_cast<uint64_t>(seed);
  SLUICE_ASSIGN_OR_RETURN(auto q, RandomShuffleQueue::Create(std::move(ro)));
  return std::shared_ptr<QueueInterface>(std::move(q));
}

absl::StatusOr<std::shared_ptr<QueueInterface>> InputQueue(OpKernelContext* ctx) {
  const Node* qn = ctx->node().input(0).node();
  auto q = ctx->resources()->Lookup<QueueInterface>(qn);
  if (q == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("Queue '", qn->name(), "' has not been created in this session"));
  }
  return q;
}

TensorTuple Components(OpKernelContext* ctx) {
  TensorTuple t;
  for (int i = 1; i < ctx->num_inputs(); ++i) t.push_back(ctx->input(i));
  return t;
}

absl::Status SetComponents(OpKernelContext* ctx, const TensorTuple& t) {
  if (static_cast<int>(t.size()) != ctx->node().num_outputs()) {
    return absl::InternalError("dequeued tuple has the wrong arity");
  }
  for (size_t i = 0; i < t.size(); ++i) ctx->set_output(static_cast<int>(i), t[i]);
  return absl::OkStatus();
}

}  // namespace

void RegisterQueueOps(OpRegistry* ops, KernelRegistry* kernels) {
  for (const char* name : {"FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2"}) {
    OpDef def{name, [](InferenceContext* c) {
                c->set_output(0, DType::kString, TensorShape{});
                return absl::OkStatus();
              }};
    def.stateful = true;
    RegisterOp(ops, std::move(def));
    RegisterCpuKernel(kernels, name, [](OpKernelContext* ctx) {
      const Node* n = &ctx->node();
      SLUICE_ASSIGN_OR_RETURN(
          std::shared_ptr<QueueInterface> q,
          ctx->resources()->LookupOrCreate<QueueInterface>(
              n, [n]() { return MakeQueue(*n); }));
      ctx->set_output(0, Tensor::StringScalar(q->name()));
      return absl::OkStatus();
    }, {}, /*inexpensive=*/true);
  }

  auto handle_check = [](InferenceContext* c) -> absl::Status {
    if (c->num_inputs() < 1 || c->input_dtype(0) != DType::kString) {
      return c->Error("input 0 must be a queue handle");
    }
    return absl::OkStatus();
  };
  for (const char* name : {"QueueEnqueueV2", "QueueEnqueueManyV2"}) {
    OpDef def{name, handle_check};
    def.stateful = true;
    RegisterOp(ops, std::move(def));
    const bool many = std::string_view(name) == "QueueEnqueueManyV2";
    RegisterCpuKernel(kernels, name, [many](OpKernelContext* ctx) {
      SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueInterface> q, InputQueue(ctx));
      return many ? q->EnqueueMany(Components(ctx), ctx->wait())
                  : q->Enqueue(Components(ctx), ctx->wait());
    }, {}, false, /*blocking=*/true);
  }

  // Dequeue outputs: one per component, shapes from the queue node's
  // attributes (with a leading batch dim for the many-variants).
  for (const char* name : {"QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2"}) {
    const std::string kind = name;
    OpDef def{name, [kind, handle_check](InferenceContext* c) -> absl::Status {
                SLUICE_RETURN_IF_ERROR(handle_check(c));
                // The queue node (producer of input 0) declares the
                // component types and shapes.
                const Node* qn = c->input_node(0);
                const auto* types = qn->attr<std::vector<DType>>("component_types");
                const auto* shapes = qn->attr<std::vector<TensorShape>>("shapes");
                if (types == nullptr) return c->Error("input 0 is not a queue");
                int64_t batch = -1;
                if (kind == "QueueDequeueManyV2") {
                  if (const Tensor* n = c->input_constant(1)) {
                    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(*n));
                    if (v.size() == 1) batch = v[0];
                  }
                }
                for (size_t i = 0; i < types->size(); ++i) {
                  const bool known = shapes != nullptr && i < shapes->size();
                  if (!known) {
                    c->set_unknown_output(static_cast<int>(i), (*types)[i]);
                    continue;
                  }
                  TensorShape s = (*shapes)[i];
                  if (kind != "QueueDequeueV2") s = s.Prepended(batch);
                  c->set_output(static_cast<int>(i), (*types)[i], s);
                }
                return absl::OkStatus();
              }};
    def.stateful = true;
    RegisterOp(ops, std::move(def));
    RegisterCpuKernel(kernels, name, [kind](OpKernelContext* ctx) -> absl::Status {
      SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueInterface> q, InputQueue(ctx));
      if (kind == "QueueDequeueV2") {
        SLUICE_ASSIGN_OR_RETURN(TensorTuple t, q->Dequeue(ctx->wait()));
        return SetComponents(ctx, t);
      }
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> n, IntValues(ctx->input(1)));
      if (n.size() != 1) return absl::InvalidArgumentError("n must be a scalar");
      if (kind == "QueueDequeueManyV2") {
        SLUICE_ASSIGN_OR_RETURN(TensorTuple t, q->DequeueMany(n[0], ctx->wait()));
        return SetComponents(ctx, t);
      }
      SLUICE_ASSIGN_OR_RETURN(TensorTuple t, q->DequeueUpTo(n[0], ctx->wait()));
      return SetComponents(ctx, t);
    }, {}, false, /*blocking=*/true);
  }

  OpDef close{"QueueCloseV2", handle_check};
  close.stateful = true;
  RegisterOp(ops, std::move(close));
  RegisterCpuKernel(kernels, "QueueCloseV2", [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueInterface> q, InputQueue(ctx));
    const bool* cancel = ctx->node().attr<bool>("cancel_pending_enqueues");
    absl::Status s = q->Close(cancel != nullptr && *cancel, ctx->wait());
    // Closing a closed queue is not an error for the op (TensorFlow's
    // close op is idempotent).
    if (absl::IsCancelled(s) && q->IsClosed()) return absl::OkStatus();
    return s;
  }, {}, false, /*blocking=*/true);

  OpDef size{"QueueSizeV2", [handle_check](InferenceContext* c) -> absl::Status {
               SLUICE_RETURN_IF_ERROR(handle_check(c));
               c->set_output(0, DType::kInt32, TensorShape{});
               return absl::OkStatus();
             }};
  size.stateful = true;
  RegisterOp(ops, std::move(size));
  RegisterCpuKernel(kernels, "QueueSizeV2", [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueInterface> q, InputQueue(ctx));
    ctx->set_output(0, Tensor::Scalar<int32_t>(static_cast<int32_t>(q->Size())));
    return absl::OkStatus();
  }, {}, true);
}

}  // namespace internal

absl::StatusOr<std::vector<std::shared_ptr<CoordinatedThread>>> StartQueueRunners(
    Session* session, Coordinator* coord, bool start) {
  if (session == nullptr) return absl::InvalidArgumentError("StartQueueRunners: no session");
  std::vector<std::shared_ptr<CoordinatedThread>> threads;
  for (const CollectionItem& item : session->graph()->GetCollection(kQueueRunnersKey)) {
    const auto* spec = std::get_if<QueueRunnerSpec>(&item);
    if (spec == nullptr) continue;
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueInterface> queue, session->GetQueue(spec->queue));
    std::vector<QueueRunner::Step> steps;
    for (const Operation& op : spec->enqueue_ops) {
      steps.push_back([session, op](const WaitOptions& w) {
        RunOptions ro;
        ro.deadline = w.deadline;
        ro.stop = w.stop;
        return session->Run(ro, {}, {}, {op}, nullptr);
      });
    }
    QueueRunnerOptions options;
    // A closed session cancels the loops' runs: that is "input exhausted"
    // for the loop, not an error to report.
    options.queue_closed_codes = {absl::StatusCode::kOutOfRange};
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<QueueRunner> runner,
                            QueueRunner::Create(queue, std::move(steps), std::move(options)));
    for (auto& t : runner->CreateThreads(coord, start)) threads.push_back(std::move(t));
  }
  return threads;
}

}  // namespace sluice
