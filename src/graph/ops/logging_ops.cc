#include "graph/ops/logging_ops.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/internal/op_util.h"

namespace sluice {

namespace {

std::string Element(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return absl::StrCat(t.data<float>()[i]);
    case DType::kFloat64: return absl::StrCat(t.data<double>()[i]);
    case DType::kInt32: return absl::StrCat(t.data<int32_t>()[i]);
    case DType::kInt64: return absl::StrCat(t.data<int64_t>()[i]);
    case DType::kUInt8: return absl::StrCat(static_cast<int>(t.data<uint8_t>()[i]));
    case DType::kBool: return t.data<bool>()[i] ? "True" : "False";
    case DType::kString: return absl::StrCat("\"", Sv(t.string(i)), "\"");
    case DType::kInt8: return absl::StrCat(static_cast<int>(t.data<int8_t>()[i]));
    case DType::kUInt16: return absl::StrCat(t.data<uint16_t>()[i]);
    case DType::kFloat16: return absl::StrCat(HalfToFloat(t.data<Half>()[i]));
  }
  return "?";
}

void Format(const Tensor& t, int dim, int64_t offset, int summarize, std::string* out) {
  if (dim == t.rank()) {
    out->append(Element(t, offset));
    return;
  }
  int64_t stride = 1;
  for (int d = dim + 1; d < t.rank(); ++d) stride *= t.dim(d);
  const int64_t n = t.dim(dim);
  out->push_back('[');
  const bool elide = summarize > 0 && n > 2 * summarize;
  bool first = true;
  for (int64_t i = 0; i < n; ++i) {
    if (elide && i == summarize) {
      out->append(dim + 1 == t.rank() ? " ..." : "\n" + std::string(dim + 1, ' ') + "...");
      i = n - summarize - 1;
      continue;
    }
    if (!first) {
      if (dim + 1 == t.rank()) {
        out->push_back(' ');
      } else {
        out->push_back('\n');
        out->append(std::string(dim + 1, ' '));
      }
    }
    first = false;
    Format(t, dim + 1, offset + i * stride, summarize, out);
  }
  out->push_back(']');
}

}  // namespace

std::string FormatTensorForPrint(const Tensor& t, int summarize) {
  if (t.dtype() == DType::kString && t.rank() == 0) return std::string(t.string(0));
  std::string out;
  Format(t, 0, 0, summarize, &out);
  return out;
}

namespace ops {

Operation Print(const Scope& scope, const std::vector<Input>& inputs, PrintOptions options) {
  std::vector<Output> in;
  for (const Input& i : inputs) in.push_back(i.ToOutput(scope));
  return Operation(scope.AddNode("PrintV2", "PrintV2", std::move(in),
                                 {{"summarize", static_cast<int64_t>(options.summarize)}}));
}

Output PrintIdentity(const Scope& scope, const Input& input, const std::vector<Input>& data,
                     std::string_view message) {
  std::vector<Output> in{input.ToOutput(scope)};
  for (const Input& i : data) in.push_back(i.ToOutput(scope));
  return internal::BuildOp(scope, "Print", "Print", std::move(in),
                           {{"message", std::string(message)}, {"summarize", int64_t{3}}});
}

}  // namespace ops

namespace internal {

void RegisterLoggingOps(OpRegistry* ops, KernelRegistry* kernels) {
  OpDef print_v2{"PrintV2", shape_fns::NoOutputs};
  print_v2.stateful = true;
  RegisterOp(ops, std::move(print_v2));
  RegisterCpuKernel(kernels, "PrintV2", [](OpKernelContext* ctx) {
    const int64_t* summarize = ctx->node().attr<int64_t>("summarize");
    std::string line;
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      if (i > 0) line.push_back(' ');
      line += FormatTensorForPrint(ctx->input(i), summarize ? static_cast<int>(*summarize) : 3);
    }
    ctx->Print(line);
    return absl::OkStatus();
  });
  OpDef print{"Print", shape_fns::UnchangedShape};
  print.stateful = true;
  RegisterOp(ops, std::move(print));
  RegisterCpuKernel(kernels, "Print", [](OpKernelContext* ctx) {
    std::string line = *ctx->node().attr<std::string>("message");
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      line += FormatTensorForPrint(ctx->input(i), 3);
    }
    ctx->Print(line);
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  });
}

}  // namespace internal
}  // namespace sluice
