#include "graph/summary_ops.h"

#include <cmath>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/png_encoder.h"
#include "graph/wav_encoder.h"

namespace sluice {
namespace {

absl::Status StringScalarOutput(InferenceContext* c) {
  c->set_output(0, DType::kString, TensorShape{});
  return absl::OkStatus();
}

// Element i of a numeric tensor as a double.
absl::StatusOr<double> NumericAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return static_cast<double>(t.data<float>()[i]);
    case DType::kFloat64: return t.data<double>()[i];
    case DType::kInt32: return static_cast<double>(t.data<int32_t>()[i]);
    case DType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kUInt8: return static_cast<double>(t.data<uint8_t>()[i]);
    case DType::kBool: return t.data<bool>()[i] ? 1.0 : 0.0;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("summary of a ", Sv(DTypeName(t.dtype())), " tensor is not supported"));
  }
}

absl::Status ScalarKernel(OpKernelContext* ctx) {
  const Tensor& tags = ctx->input(0);
  const Tensor& values = ctx->input(1);
  if (tags.shape() != values.shape()) {
    return absl::InvalidArgumentError(absl::StrCat("tags and values not the same shape: ", tags.shape().DebugString(),
                                                   " != ", values.shape().DebugString(), " (tag '",
                                                   tags.NumElements() > 0 ? Sv(tags.string(0)) : "", "')"));
  }
  SummaryBuilder b;
  for (int64_t i = 0; i < values.NumElements(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(double v, NumericAt(values, i));
    b.AddScalar(tags.string(i), static_cast<float>(v));
  }
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

absl::Status HistogramKernel(OpKernelContext* ctx) {
  const Tensor& values = ctx->input(1);
  std::vector<double> v(values.NumElements());
  for (int64_t i = 0; i < values.NumElements(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(v[i], NumericAt(values, i));
  }
  SummaryBuilder b;
  SLUICE_RETURN_IF_ERROR(b.AddHistogram(ctx->input(0).string(0), v));
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

// One image of a float tensor, scaled into uint8 as summary_image_op.cc.
void NormalizeFloatImage(const Tensor& t, int64_t offset, int64_t hw, int channels, uint8_t* out) {
  auto at = [&](int64_t i) -> double {
    return t.dtype() == DType::kFloat32 ? static_cast<double>(t.data<float>()[offset + i])
                                        : t.data<double>()[offset + i];
  };
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < hw; ++i) {
    bool finite = true;
    for (int c = 0; c < channels; ++c) finite = finite && std::isfinite(at(i * channels + c));
    if (!finite) continue;
    for (int c = 0; c < channels; ++c) {
      lo = std::min(lo, at(i * channels + c));
      hi = std::max(hi, at(i * channels + c));
    }
  }
  constexpr float kZeroThreshold = 1e-6f;
  float scale, shift;
  if (lo < 0) {
    const float max_val = static_cast<float>(std::max(std::abs(lo), std::abs(hi)));
    scale = max_val < kZeroThreshold ? 0.0f : 127.0f / max_val;
    shift = 128.0f;
  } else {
    scale = hi < kZeroThreshold ? 0.0f : 255.0f / static_cast<float>(hi);
    shift = 0.0f;
  }
  static constexpr uint8_t kBadColor[4] = {255, 0, 0, 255};
  for (int64_t i = 0; i < hw; ++i) {
    bool finite = true;
    for (int c = 0; c < channels; ++c) finite = finite && std::isfinite(at(i * channels + c));
    for (int c = 0; c < channels; ++c) {
      out[i * channels + c] = finite ? static_cast<uint8_t>(static_cast<float>(at(i * channels + c)) * scale + shift)
                                     : kBadColor[c];
    }
  }
}

absl::Status ImageKernel(OpKernelContext* ctx) {
  const std::string tag(ctx->input(0).string(0));
  const Tensor& t = ctx->input(1);
  SLUICE_ASSIGN_OR_RETURN(int64_t max_images, ctx->GetAttr<int64_t>("max_images"));
  if (t.rank() != 4 || !(t.dim(3) == 1 || t.dim(3) == 3 || t.dim(3) == 4)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Tensor must be 4-D with last dim 1, 3, or 4, not ", t.shape().DebugString(), " (image summary '", tag, "')"));
  }
  if (t.dtype() != DType::kFloat32 && t.dtype() != DType::kFloat64 && t.dtype() != DType::kUInt8) {
    return absl::InvalidArgumentError(absl::StrCat("image summary '", tag, "': unsupported dtype ",
                                                   Sv(DTypeName(t.dtype()))));
  }
  const int64_t batch = std::min(t.dim(0), max_images);
  const int h = static_cast<int>(t.dim(1)), w = static_cast<int>(t.dim(2)), c = static_cast<int>(t.dim(3));
  const int64_t hw = static_cast<int64_t>(h) * w;
  SummaryBuilder b;
  std::vector<uint8_t> pixels(hw * c);
  for (int64_t i = 0; i < batch; ++i) {
    if (t.dtype() == DType::kUInt8) {
      std::memcpy(pixels.data(), t.data<uint8_t>() + i * hw * c, pixels.size());
    } else {
      NormalizeFloatImage(t, i * hw * c, hw, c, pixels.data());
    }
    SLUICE_ASSIGN_OR_RETURN(std::string png, EncodePng(pixels, h, w, c));
    const std::string image_tag = max_images == 1 ? absl::StrCat(tag, "/image") : absl::StrCat(tag, "/image/", i);
    b.AddImage(image_tag, h, w, c, png);
  }
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

absl::Status TextKernel(OpKernelContext* ctx) {
  const Tensor& t = ctx->input(1);
  if (t.dtype() != DType::kString) {
    return absl::InvalidArgumentError("text summary needs a string tensor");
  }
  std::vector<std::string_view> values(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) values[i] = t.string(i);
  SummaryBuilder b;
  b.AddText(ctx->input(0).string(0), values, t.shape());
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

absl::Status MergeKernel(OpKernelContext* ctx) {
  SummaryBuilder b;
  std::set<std::string> tags;
  for (int i = 0; i < ctx->num_inputs(); ++i) {
    const Tensor& in = ctx->input(i);
    for (int64_t j = 0; j < in.NumElements(); ++j) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> these, SummaryTags(in.string(j)));
      for (auto& tag : these) {
        if (!tags.insert(tag).second) {
          return absl::InvalidArgumentError(absl::StrCat("Duplicate tag ", tag, " found in summary inputs"));
        }
      }
      b.Merge(in.string(j));
    }
  }
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

// TensorFlow's summary_audio_op.cc.
absl::Status AudioKernel(OpKernelContext* ctx) {
  const std::string tag(ctx->input(0).string(0));
  const Tensor& t = ctx->input(1);
  const Tensor& rate = ctx->input(2);
  SLUICE_ASSIGN_OR_RETURN(int64_t max_outputs, ctx->GetAttr<int64_t>("max_outputs"));
  if (t.rank() != 2 && t.rank() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("Tensor must be 3-D or 2-D, got: ", t.shape().DebugString(), " (audio summary '", tag, "')"));
  }
  if (t.dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat("audio summary '", tag, "' needs float samples"));
  }
  if (rate.NumElements() != 1 || rate.dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample_rate must be rank-0 or contain a single float value (audio summary '", tag, "')"));
  }
  const float sample_rate = rate.data<float>()[0];
  long rounded = std::lrintf(sample_rate);
  const uint32_t wav_rate = rounded <= 0 ? 1 : static_cast<uint32_t>(rounded);
  const int64_t frames = t.dim(1);
  const int64_t channels = t.rank() == 2 ? 1 : t.dim(2);
  const int64_t n = std::min(t.dim(0), max_outputs);
  SummaryBuilder b;
  for (int64_t i = 0; i < n; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string wav,
                            EncodeWavS16(t.data<float>() + i * frames * channels, frames, channels, wav_rate));
    b.AddAudio(max_outputs > 1 ? absl::StrCat(tag, "/audio/", i) : absl::StrCat(tag, "/audio"), sample_rate,
               channels, frames, wav, "audio/wav");
  }
  ctx->set_output(0, Tensor::StringScalar(b.bytes()));
  return absl::OkStatus();
}

void RegisterSummaryOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    OpRegistry* ops = OpRegistry::Global();
    KernelRegistry* kernels = KernelRegistry::Global();
    auto reg = [&](const char* name, KernelFn fn) {
      (void)ops->Register(OpDef{name, StringScalarOutput});
      KernelDef k;
      k.op = name;
      k.fn = std::move(fn);
      kernels->Register(std::move(k));
    };
    reg("ScalarSummary", ScalarKernel);
    reg("HistogramSummary", HistogramKernel);
    reg("ImageSummary", ImageKernel);
    reg("AudioSummaryV2", AudioKernel);
    reg("TensorSummaryV2", TextKernel);
    reg("MergeSummary", MergeKernel);
  });
}

// Adds a summary node named exactly `tag` (TensorFlow names the op after
// its unique summary scope) and puts it in SUMMARIES.
Output AddSummaryNode(const Scope& scope, std::string_view op, std::string_view name,
                      std::vector<Output> data_inputs, AttrMap attrs, bool collect = true) {
  RegisterSummaryOps();
  if (!scope.ok()) return Output();
  for (const Output& o : data_inputs) {
    if (!o.valid()) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(Sv(op), ": an input is invalid")));
      return Output();
    }
  }
  Graph* g = scope.graph();
  const std::string tag = g->UniqueName(scope.name_scope().empty() ? std::string(name)
                                                                   : absl::StrCat(scope.name_scope(), "/", Sv(name)));
  Scope at = scope.WithAbsoluteNameScope(tag);
  std::vector<Output> inputs;
  if (op != "MergeSummary") {
    inputs.push_back(Input(Tensor::StringScalar(tag)).ToOutput(at.WithOpName("tag")));
  }
  inputs.insert(inputs.end(), data_inputs.begin(), data_inputs.end());
  NodeSpec spec;
  spec.op = std::string(op);
  spec.name = tag;
  spec.inputs = std::move(inputs);
  spec.control_inputs = scope.control_dependencies();
  spec.attrs = std::move(attrs);
  spec.device = "/cpu:0";  // summaries are host work, as in TensorFlow
  absl::StatusOr<Node*> n = g->AddNode(std::move(spec));
  if (!n.ok()) {
    scope.UpdateStatus(n.status());
    return Output();
  }
  Output out(*n, 0);
  if (collect) g->AddToCollection(kSummariesKey, out);
  return out;
}

}  // namespace

namespace summary {

Output Scalar(const Scope& scope, std::string_view name, const Input& value) {
  Output v = value.ToOutput(scope);
  if (v.valid() && v.rank_known() && v.shape().rank() != 0) {
    scope.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("scalar summary '", Sv(name), "' needs a scalar, got shape ", v.shape().DebugString())));
    return Output();
  }
  return AddSummaryNode(scope, "ScalarSummary", name, {v}, {{"T", v.valid() ? v.dtype() : DType::kFloat32}});
}

Output Histogram(const Scope& scope, std::string_view name, const Input& values) {
  Output v = values.ToOutput(scope);
  return AddSummaryNode(scope, "HistogramSummary", name, {v}, {{"T", v.valid() ? v.dtype() : DType::kFloat32}});
}

Output Image(const Scope& scope, std::string_view name, const Input& images, int64_t max_images) {
  Output v = images.ToOutput(scope);
  if (max_images < 1) {
    scope.UpdateStatus(absl::InvalidArgumentError("image summary: max_images must be at least 1"));
    return Output();
  }
  return AddSummaryNode(scope, "ImageSummary", name, {v},
                        {{"T", v.valid() ? v.dtype() : DType::kFloat32}, {"max_images", max_images}});
}

Output Audio(const Scope& scope, std::string_view name, const Input& tensor, const Input& sample_rate,
             int64_t max_outputs) {
  Output v = tensor.ToOutput(scope);
  Output rate = sample_rate.ToOutput(scope, DType::kFloat32);
  if (max_outputs < 1) {
    scope.UpdateStatus(absl::InvalidArgumentError("audio summary: max_outputs must be at least 1"));
    return Output();
  }
  return AddSummaryNode(scope, "AudioSummaryV2", name, {v, rate}, {{"max_outputs", max_outputs}});
}

Output Text(const Scope& scope, std::string_view name, const Input& text) {
  Output v = text.ToOutput(scope);
  return AddSummaryNode(scope, "TensorSummaryV2", name, {v}, {{"T", DType::kString}});
}

Output Merge(const Scope& scope, const std::vector<Output>& inputs) {
  return AddSummaryNode(scope, "MergeSummary", "Merge/MergeSummary", inputs,
                        {{"N", static_cast<int64_t>(inputs.size())}}, /*collect=*/false);
}

Output MergeAll(const Scope& scope) {
  std::vector<Output> inputs;
  for (const CollectionItem& item : scope.graph()->GetCollection(kSummariesKey)) {
    if (const Output* o = std::get_if<Output>(&item)) inputs.push_back(*o);
  }
  if (inputs.empty()) return Output();
  return Merge(scope, inputs);
}

}  // namespace summary

absl::Status AddSummaryTensor(FileWriter* writer, const Tensor& summary, int64_t global_step) {
  if (!summary.IsInitialized() || summary.dtype() != DType::kString) {
    return absl::InvalidArgumentError("AddSummaryTensor: expected a string tensor of serialized summaries");
  }
  SummaryBuilder merged;
  for (int64_t i = 0; i < summary.NumElements(); ++i) merged.Merge(summary.string(i));
  return writer->AddSummary(merged.bytes(), global_step);
}

}  // namespace sluice
