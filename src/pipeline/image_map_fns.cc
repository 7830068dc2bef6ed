#include "pipeline/image_map_fns.h"

#include <cstring>
#include <mutex>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "core/random.h"
#include "image/jpeg.h"

namespace sluice {
namespace {

absl::StatusOr<std::vector<std::string_view>> Strings(const TensorTuple& t,
                                                      int component) {
  if (component < 0 || component >= static_cast<int>(t.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image map: no component ", component, " in an element of ", t.size()));
  }
  const Tensor& s = t[component];
  if (s.dtype() != DType::kString || s.rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("image map: component ", component,
                     " must be a string scalar or vector"));
  }
  std::vector<std::string_view> v(s.NumElements());
  for (int64_t i = 0; i < s.NumElements(); ++i) v[i] = s.string(i);
  return v;
}

// dst[j] = src[j] / 255 as float (the same v * (1 / 255.0f) as
// ConvertImageDtype), n values. Blocks of 16 through a local copy, so that
// -O2's vectorizer (which takes only loops it can vectorize whole, and
// must assume a float store may change uint8 data) turns each into a few
// SIMD conversions instead of 16 table lookups.
void U8ToUnitFloat(const uint8_t* src, int64_t n, float* dst) {
  constexpr int kBlock = 16;
  constexpr float kScale = 1.0f / 255.0f;
  int64_t j = 0;
  for (; j + kBlock <= n; j += kBlock) {
    uint8_t v[kBlock];
    float f[kBlock];
    std::memcpy(v, src + j, kBlock);
    for (int k = 0; k < kBlock; ++k) f[k] = static_cast<float>(v[k]) * kScale;
    std::memcpy(dst + j, f, sizeof(f));
  }
  for (; j < n; ++j) dst[j] = static_cast<float>(src[j]) * kScale;
}

// Decodes `image` to `channels` uint8 channels: a JPEG into `scratch`
// (reused), a PNG into `png`. *px points at the pixels, *h x *w.
absl::Status DecodeForAugment(std::string_view image, int64_t channels,
                              std::vector<uint8_t>* scratch, Tensor* png,
                              const uint8_t** px, int64_t* h, int64_t* w) {
  if (image::SniffImageFormat(image) == image::ImageFormat::kJpeg) {
    SLUICE_ASSIGN_OR_RETURN(image::JpegHeader hdr,
                            image::ReadJpegHeader(image));
    scratch->resize(static_cast<size_t>(hdr.height * hdr.width * channels));
    image::DecodeJpegOptions jo;
    jo.channels = static_cast<int>(channels);
    int ch = 0;
    SLUICE_RETURN_IF_ERROR(
        image::DecodeJpegInto(image, jo, scratch->data(), 0, h, w, &ch));
    *px = scratch->data();
    return absl::OkStatus();
  }
  SLUICE_ASSIGN_OR_RETURN(
      *png,
      image::DecodeImage(image, {.channels = static_cast<int>(channels)}));
  *h = png->dim(0);
  *w = png->dim(1);
  *px = png->data<uint8_t>();
  return absl::OkStatus();
}

// One output row whose `ow` source pixels (of C bytes, from `src`) all lie
// inside the image: copied (uint8) or converted whole (float), reversed
// first into `flipped` (ow * C bytes) when `flip`.
void CopyInsideRow(const uint8_t* src, int64_t ow, int64_t C, bool flip,
                   DType dtype, uint8_t* flipped, void* dst) {
  if (flip) {
    // Pixels in reverse order, byte by byte (a memcpy of C bytes per
    // pixel was a libc call: 9% of the pipeline's samples).
    uint8_t* f = flipped;
    const uint8_t* last = src + (ow - 1) * C;
    if (C == 3) {
      for (int64_t x = 0; x < ow; ++x, f += 3, last -= 3) {
        f[0] = last[0];
        f[1] = last[1];
        f[2] = last[2];
      }
    } else {
      for (int64_t x = 0; x < ow; ++x, f += C, last -= C) {
        for (int64_t c = 0; c < C; ++c) f[c] = last[c];
      }
    }
    src = flipped;
  }
  if (dtype == DType::kFloat32) {
    U8ToUnitFloat(src, ow * C, static_cast<float*>(dst));
  } else {
    std::memcpy(dst, src, static_cast<size_t>(ow * C));
  }
}

// One output row pixel by pixel: output column x reads source byte
// cols[x] of `row` (-1, or `row` null: padding, zero). uint8 -> float goes
// through a table (the same v * (1 / 255.0f) as ConvertImageDtype).
template <typename T>
void CopyPaddedRow(const uint8_t* row, const std::vector<int64_t>& cols,
                   int64_t C, T* d) {
  static const auto* kToFloat = [] {
    auto* t = new float[256];
    for (int v = 0; v < 256; ++v)
      t[v] = static_cast<float>(v) * (1.0f / 255.0f);
    return t;
  }();
  for (size_t x = 0; x < cols.size(); ++x, d += C) {
    const int64_t c0 = cols[x];
    if (row == nullptr || c0 < 0) {
      for (int64_t c = 0; c < C; ++c) d[c] = T{0};
    } else if constexpr (std::is_same_v<T, float>) {
      for (int64_t c = 0; c < C; ++c) d[c] = kToFloat[row[c0 + c]];
    } else {
      for (int64_t c = 0; c < C; ++c) d[c] = row[c0 + c];
    }
  }
}

// Stacks same-shaped images on a new dimension 0.
absl::StatusOr<Tensor> Stack(const std::vector<Tensor>& images) {
  TensorShape shape =
      images[0].shape().Prepended(static_cast<int64_t>(images.size()));
  Tensor out(images[0].dtype(), shape);
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].shape() != images[0].shape() ||
        images[i].dtype() != images[0].dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image map: element ", i, " is ", images[i].shape().DebugString(),
          " but element 0 is ", images[0].shape().DebugString(),
          "; resize or crop before batching"));
    }
    Tensor::CopyElementToRow(images[i], &out, static_cast<int64_t>(i));
  }
  return out;
}

}  // namespace

MapFn DecodeImageMapFn(int component, image::DecodeImageOptions options) {
  return [component, options](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string_view> bytes,
                            Strings(t, component));
    std::vector<Tensor> images;
    for (size_t i = 0; i < bytes.size(); ++i) {
      absl::StatusOr<Tensor> d = image::DecodeImage(bytes[i], options);
      if (!d.ok()) {
        return absl::Status(
            d.status().code(),
            absl::StrCat("element ", i, ": ", d.status().message()));
      }
      images.push_back(*std::move(d));
    }
    if (t[component].rank() == 0) {
      t[component] = images[0];
    } else if (images.empty()) {
      return absl::InvalidArgumentError("image map: an empty batch of images");
    } else {
      SLUICE_ASSIGN_OR_RETURN(t[component], Stack(images));
    }
    return t;
  };
}

MapFn ImageTransformMapFn(
    int component,
    std::function<absl::StatusOr<Tensor>(const Tensor&)> transform) {
  return [component, transform](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    if (component < 0 || component >= static_cast<int>(t.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("image map: no component ", component));
    }
    SLUICE_ASSIGN_OR_RETURN(t[component], transform(t[component]));
    return t;
  };
}

struct ImageAugmenter::State {
  explicit State(uint64_t seed) : rng(seed, seed == 0 ? 0 : 1) {}
  absl::Mutex mu;
  Random rng ABSL_GUARDED_BY(mu);
};

absl::StatusOr<ImageAugmenter> ImageAugmenter::Create(
    const ImageAugmentOptions& o) {
  if (o.height <= 0 || o.width <= 0 || o.pad < 0 ||
      (o.channels != 1 && o.channels != 3) ||
      (o.dtype != DType::kFloat32 && o.dtype != DType::kUInt8)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ImageAugmenter: need height, width > 0, pad >= 0, channels 1 or 3 and "
        "dtype uint8 or "
        "float; got ",
        o.height, "x", o.width, " pad ", o.pad, " channels ", o.channels));
  }
  return ImageAugmenter(o, std::make_shared<State>(o.seed));
}

ImageAugmenter::Placement ImageAugmenter::Place(const uint64_t* draws,
                                                int64_t PH, int64_t PW) const {
  Placement p;
  p.y = o_.random_crop ? static_cast<int64_t>(draws[0] % (PH - o_.height + 1))
                       : (PH - o_.height) / 2;
  p.x = o_.random_crop ? static_cast<int64_t>(draws[1] % (PW - o_.width + 1))
                       : (PW - o_.width) / 2;
  p.flip = o_.random_flip && (draws[2] >> 63) != 0;
  return p;
}

absl::Status ImageAugmenter::DecodeJpegWindow(
    std::string_view jpeg, const uint64_t* draws, void* out,
    std::vector<uint8_t>* scratch) const {
  const int64_t C = o_.channels, oh = o_.height, ow = o_.width;
  SLUICE_ASSIGN_OR_RETURN(image::JpegHeader hdr, image::ReadJpegHeader(jpeg));
  if (oh > hdr.height || ow > hdr.width) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", oh, "x", ow, " crop does not fit the padded ",
                     hdr.height, "x", hdr.width, " image"));
  }
  const Placement p = Place(draws, hdr.height, hdr.width);
  image::DecodeJpegOptions jo;
  jo.channels = static_cast<int>(C);
  int channels = 0;
  const image::CropWindow window{p.y, p.x, oh, ow};
  if (o_.dtype == DType::kUInt8 && !p.flip) {  // straight into the batch
    return image::DecodeAndCropJpegInto(
        jpeg, window, jo, static_cast<uint8_t*>(out), ow * C, &channels);
  }
  scratch->resize(static_cast<size_t>(oh * ow * C));
  SLUICE_RETURN_IF_ERROR(image::DecodeAndCropJpegInto(
      jpeg, window, jo, scratch->data(), ow * C, &channels));
  thread_local std::vector<uint8_t> flipped;
  if (p.flip) flipped.resize(static_cast<size_t>(ow * C));
  for (int64_t y = 0; y < oh; ++y) {
    const size_t at = static_cast<size_t>(y * ow * C);
    void* dst = o_.dtype == DType::kFloat32
                    ? static_cast<void*>(static_cast<float*>(out) + at)
                    : static_cast<void*>(static_cast<uint8_t*>(out) + at);
    CopyInsideRow(scratch->data() + at, ow, C, p.flip, o_.dtype, flipped.data(),
                  dst);
  }
  return absl::OkStatus();
}

absl::Status ImageAugmenter::RunInto(absl::Span<const std::string_view> images,
                                     void* out) const {
  const int64_t k = static_cast<int64_t>(images.size());
  const int64_t C = o_.channels, oh = o_.height, ow = o_.width;
  // One draw per image: the window offset (in the padded image) and the
  // flip. Decoding first would tell the sizes; drawing up front keeps the
  // lock short, so draws are scaled to each image's range below.
  std::vector<uint64_t> draws(k * 3);
  {
    absl::MutexLock l(&state_->mu);
    for (uint64_t& d : draws) d = state_->rng.Next64();
  }
  thread_local std::vector<uint8_t> scratch;
  const size_t out_elems = static_cast<size_t>(oh * ow * C);
  const bool to_float = o_.dtype == DType::kFloat32;
  for (int64_t i = 0; i < k; ++i) {
    void* image_out =
        to_float
            ? static_cast<void*>(static_cast<float*>(out) + i * out_elems)
            : static_cast<void*>(static_cast<uint8_t*>(out) + i * out_elems);
    // A JPEG without padding: the window is drawn from the header's size and
    // only it is decoded (the same pixels as decoding the whole image).
    if (o_.pad == 0 && o_.fused_jpeg_crop &&
        image::SniffImageFormat(images[i]) == image::ImageFormat::kJpeg) {
      absl::Status st =
          DecodeJpegWindow(images[i], &draws[i * 3], image_out, &scratch);
      if (!st.ok())
        return absl::Status(st.code(),
                            absl::StrCat("image ", i, ": ", st.message()));
      continue;
    }
    // Decode (JPEG into reused scratch memory; PNG through DecodeImage).
    const uint8_t* px = nullptr;
    int64_t H = 0, W = 0;
    Tensor png;
    absl::Status st =
        DecodeForAugment(images[i], C, &scratch, &png, &px, &H, &W);
    if (!st.ok())
      return absl::Status(st.code(),
                          absl::StrCat("image ", i, ": ", st.message()));
    const int64_t PH = H + 2 * o_.pad, PW = W + 2 * o_.pad;
    if (oh > PH || ow > PW) {
      return absl::InvalidArgumentError(absl::StrCat(
          "image ", i, ": a ", oh, "x", ow, " crop does not fit the padded ",
          PH, "x", PW, " image"));
    }
    const Placement p = Place(&draws[i * 3], PH, PW);
    const int64_t oy = p.y, ox = p.x;
    const bool flip = p.flip;
    // Output (y, x) reads padded (oy + y, ox + x') with x' mirrored when
    // flipping; padded (py, px) is source (py - pad, px - pad) or zero. The
    // source column of each output column is computed once per image (-1:
    // padding).
    thread_local std::vector<int64_t> cols;
    cols.resize(static_cast<size_t>(ow));
    for (int64_t x = 0; x < ow; ++x) {
      const int64_t sx = ox + (flip ? ow - 1 - x : x) - o_.pad;
      cols[x] = (sx >= 0 && sx < W) ? sx * C : -1;
    }
    // The window's columns all inside the image (no padding on this side):
    // rows are copied or converted whole, flipped rows through `flipped`.
    const int64_t sx0 = ox - o_.pad;
    const bool inside = sx0 >= 0 && sx0 + ow <= W;
    thread_local std::vector<uint8_t> flipped;
    if (inside && flip) flipped.resize(static_cast<size_t>(ow * C));
    for (int64_t y = 0; y < oh; ++y) {
      const int64_t sy = oy + y - o_.pad;
      const size_t at = i * out_elems + y * ow * C;
      const uint8_t* row = (sy >= 0 && sy < H) ? px + sy * W * C : nullptr;
      void* dst = to_float
                      ? static_cast<void*>(static_cast<float*>(out) + at)
                      : static_cast<void*>(static_cast<uint8_t*>(out) + at);
      if (inside && row != nullptr) {
        CopyInsideRow(row + sx0 * C, ow, C, flip, o_.dtype, flipped.data(),
                      dst);
      } else if (to_float) {
        CopyPaddedRow(row, cols, C, static_cast<float*>(dst));
      } else {
        CopyPaddedRow(row, cols, C, static_cast<uint8_t*>(dst));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> ImageAugmenter::Run(
    absl::Span<const std::string_view> images) const {
  Tensor out(o_.dtype, TensorShape{static_cast<int64_t>(images.size()),
                                   o_.height, o_.width, o_.channels});
  SLUICE_RETURN_IF_ERROR(RunInto(images, out.raw_data()));
  return out;
}

MapFn AugmentImagesMapFn(int component, ImageAugmenter augmenter) {
  return [component, augmenter](TensorTuple t) -> absl::StatusOr<TensorTuple> {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string_view> bytes,
                            Strings(t, component));
    SLUICE_ASSIGN_OR_RETURN(Tensor out, augmenter.Run(bytes));
    t[component] = t[component].rank() == 0
                       ? out.Reshaped(out.shape().DroppedFirst())
                       : out;
    return t;
  };
}

}  // namespace sluice
