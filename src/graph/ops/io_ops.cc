#include "graph/ops/io_ops.h"

#include "absl/strings/str_cat.h"
#include "graph/internal/op_util.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/queue_ops.h"
#include "graph/ops/random_ops.h"
#include "graph/ops/state_ops.h"
#include "graph/variables.h"
#if SLUICE_GRAPH_WITH_PIPELINE
#include "pipeline/reader_op.h"
#include "readers/compression.h"
#endif

namespace sluice {
namespace ops {

Output StringInputProducer(const Scope& scope, const Input& strings,
                           InputProducerOptions options) {
  Scope s = scope.NewSubScope("input_producer");
  Output t = strings.ToOutput(s);
  if (!t.valid()) return Output();
  if (t.dtype() != DType::kString) {
    scope.UpdateStatus(absl::InvalidArgumentError("StringInputProducer needs strings"));
    return Output();
  }
  if (options.num_epochs.has_value()) {
    if (*options.num_epochs <= 0) {
      scope.UpdateStatus(absl::InvalidArgumentError("num_epochs must be > 0"));
      return Output();
    }
    Scope ls = s.NewSubScope("limit_epochs");
    Variable epochs = NewVariable(ls, Tensor::Scalar<int64_t>(0),
                                  {.name = "epochs", .trainable = false, .local = true});
    Output count = CountUpTo(ls, epochs, *options.num_epochs);
    t = Identity(ls.WithControlDependencies(count), t);
  }
  if (options.shuffle) t = RandomShuffle(s, t, options.seed);
  Output q = FIFOQueue(s, {.dtypes = {DType::kString},
                           .shapes = {TensorShape{}},
                           .capacity = options.capacity,
                           .shared_name = options.shared_name});
  Operation enq = QueueEnqueueMany(s, q, {t});
  AddQueueRunner(s, q, {enq});
  return q;
}

Output TFRecordReader(const Scope& scope, TFRecordReaderOpOptions options) {
  std::string compression_type;  // TensorFlow's attr: "" for none
  switch (options.compression) {
    case Compression::kNone: break;
    case Compression::kZlib: compression_type = "ZLIB"; break;
    case Compression::kGzip: compression_type = "GZIP"; break;
    default:
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          "TFRecordReader: unknown compression type ", static_cast<int>(options.compression))));
      return Output();
  }
  return internal::BuildOp(scope, "TFRecordReaderV2", "TFRecordReaderV2", {},
                           {{"compression_type", compression_type}});
}

ReaderOutputs ReaderRead(const Scope& scope, const Output& reader, const Output& queue) {
  Node* n = scope.AddNode("ReaderReadV2", "ReaderReadV2", {reader, queue});
  if (n == nullptr) return {};
  return {Output(n, 0), Output(n, 1)};
}

ReaderOutputs ReaderReadUpTo(const Scope& scope, const Output& reader, const Output& queue,
                             const Input& n) {
  Node* node = scope.AddNode("ReaderReadUpToV2", "ReaderReadUpToV2",
                             {reader, queue, n.ToOutput(scope, DType::kInt64)});
  if (node == nullptr) return {};
  return {Output(node, 0), Output(node, 1)};
}

}  // namespace ops

namespace internal {
namespace {

#if SLUICE_GRAPH_WITH_PIPELINE
absl::StatusOr<std::shared_ptr<TFRecordReaderOp>> ReaderOf(OpKernelContext* ctx) {
  const Node* rn = ctx->node().input(0).node();
  auto r = ctx->resources()->Lookup<TFRecordReaderOp>(rn);
  if (r == nullptr) return absl::FailedPreconditionError("reader not created in this session");
  return r;
}
#endif

}  // namespace

void RegisterIoOps(OpRegistry* ops, KernelRegistry* kernels) {
  OpDef reader{"TFRecordReaderV2", [](InferenceContext* c) {
                 c->set_output(0, DType::kString, TensorShape{});
                 return absl::OkStatus();
               }};
  reader.stateful = true;
  RegisterOp(ops, std::move(reader));
  for (const char* name : {"ReaderReadV2", "ReaderReadUpToV2"}) {
    const bool up_to = std::string_view(name) == "ReaderReadUpToV2";
    OpDef def{name, [up_to](InferenceContext* c) -> absl::Status {
                if (c->num_inputs() < 2 || c->input_dtype(0) != DType::kString ||
                    c->input_dtype(1) != DType::kString) {
                  return c->Error("expected a reader handle and a queue handle");
                }
                const TensorShape s = up_to ? TensorShape{-1} : TensorShape{};
                c->set_output(0, DType::kString, s);
                c->set_output(1, DType::kString, s);
                return absl::OkStatus();
              }};
    def.stateful = true;
    RegisterOp(ops, std::move(def));
  }
#if SLUICE_GRAPH_WITH_PIPELINE
  RegisterCpuKernel(kernels, "TFRecordReaderV2", [](OpKernelContext* ctx) -> absl::Status {
    const Node* n = &ctx->node();
    SLUICE_ASSIGN_OR_RETURN(
        std::shared_ptr<TFRecordReaderOp> r,
        ctx->resources()->LookupOrCreate<TFRecordReaderOp>(
            n, [n]() -> absl::StatusOr<std::shared_ptr<TFRecordReaderOp>> {
              TFRecordReaderOptions o;
              const std::string* c = n->attr<std::string>("compression_type");
              if (c != nullptr && !c->empty()) {
                SLUICE_ASSIGN_OR_RETURN(o.compression, ParseCompression(*c));
              }
              return std::make_shared<TFRecordReaderOp>(o);
            }));
    (void)r;
    ctx->set_output(0, Tensor::StringScalar(n->name()));
    return absl::OkStatus();
  }, {}, /*inexpensive=*/true);
  for (const char* name : {"ReaderReadV2", "ReaderReadUpToV2"}) {
    const bool up_to = std::string_view(name) == "ReaderReadUpToV2";
    RegisterCpuKernel(kernels, name, [up_to](OpKernelContext* ctx) -> absl::Status {
      SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<TFRecordReaderOp> r, ReaderOf(ctx));
      const Node* qn = ctx->node().input(1).node();
      auto q = ctx->resources()->Lookup<QueueInterface>(qn);
      if (q == nullptr) return absl::FailedPreconditionError("queue not created in this session");
      TensorTuple kv;
      if (up_to) {
        SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> n, IntValues(ctx->input(2)));
        if (n.size() != 1) return absl::InvalidArgumentError("num_records must be a scalar");
        SLUICE_ASSIGN_OR_RETURN(kv, r->ReadUpTo(q.get(), n[0], ctx->wait()));
      } else {
        SLUICE_ASSIGN_OR_RETURN(kv, r->Read(q.get(), ctx->wait()));
      }
      ctx->set_output(0, kv[0]);
      ctx->set_output(1, kv[1]);
      return absl::OkStatus();
    }, {}, false, /*blocking=*/true);
  }
#else
  for (const char* name : {"TFRecordReaderV2", "ReaderReadV2", "ReaderReadUpToV2"}) {
    RegisterCpuKernel(kernels, name, [](OpKernelContext*) {
      return absl::UnimplementedError("reader ops need the pipeline library (src/pipeline)");
    });
  }
#endif
}

}  // namespace internal
}  // namespace sluice
