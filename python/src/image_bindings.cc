// sluice._sluice bindings behind sluice.image: tf.image's codecs, resizes,
// crops, flips and colour functions on bytes and numpy arrays (the C++
// kernels of src/image). Every call releases the GIL while it computes;
// results are numpy arrays over the result tensor's buffer.
#include <functional>
#include <string>

#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "core/random.h"
#include "image/color.h"
#include "image/decode_image.h"
#include "image/geometry.h"
#include "image/jpeg.h"
#include "image/png.h"
#include "image/resize.h"

namespace sluice::python {
namespace {

// An image argument as a tensor: numeric numpy arrays keep their dtype
// (uint8, uint16, float32, ...).
Tensor ImageArg(const py::handle& obj) {
  py::array a = py::array::ensure(obj);
  if (!a) ThrowStatus(absl::InvalidArgumentError("image must be array-like"));
  return TensorFromPython(a, ToDType(a.dtype()));
}

template <typename F>
py::object Run(F f) {
  absl::StatusOr<Tensor> out;
  {
    py::gil_scoped_release nogil;
    out = f();
  }
  return TensorToNumpy(ValueOrThrow(std::move(out)));
}

std::string BytesArg(const py::handle& obj) {
  if (py::isinstance<py::bytes>(obj)) return obj.cast<std::string>();
  if (py::isinstance<py::array>(obj) &&
      py::array(obj.cast<py::array>()).dtype().kind() == 'O') {
    return py::array(obj.cast<py::array>()).attr("item")().cast<std::string>();
  }
  return obj.cast<std::string>();
}

py::bytes RunBytes(const std::function<absl::StatusOr<std::string>()>& f) {
  absl::StatusOr<std::string> out;
  {
    py::gil_scoped_release nogil;
    out = f();
  }
  return py::bytes(ValueOrThrow(std::move(out)));
}

}  // namespace

void RegisterImage(py::module_& m) {
  m.def("image_decode_jpeg", [](const py::handle& contents, int channels,
                                int ratio, const std::string& dct_method) {
    const std::string bytes = BytesArg(contents);
    image::DecodeJpegOptions o;
    o.channels = channels;
    o.ratio = ratio;
    o.dct_method = ValueOrThrow(image::ParseDctMethod(dct_method));
    return Run([&] { return image::DecodeJpeg(bytes, o); });
  });
  m.def("image_decode_png",
        [](const py::handle& contents, int channels, const py::handle& dtype) {
          const std::string bytes = BytesArg(contents);
          image::DecodePngOptions o;
          o.channels = channels;
          o.dtype = ToDType(dtype);
          return Run([&] { return image::DecodePng(bytes, o); });
        });
  m.def("image_decode_image",
        [](const py::handle& contents, int channels, const py::handle& dtype) {
          const std::string bytes = BytesArg(contents);
          image::DecodeImageOptions o;
          o.channels = channels;
          o.dtype = ToDType(dtype);
          return Run([&] { return image::DecodeImage(bytes, o); });
        });
  m.def(
      "image_decode_and_crop_jpeg",
      [](const py::handle& contents, std::vector<int64_t> window, int channels,
         int ratio, const std::string& dct_method) {
        const std::string bytes = BytesArg(contents);
        if (window.size() != 4)
          ThrowStatus(absl::InvalidArgumentError("crop_window needs 4 values"));
        image::DecodeJpegOptions o;
        o.channels = channels;
        o.ratio = ratio;
        o.dct_method = ValueOrThrow(image::ParseDctMethod(dct_method));
        return Run([&] {
          return image::DecodeAndCropJpeg(
              bytes, {window[0], window[1], window[2], window[3]}, o);
        });
      });
  m.def("image_encode_jpeg", [](const py::handle& img, int quality,
                                bool progressive, bool chroma_downsampling) {
    Tensor t = ImageArg(img);
    image::EncodeJpegOptions o{quality, progressive, chroma_downsampling};
    return RunBytes([&] { return image::EncodeJpeg(t, o); });
  });
  m.def("image_encode_png", [](const py::handle& img, int compression) {
    Tensor t = ImageArg(img);
    return RunBytes([&] { return image::EncodePng(t, {compression}); });
  });
  m.def("image_resize", [](const py::handle& img, int64_t h, int64_t w,
                           const std::string& method, bool antialias) {
    Tensor t = ImageArg(img);
    image::ResizeOptions o;
    o.method = ValueOrThrow(image::ParseResizeMethod(method));
    o.antialias = antialias;
    return Run([&] { return image::Resize(t, h, w, o); });
  });
  m.def("image_crop_to_bounding_box", [](const py::handle& img, int64_t oy,
                                         int64_t ox, int64_t th, int64_t tw) {
    Tensor t = ImageArg(img);
    return Run([&] { return image::CropToBoundingBox(t, oy, ox, th, tw); });
  });
  m.def("image_pad_to_bounding_box", [](const py::handle& img, int64_t oy,
                                        int64_t ox, int64_t th, int64_t tw) {
    Tensor t = ImageArg(img);
    return Run([&] { return image::PadToBoundingBox(t, oy, ox, th, tw); });
  });
  m.def("image_central_crop", [](const py::handle& img, double f) {
    Tensor t = ImageArg(img);
    return Run([&] { return image::CentralCrop(t, f); });
  });
  m.def("image_resize_with_crop_or_pad",
        [](const py::handle& img, int64_t h, int64_t w) {
          Tensor t = ImageArg(img);
          return Run([&] { return image::ResizeWithCropOrPad(t, h, w); });
        });
  m.def("image_rot90", [](const py::handle& img, int k) {
    Tensor t = ImageArg(img);
    return Run([&] { return image::Rot90(t, k); });
  });
  using Unary = absl::StatusOr<Tensor> (*)(const Tensor&);
  const std::pair<const char*, Unary> unary[] = {
      {"image_flip_left_right", &image::FlipLeftRight},
      {"image_flip_up_down", &image::FlipUpDown},
      {"image_transpose", &image::Transpose},
      {"image_rgb_to_grayscale", &image::RgbToGrayscale},
      {"image_grayscale_to_rgb", &image::GrayscaleToRgb},
      {"image_rgb_to_hsv", &image::RgbToHsv},
      {"image_hsv_to_rgb", &image::HsvToRgb},
      {"image_per_image_standardization", &image::PerImageStandardization}};
  for (const auto& [name, fn] : unary) {
    const Unary f = fn;
    m.def(name, [f](const py::handle& img) {
      Tensor t = ImageArg(img);
      return Run([&] { return f(t); });
    });
  }
  using Adjust = absl::StatusOr<Tensor> (*)(const Tensor&, float);
  const std::pair<const char*, Adjust> adjust[] = {
      {"image_adjust_brightness", &image::AdjustBrightness},
      {"image_adjust_contrast", &image::AdjustContrast},
      {"image_adjust_saturation", &image::AdjustSaturation},
      {"image_adjust_hue", &image::AdjustHue}};
  for (const auto& [name, fn] : adjust) {
    const Adjust f = fn;
    m.def(name, [f](const py::handle& img, float v) {
      Tensor t = ImageArg(img);
      return Run([&] { return f(t, v); });
    });
  }
  m.def("image_adjust_gamma",
        [](const py::handle& img, float gamma, float gain) {
          Tensor t = ImageArg(img);
          return Run([&] { return image::AdjustGamma(t, gamma, gain); });
        });
  m.def("image_convert_image_dtype",
        [](const py::handle& img, const py::handle& dtype, bool saturate) {
          Tensor t = ImageArg(img);
          const DType d = ToDType(dtype);
          return Run([&] { return image::ConvertImageDtype(t, d, saturate); });
        });
  // Random forms: one generator per call, seeded by (seed, seed2); seed
  // None draws a fresh one.
  m.def("image_random_crop",
        [](const py::handle& img, int64_t h, int64_t w, uint64_t seed) {
          Tensor t = ImageArg(img);
          return Run([&] {
            Random rng(seed, seed == 0 ? 0 : 1);
            return image::RandomCrop(t, h, w, &rng);
          });
        });
  m.def("image_random_flip",
        [](const py::handle& img, bool left_right, uint64_t seed) {
          Tensor t = ImageArg(img);
          return Run([&] {
            Random rng(seed, seed == 0 ? 0 : 1);
            return left_right ? image::RandomFlipLeftRight(t, &rng)
                              : image::RandomFlipUpDown(t, &rng);
          });
        });
}

}  // namespace sluice::python
