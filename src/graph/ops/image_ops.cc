#include "graph/ops/image_ops.h"

#include <cmath>

#include "absl/strings/str_cat.h"

#include "graph/internal/op_util.h"
#include "graph/resource_mgr.h"
#include "image/color.h"
#include "image/decode_image.h"
#include "image/geometry.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace sluice {
namespace ops {
namespace {

Output StringOp(const Scope& scope, const char* op, const Input& contents,
                AttrMap attrs) {
  return internal::BuildOp(scope, op, op, {contents.ToOutput(scope)},
                           std::move(attrs));
}

AttrMap JpegAttrs(const DecodeJpegAttrs& a) {
  return {{"channels", a.channels},
          {"ratio", a.ratio},
          {"dct_method", a.dct_method}};
}

Output ResizeOp(const Scope& scope, const char* op, const Input& images,
                const Input& size, AttrMap attrs) {
  Output in = images.ToOutput(scope);
  Output sz = size.ToOutput(scope, DType::kInt32);
  return internal::BuildOp(scope, op, op, {in, sz}, std::move(attrs));
}

}  // namespace

Output DecodeJpeg(const Scope& scope, const Input& contents,
                  const DecodeJpegAttrs& attrs) {
  return StringOp(scope, "DecodeJpeg", contents, JpegAttrs(attrs));
}
Output DecodeAndCropJpeg(const Scope& scope, const Input& contents,
                         const Input& crop_window,
                         const DecodeJpegAttrs& attrs) {
  Output c = contents.ToOutput(scope);
  Output w = crop_window.ToOutput(scope, DType::kInt32);
  return internal::BuildOp(scope, "DecodeAndCropJpeg", "DecodeAndCropJpeg",
                           {c, w}, JpegAttrs(attrs));
}
Output DecodePng(const Scope& scope, const Input& contents, int64_t channels,
                 DType dtype) {
  return StringOp(scope, "DecodePng", contents,
                  {{"channels", channels}, {"dtype", dtype}});
}
Output DecodeImage(const Scope& scope, const Input& contents, int64_t channels,
                   DType dtype) {
  return StringOp(scope, "DecodeImage", contents,
                  {{"channels", channels}, {"dtype", dtype}});
}
Output ExtractJpegShape(const Scope& scope, const Input& contents) {
  return StringOp(scope, "ExtractJpegShape", contents, {});
}
Output EncodeJpeg(const Scope& scope, const Input& image, int64_t quality,
                  bool progressive, bool chroma_downsampling) {
  return internal::BuildOp(scope, "EncodeJpeg", "EncodeJpeg",
                           {image.ToOutput(scope)},
                           {{"quality", quality},
                            {"progressive", progressive},
                            {"chroma_downsampling", chroma_downsampling}});
}
Output EncodePng(const Scope& scope, const Input& image, int64_t compression) {
  return internal::BuildOp(scope, "EncodePng", "EncodePng",
                           {image.ToOutput(scope)},
                           {{"compression", compression}});
}

Output ResizeBilinear(const Scope& scope, const Input& images,
                      const Input& size, bool align_corners,
                      bool half_pixel_centers) {
  return ResizeOp(scope, "ResizeBilinear", images, size,
                  {{"align_corners", align_corners},
                   {"half_pixel_centers", half_pixel_centers}});
}
Output ResizeNearestNeighbor(const Scope& scope, const Input& images,
                             const Input& size, bool align_corners,
                             bool half_pixel_centers) {
  return ResizeOp(scope, "ResizeNearestNeighbor", images, size,
                  {{"align_corners", align_corners},
                   {"half_pixel_centers", half_pixel_centers}});
}
Output ResizeBicubic(const Scope& scope, const Input& images, const Input& size,
                     bool align_corners, bool half_pixel_centers) {
  return ResizeOp(scope, "ResizeBicubic", images, size,
                  {{"align_corners", align_corners},
                   {"half_pixel_centers", half_pixel_centers}});
}
Output ResizeArea(const Scope& scope, const Input& images, const Input& size,
                  bool align_corners) {
  return ResizeOp(scope, "ResizeArea", images, size,
                  {{"align_corners", align_corners}});
}

Output Resize(const Scope& scope, const Input& images, int64_t height,
              int64_t width, image::ResizeMethod method, bool antialias) {
  const Tensor size = Tensor::FromVector<int32_t>(
      {static_cast<int32_t>(height), static_cast<int32_t>(width)},
      TensorShape{2});
  using image::ResizeMethod;
  if (antialias &&
      (method == ResizeMethod::kBilinear || method == ResizeMethod::kBicubic)) {
    // tf.image.resize builds ScaleAndTranslate with scale = size / input
    // size; the input size is read at run time from the images.
    Output in = images.ToOutput(scope);
    return internal::BuildOp(
        scope, "ScaleAndTranslate", "ScaleAndTranslate",
        {in, Input(size).ToOutput(scope),
         Input(Tensor::FromVector<float>({0, 0}, TensorShape{2}))
             .ToOutput(scope),
         Input(Tensor::FromVector<float>({0, 0}, TensorShape{2}))
             .ToOutput(scope)},
        {{"kernel_type",
          std::string(method == ResizeMethod::kBilinear ? "triangle"
                                                        : "keyscubic")},
         {"antialias", true},
         {"scale_from_size", true}});
  }
  switch (method) {
    case ResizeMethod::kNearest:
      return ResizeNearestNeighbor(scope, images, size, false, true);
    case ResizeMethod::kArea:
      return ResizeArea(scope, images, size, false);
    case ResizeMethod::kBicubic:
      return ResizeBicubic(scope, images, size, false, true);
    case ResizeMethod::kBilinear:
      break;
  }
  return ResizeBilinear(scope, images, size, false, true);
}

Output AdjustContrast(const Scope& scope, const Input& images,
                      const Input& factor) {
  Output in = images.ToOutput(scope);
  return internal::BuildOp(scope, "AdjustContrastv2", "AdjustContrastv2",
                           {in, factor.ToOutput(scope, DType::kFloat32)});
}
Output AdjustHue(const Scope& scope, const Input& images, const Input& delta) {
  Output in = images.ToOutput(scope);
  return internal::BuildOp(scope, "AdjustHue", "AdjustHue",
                           {in, delta.ToOutput(scope, DType::kFloat32)});
}
Output AdjustSaturation(const Scope& scope, const Input& images,
                        const Input& scale) {
  Output in = images.ToOutput(scope);
  return internal::BuildOp(scope, "AdjustSaturation", "AdjustSaturation",
                           {in, scale.ToOutput(scope, DType::kFloat32)});
}
Output RgbToHsv(const Scope& scope, const Input& images) {
  return internal::BuildOp(scope, "RGBToHSV", "RGBToHSV",
                           {images.ToOutput(scope)});
}
Output HsvToRgb(const Scope& scope, const Input& images) {
  return internal::BuildOp(scope, "HSVToRGB", "HSVToRGB",
                           {images.ToOutput(scope)});
}
Output RandomCrop(const Scope& scope, const Input& image, const Input& size,
                  int64_t seed) {
  Output in = image.ToOutput(scope);
  Output sz = size.ToOutput(scope, DType::kInt64);
  const std::optional<int64_t> graph_seed = scope.graph()->seed();
  int64_t s1 = 0, s2 = 0;
  if (graph_seed.has_value()) {
    s1 = *graph_seed;
    s2 = seed != 0 ? seed : scope.graph()->NextOpSeed();
  } else if (seed != 0) {
    s1 = 87654321;  // TensorFlow's default graph seed
    s2 = seed;
  }
  return internal::BuildOp(scope, "RandomCrop", "RandomCrop", {in, sz},
                           {{"seed", s1}, {"seed2", s2}});
}

}  // namespace ops

namespace internal {
namespace {

int64_t IntAttr(const OpKernelContext* ctx, const char* name,
                int64_t fallback) {
  const int64_t* v = ctx->node().attr<int64_t>(name);
  return v != nullptr ? *v : fallback;
}
bool BoolAttr(const OpKernelContext* ctx, const char* name) {
  const bool* v = ctx->node().attr<bool>(name);
  return v != nullptr && *v;
}

absl::StatusOr<std::string_view> ScalarString(const OpKernelContext* ctx,
                                              const char* op) {
  const Tensor& t = ctx->input(0);
  if (t.dtype() != DType::kString || t.NumElements() != 1 || t.rank() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": contents must be a string scalar, got ", t.DebugString(0)));
  }
  return t.string(0);
}

absl::StatusOr<std::pair<int64_t, int64_t>> SizeInput(const Tensor& t,
                                                      const char* op) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(t));
  if (v.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": size must have 2 elements, got ", v.size()));
  }
  return std::make_pair(v[0], v[1]);
}

float ScalarFloat(const Tensor& t) {
  return t.dtype() == DType::kFloat64 ? static_cast<float>(t.data<double>()[0])
                                      : t.data<float>()[0];
}

// [?, ?, C] (or unknown rank) for a decoder's output.
absl::Status DecodedShape(InferenceContext* c, DType dtype, int64_t channels) {
  c->set_output(0, dtype, TensorShape{-1, -1, channels == 0 ? -1 : channels});
  return absl::OkStatus();
}

absl::Status ResizeShape(InferenceContext* c, bool keep_dtype) {
  const DType dt = keep_dtype ? c->input_dtype(0) : DType::kFloat32;
  if (!c->input_rank_known(0)) {
    c->set_unknown_output(0, dt);
    return absl::OkStatus();
  }
  TensorShape s = c->input_shape(0);
  if (s.rank() != 3 && s.rank() != 4)
    return c->Error("images must be rank 3 or 4");
  const int o = s.rank() - 3;
  s.set_dim(o, -1);
  s.set_dim(o + 1, -1);
  if (const Tensor* size = c->input_constant(1)) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(*size));
    if (v.size() == 2) {
      s.set_dim(o, v[0]);
      s.set_dim(o + 1, v[1]);
    }
  }
  c->set_output(0, dt, s);
  return absl::OkStatus();
}

void RegisterCodecs(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops, {"DecodeJpeg", [](InferenceContext* c) {
                     const int64_t* ch = c->attr<int64_t>("channels");
                     return DecodedShape(c, DType::kUInt8,
                                         ch != nullptr ? *ch : 0);
                   }});
  RegisterOp(ops, {"DecodeAndCropJpeg", [](InferenceContext* c) {
                     const int64_t* ch = c->attr<int64_t>("channels");
                     return DecodedShape(c, DType::kUInt8,
                                         ch != nullptr ? *ch : 0);
                   }});
  auto jpeg_options = [](const OpKernelContext* ctx)
      -> absl::StatusOr<image::DecodeJpegOptions> {
    image::DecodeJpegOptions o;
    o.channels = static_cast<int>(IntAttr(ctx, "channels", 0));
    o.ratio = static_cast<int>(IntAttr(ctx, "ratio", 1));
    const std::string* dct = ctx->node().attr<std::string>("dct_method");
    SLUICE_ASSIGN_OR_RETURN(o.dct_method,
                            image::ParseDctMethod(dct != nullptr ? *dct : ""));
    return o;
  };
  RegisterCpuKernel(
      kernels, "DecodeJpeg",
      [jpeg_options](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(std::string_view contents,
                                ScalarString(ctx, "DecodeJpeg"));
        SLUICE_ASSIGN_OR_RETURN(image::DecodeJpegOptions o, jpeg_options(ctx));
        SLUICE_ASSIGN_OR_RETURN(Tensor out, image::DecodeJpeg(contents, o));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  RegisterCpuKernel(
      kernels, "DecodeAndCropJpeg",
      [jpeg_options](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(std::string_view contents,
                                ScalarString(ctx, "DecodeAndCropJpeg"));
        SLUICE_ASSIGN_OR_RETURN(image::DecodeJpegOptions o, jpeg_options(ctx));
        SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> w,
                                IntValues(ctx->input(1)));
        if (w.size() != 4) {
          return absl::InvalidArgumentError(
              "DecodeAndCropJpeg: crop_window must have 4 elements");
        }
        SLUICE_ASSIGN_OR_RETURN(
            Tensor out,
            image::DecodeAndCropJpeg(contents, {w[0], w[1], w[2], w[3]}, o));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  for (const char* name : {"DecodePng", "DecodeImage"}) {
    RegisterOp(ops, {name, [](InferenceContext* c) {
                       const int64_t* ch = c->attr<int64_t>("channels");
                       const DType* dt = c->attr<DType>("dtype");
                       return DecodedShape(c,
                                           dt != nullptr ? *dt : DType::kUInt8,
                                           ch != nullptr ? *ch : 0);
                     }});
  }
  RegisterCpuKernel(
      kernels, "DecodePng", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(std::string_view contents,
                                ScalarString(ctx, "DecodePng"));
        image::DecodePngOptions o;
        o.channels = static_cast<int>(IntAttr(ctx, "channels", 0));
        if (const DType* dt = ctx->node().attr<DType>("dtype")) o.dtype = *dt;
        SLUICE_ASSIGN_OR_RETURN(Tensor out, image::DecodePng(contents, o));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  RegisterCpuKernel(
      kernels, "DecodeImage", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(std::string_view contents,
                                ScalarString(ctx, "DecodeImage"));
        image::DecodeImageOptions o;
        o.channels = static_cast<int>(IntAttr(ctx, "channels", 0));
        if (const DType* dt = ctx->node().attr<DType>("dtype")) o.dtype = *dt;
        SLUICE_ASSIGN_OR_RETURN(Tensor out, image::DecodeImage(contents, o));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  RegisterOp(ops, {"ExtractJpegShape", [](InferenceContext* c) {
                     c->set_output(0, DType::kInt32, TensorShape{3});
                     return absl::OkStatus();
                   }});
  RegisterCpuKernel(
      kernels, "ExtractJpegShape", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(std::string_view contents,
                                ScalarString(ctx, "ExtractJpegShape"));
        SLUICE_ASSIGN_OR_RETURN(image::JpegHeader h,
                                image::ReadJpegHeader(contents));
        ctx->set_output(0, Tensor::FromVector<int32_t>(
                               {static_cast<int32_t>(h.height),
                                static_cast<int32_t>(h.width), h.channels},
                               TensorShape{3}));
        return absl::OkStatus();
      });
  for (const char* name : {"EncodeJpeg", "EncodePng"}) {
    RegisterOp(ops, {name, [](InferenceContext* c) {
                       c->set_output(0, DType::kString, TensorShape{});
                       return absl::OkStatus();
                     }});
  }
  RegisterCpuKernel(
      kernels, "EncodeJpeg", [](OpKernelContext* ctx) -> absl::Status {
        image::EncodeJpegOptions o;
        o.quality = static_cast<int>(IntAttr(ctx, "quality", 95));
        o.progressive = BoolAttr(ctx, "progressive");
        const bool* cd = ctx->node().attr<bool>("chroma_downsampling");
        o.chroma_downsampling = cd == nullptr || *cd;
        SLUICE_ASSIGN_OR_RETURN(std::string bytes,
                                image::EncodeJpeg(ctx->input(0), o));
        ctx->set_output(0, Tensor::StringScalar(bytes));
        return absl::OkStatus();
      });
  RegisterCpuKernel(
      kernels, "EncodePng", [](OpKernelContext* ctx) -> absl::Status {
        image::EncodePngOptions o;
        o.compression = static_cast<int>(IntAttr(ctx, "compression", -1));
        SLUICE_ASSIGN_OR_RETURN(std::string bytes,
                                image::EncodePng(ctx->input(0), o));
        ctx->set_output(0, Tensor::StringScalar(bytes));
        return absl::OkStatus();
      });
}

void RegisterResizes(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterOp(ops, {"ResizeNearestNeighbor",
                   [](InferenceContext* c) { return ResizeShape(c, true); }});
  for (const char* name :
       {"ResizeBilinear", "ResizeBicubic", "ResizeArea", "ScaleAndTranslate"}) {
    RegisterOp(
        ops, {name, [](InferenceContext* c) { return ResizeShape(c, false); }});
  }
  using Fn =
      absl::StatusOr<Tensor> (*)(const Tensor&, int64_t, int64_t, bool, bool);
  const std::pair<const char*, Fn> two_flag[] = {
      {"ResizeBilinear", &image::ResizeBilinear},
      {"ResizeNearestNeighbor", &image::ResizeNearestNeighbor},
      {"ResizeBicubic", &image::ResizeBicubic}};
  for (const auto& [name, fn] : two_flag) {
    const std::string op = name;
    const Fn f = fn;
    RegisterCpuKernel(
        kernels, op, [op, f](OpKernelContext* ctx) -> absl::Status {
          SLUICE_ASSIGN_OR_RETURN(auto size,
                                  SizeInput(ctx->input(1), op.c_str()));
          SLUICE_ASSIGN_OR_RETURN(Tensor out,
                                  f(ctx->input(0), size.first, size.second,
                                    BoolAttr(ctx, "align_corners"),
                                    BoolAttr(ctx, "half_pixel_centers")));
          ctx->set_output(0, std::move(out));
          return absl::OkStatus();
        });
  }
  RegisterCpuKernel(
      kernels, "ResizeArea", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(auto size,
                                SizeInput(ctx->input(1), "ResizeArea"));
        SLUICE_ASSIGN_OR_RETURN(
            Tensor out,
            image::ResizeArea(ctx->input(0), size.first, size.second,
                              BoolAttr(ctx, "align_corners")));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  RegisterCpuKernel(
      kernels, "ScaleAndTranslate", [](OpKernelContext* ctx) -> absl::Status {
        const Tensor& images = ctx->input(0);
        SLUICE_ASSIGN_OR_RETURN(auto size,
                                SizeInput(ctx->input(1), "ScaleAndTranslate"));
        const std::string* kernel =
            ctx->node().attr<std::string>("kernel_type");
        image::ResizeOptions o;
        o.antialias = BoolAttr(ctx, "antialias");
        if (kernel == nullptr || *kernel == "triangle") {
          o.method = image::ResizeMethod::kBilinear;
        } else if (*kernel == "keyscubic") {
          o.method = image::ResizeMethod::kBicubic;
        } else {
          return absl::UnimplementedError(
              absl::StrCat("ScaleAndTranslate: kernel_type '", *kernel,
                           "' (triangle and keyscubic are supported)"));
        }
        if (images.rank() == 3 || images.rank() == 4) {
          const int off = images.rank() - 3;
          const Tensor& scale = ctx->input(2);
          const Tensor& translation = ctx->input(3);
          const bool from_size = BoolAttr(ctx, "scale_from_size");
          for (int i = 0; i < 2 && !from_size; ++i) {
            const float want =
                static_cast<float>(i == 0 ? size.first : size.second) /
                static_cast<float>(images.dim(off + i));
            if (scale.NumElements() != 2 || translation.NumElements() != 2 ||
                std::abs(scale.data<float>()[i] - want) > 1e-6f * want ||
                translation.data<float>()[i] != 0) {
              return absl::UnimplementedError(
                  "ScaleAndTranslate: only scale = size / input size and "
                  "translation 0 are supported");
            }
          }
        }
        SLUICE_ASSIGN_OR_RETURN(
            Tensor out, image::Resize(images, size.first, size.second, o));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
}

void RegisterAdjustments(OpRegistry* ops, KernelRegistry* kernels) {
  using Fn = absl::StatusOr<Tensor> (*)(const Tensor&, float);
  const std::pair<const char*, Fn> adjust[] = {
      {"AdjustContrastv2", &image::AdjustContrast},
      {"AdjustHue", &image::AdjustHue},
      {"AdjustSaturation", &image::AdjustSaturation}};
  for (const auto& [name, fn] : adjust) {
    RegisterOp(ops, {name, shape_fns::UnchangedShape});
    const Fn f = fn;
    const std::string op = name;
    RegisterCpuKernel(
        kernels, op, [f, op](OpKernelContext* ctx) -> absl::Status {
          const Tensor& factor = ctx->input(1);
          if (factor.NumElements() != 1 ||
              (factor.dtype() != DType::kFloat32 &&
               factor.dtype() != DType::kFloat64)) {
            return absl::InvalidArgumentError(
                absl::StrCat(op, ": the factor must be a float scalar"));
          }
          SLUICE_ASSIGN_OR_RETURN(Tensor out,
                                  f(ctx->input(0), ScalarFloat(factor)));
          ctx->set_output(0, std::move(out));
          return absl::OkStatus();
        });
  }
  RegisterOp(ops, {"RGBToHSV", shape_fns::UnchangedShape});
  RegisterOp(ops, {"HSVToRGB", shape_fns::UnchangedShape});
  RegisterCpuKernel(
      kernels, "RGBToHSV", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(Tensor out, image::RgbToHsv(ctx->input(0)));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
  RegisterCpuKernel(
      kernels, "HSVToRGB", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(Tensor out, image::HsvToRgb(ctx->input(0)));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });

  OpDef crop{"RandomCrop", [](InferenceContext* c) -> absl::Status {
               TensorShape s{-1, -1, -1};
               if (c->input_rank_known(0) && c->input_shape(0).rank() == 3) {
                 s.set_dim(2, c->input_shape(0).dim(2));
               }
               if (const Tensor* size = c->input_constant(1)) {
                 SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> v,
                                         IntValues(*size));
                 if (v.size() == 2) s.set_dim(0, v[0]), s.set_dim(1, v[1]);
               }
               c->set_output(0, c->input_dtype(0), s);
               return absl::OkStatus();
             }};
  crop.stateful = true;
  RegisterOp(ops, std::move(crop));
  RegisterCpuKernel(
      kernels, "RandomCrop", [](OpKernelContext* ctx) -> absl::Status {
        SLUICE_ASSIGN_OR_RETURN(auto size,
                                SizeInput(ctx->input(1), "RandomCrop"));
        SLUICE_ASSIGN_OR_RETURN(int64_t seed, ctx->GetAttr<int64_t>("seed"));
        SLUICE_ASSIGN_OR_RETURN(int64_t seed2, ctx->GetAttr<int64_t>("seed2"));
        SLUICE_ASSIGN_OR_RETURN(
            std::shared_ptr<RandomState> state,
            ctx->resources()->LookupOrCreate<RandomState>(
                &ctx->node(),
                [&]() -> absl::StatusOr<std::shared_ptr<RandomState>> {
                  return std::make_shared<RandomState>(
                      static_cast<uint64_t>(seed),
                      static_cast<uint64_t>(seed2));
                }));
        if (ctx->input(0).rank() != 3) {
          return absl::InvalidArgumentError(
              "RandomCrop: image must be [H, W, C]");
        }
        absl::MutexLock l(&state->mu);
        SLUICE_ASSIGN_OR_RETURN(Tensor out,
                                image::RandomCrop(ctx->input(0), size.first,
                                                  size.second, &state->rng));
        ctx->set_output(0, std::move(out));
        return absl::OkStatus();
      });
}

}  // namespace

void RegisterImageOps(OpRegistry* ops, KernelRegistry* kernels) {
  RegisterCodecs(ops, kernels);
  RegisterResizes(ops, kernels);
  RegisterAdjustments(ops, kernels);
}

}  // namespace internal
}  // namespace sluice
