#include "graph/ops/parsing_ops.h"

#include "absl/strings/str_cat.h"
#include "graph/internal/op_util.h"
#include "readers/decode_raw.h"

namespace sluice {
namespace ops {
namespace {

AttrMap SpecAttrs(const std::vector<FixedLenFeature>& dense, const std::vector<VarLenFeature>& sparse) {
  std::vector<std::string> dkeys, skeys;
  std::vector<DType> dtypes, stypes;
  std::vector<TensorShape> shapes;
  AttrMap a;
  for (size_t i = 0; i < dense.size(); ++i) {
    dkeys.push_back(dense[i].key);
    dtypes.push_back(dense[i].dtype);
    shapes.push_back(dense[i].shape);
    if (dense[i].default_value.has_value()) {
      a[absl::StrCat("dense_default_", i)] = *dense[i].default_value;
    }
  }
  for (const VarLenFeature& f : sparse) {
    skeys.push_back(f.key);
    stypes.push_back(f.dtype);
  }
  a["dense_keys"] = dkeys;
  a["dense_types"] = dtypes;
  a["dense_shapes"] = shapes;
  a["sparse_keys"] = skeys;
  a["sparse_types"] = stypes;
  return a;
}

}  // namespace

ParsedFeatures ParseExample(const Scope& scope, const Input& serialized,
                            const std::vector<FixedLenFeature>& dense,
                            const std::vector<VarLenFeature>& sparse) {
  ParsedFeatures out;
  Node* n = scope.AddNode("ParseExample", "ParseExample", {serialized.ToOutput(scope)},
                          SpecAttrs(dense, sparse));
  if (n == nullptr) {
    out.dense.resize(dense.size());
    out.sparse.resize(sparse.size());
    return out;
  }
  int k = 0;
  for (size_t i = 0; i < dense.size(); ++i) out.dense.emplace_back(n, k++);
  for (size_t i = 0; i < sparse.size(); ++i) {
    out.sparse.push_back({Output(n, k), Output(n, k + 1), Output(n, k + 2)});
    k += 3;
  }
  return out;
}

std::vector<Output> ParseSingleExample(const Scope& scope, const Input& serialized,
                                       const std::vector<FixedLenFeature>& dense) {
  AttrMap a = SpecAttrs(dense, {});
  a["single"] = true;
  Node* n = scope.AddNode("ParseExample", "ParseSingleExample", {serialized.ToOutput(scope)},
                          std::move(a));
  std::vector<Output> out;
  for (size_t i = 0; i < dense.size(); ++i) out.emplace_back(n, static_cast<int>(i));
  if (n == nullptr) out.assign(dense.size(), Output());
  return out;
}

Output DecodeRaw(const Scope& scope, const Input& bytes, DType out_type, bool little_endian) {
  return internal::BuildOp(scope, "DecodeRaw", "DecodeRaw", {bytes.ToOutput(scope)},
                           {{"out_type", out_type}, {"little_endian", little_endian}});
}

}  // namespace ops

namespace internal {
namespace {

absl::StatusOr<ParseSpec> SpecOf(const Node& n) {
  SLUICE_ASSIGN_OR_RETURN(auto dkeys, n.GetAttr<std::vector<std::string>>("dense_keys"));
  SLUICE_ASSIGN_OR_RETURN(auto dtypes, n.GetAttr<std::vector<DType>>("dense_types"));
  SLUICE_ASSIGN_OR_RETURN(auto shapes, n.GetAttr<std::vector<TensorShape>>("dense_shapes"));
  SLUICE_ASSIGN_OR_RETURN(auto skeys, n.GetAttr<std::vector<std::string>>("sparse_keys"));
  SLUICE_ASSIGN_OR_RETURN(auto stypes, n.GetAttr<std::vector<DType>>("sparse_types"));
  std::vector<FixedLenFeature> dense;
  for (size_t i = 0; i < dkeys.size(); ++i) {
    FixedLenFeature f{dkeys[i], dtypes[i], shapes[i], std::nullopt};
    if (const Tensor* d = n.attr<Tensor>(absl::StrCat("dense_default_", i))) f.default_value = *d;
    dense.push_back(std::move(f));
  }
  std::vector<VarLenFeature> sparse;
  for (size_t i = 0; i < skeys.size(); ++i) sparse.push_back({skeys[i], stypes[i]});
  return ParseSpec::Create(std::move(dense), std::move(sparse));
}

}  // namespace

void RegisterParsingOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops, {"ParseExample", [](InferenceContext* c) -> absl::Status {
                     SLUICE_RETURN_IF_ERROR(c->ExpectNumInputs(1));
                     if (c->input_dtype(0) != DType::kString) return c->Error("serialized must be strings");
                     const bool single = c->attr<bool>("single") != nullptr;
                     SLUICE_ASSIGN_OR_RETURN(auto dtypes, c->GetAttr<std::vector<DType>>("dense_types"));
                     SLUICE_ASSIGN_OR_RETURN(auto shapes, c->GetAttr<std::vector<TensorShape>>("dense_shapes"));
                     SLUICE_ASSIGN_OR_RETURN(auto stypes, c->GetAttr<std::vector<DType>>("sparse_types"));
                     if (single && c->input_rank_known(0) && c->input_shape(0).rank() != 0) {
                       return c->Error("ParseSingleExample needs a scalar");
                     }
                     if (!single && c->input_rank_known(0) && c->input_shape(0).rank() != 1) {
                       return c->Error("ParseExample needs a vector of records");
                     }
                     const int64_t batch = c->input_rank_known(0) && !single ? c->input_shape(0).dim(0) : -1;
                     int k = 0;
                     for (size_t i = 0; i < dtypes.size(); ++i) {
                       c->set_output(k++, dtypes[i], single ? shapes[i] : shapes[i].Prepended(batch));
                     }
                     for (DType t : stypes) {
                       c->set_output(k++, DType::kInt64, TensorShape{-1, 2});
                       c->set_output(k++, t, TensorShape{-1});
                       c->set_output(k++, DType::kInt64, TensorShape{2});
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "ParseExample", [](OpKernelContext* ctx) -> absl::Status {
    const Node* n = &ctx->node();
    SLUICE_ASSIGN_OR_RETURN(
        std::shared_ptr<ParseSpec> spec,
        ctx->resources()->LookupOrCreate<ParseSpec>(
            n, [n]() -> absl::StatusOr<std::shared_ptr<ParseSpec>> {
              SLUICE_ASSIGN_OR_RETURN(ParseSpec s, SpecOf(*n));
              return std::make_shared<ParseSpec>(std::move(s));
            }));
    const Tensor& in = ctx->input(0);
    std::vector<std::string_view> records(in.NumElements());
    for (int64_t i = 0; i < in.NumElements(); ++i) records[i] = in.string(i);
    const bool single = n->attr<bool>("single") != nullptr;
    if (single && in.NumElements() != 1) {
      return absl::InvalidArgumentError("ParseSingleExample needs a scalar");
    }
    ParseResult result;
    RefPtr owner = in.buffer();
    ParseOptions options;
    options.owners = absl::Span<const RefPtr>(&owner, 1);
    options.parallel = records.size() >= 256;
    SLUICE_RETURN_IF_ERROR(ParseExample(records, *spec, &result, options));
    int k = 0;
    for (const Tensor& d : result.dense) {
      ctx->set_output(k++, single ? d.Reshaped(d.shape().DroppedFirst()) : d);
    }
    for (const SparseTensor& s : result.sparse) {
      ctx->set_output(k++, s.indices);
      ctx->set_output(k++, s.values);
      ctx->set_output(k++, s.dense_shape);
    }
    return absl::OkStatus();
  });

  RegisterOp(ops, {"DecodeRaw", [](InferenceContext* c) -> absl::Status {
                     SLUICE_ASSIGN_OR_RETURN(DType t, c->GetAttr<DType>("out_type"));
                     if (!c->input_rank_known(0)) {
                       c->set_unknown_output(0, t);
                     } else {
                       TensorShape s = c->input_shape(0);
                       s.AddDim(-1);
                       c->set_output(0, t, s);
                     }
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(kernels, "DecodeRaw", [](OpKernelContext* ctx) -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(DType t, ctx->GetAttr<DType>("out_type"));
    const bool* le = ctx->node().attr<bool>("little_endian");
    SLUICE_ASSIGN_OR_RETURN(Tensor out, sluice::DecodeRaw(ctx->input(0), t, le == nullptr || *le));
    ctx->set_output(0, out);
    return absl::OkStatus();
  });
}

}  // namespace internal
}  // namespace sluice
