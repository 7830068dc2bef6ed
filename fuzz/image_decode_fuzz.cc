// libFuzzer target for the image decoders (image/decode_image.h, jpeg.h,
// png.h) on arbitrary bytes. The first byte picks channels, ratio, DCT
// method and PNG dtype; the rest is the file. Every call must end OK or
// with InvalidArgument / Unimplemented, never crash, leak or read out of
// bounds (ASan/UBSan). A decode that succeeds must agree with the header:
// the shape is the header's (scaled) size with the asked-for channels.
// DecodeAndCropJpeg (the fused libjpeg window decode) runs on a window
// drawn from the header's size and the input's length: it must end OK or
// InvalidArgument, and where the full decode succeeded it must succeed with
// the full decode's pixels in that window.
// See fuzz/README.md for the build and run commands.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "image/decode_image.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckStatus(const absl::Status& s) {
  Check(s.ok() || s.code() == absl::StatusCode::kInvalidArgument ||
        s.code() == absl::StatusCode::kUnimplemented);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::image;
  if (size < 1) return 0;
  const uint8_t knobs = data[0];
  const std::string_view contents(reinterpret_cast<const char*>(data + 1),
                                  size - 1);
  constexpr int64_t kMaxPixels = 1 << 20;  // keep each input's memory small

  DecodeJpegOptions jo;
  static constexpr int kJpegChannels[3] = {0, 1, 3};
  jo.channels = kJpegChannels[knobs % 3];
  jo.ratio = 1 << ((knobs >> 2) & 3);
  jo.dct_method =
      (knobs & 0x10) ? DctMethod::kIntegerFast : DctMethod::kDefault;
  jo.max_pixels = kMaxPixels;
  absl::StatusOr<sluice::Tensor> j = DecodeJpeg(contents, jo);
  CheckStatus(j.status());
  if (j.ok()) {
    absl::StatusOr<JpegHeader> h = ReadJpegHeader(contents);
    Check(h.ok());
    Check(j->dim(0) == ScaledJpegDim(h->height, jo.ratio));
    Check(j->dim(1) == ScaledJpegDim(h->width, jo.ratio));
    Check(j->dim(2) == (jo.channels == 0 ? h->channels : jo.channels));
  }
  absl::StatusOr<JpegHeader> jh = ReadJpegHeader(contents);
  if (jh.ok() && jh->height > 0 && jh->width > 0) {
    const int64_t H = ScaledJpegDim(jh->height, jo.ratio);
    const int64_t W = ScaledJpegDim(jh->width, jo.ratio);
    const uint64_t r = size * 2654435761u;
    CropWindow w;
    w.y = static_cast<int64_t>(r % H);
    w.x = static_cast<int64_t>((r >> 16) % W);
    w.height = 1 + static_cast<int64_t>((r >> 8) % (H - w.y));
    w.width = 1 + static_cast<int64_t>((r >> 24) % (W - w.x));
    absl::StatusOr<sluice::Tensor> c = DecodeAndCropJpeg(contents, w, jo);
    Check(c.ok() || c.status().code() == absl::StatusCode::kInvalidArgument);
    if (j.ok()) {
      Check(c.ok());
      const int64_t C = j->dim(2);
      Check(c->dim(0) == w.height && c->dim(1) == w.width && c->dim(2) == C);
      for (int64_t y = 0; y < w.height; ++y) {
        Check(std::memcmp(c->data<uint8_t>() + y * w.width * C,
                          j->data<uint8_t>() + ((w.y + y) * W + w.x) * C,
                          w.width * C) == 0);
      }
    }
  }

  DecodePngOptions po;
  po.channels = knobs % 5;
  po.dtype = (knobs & 0x20) ? sluice::DType::kUInt16 : sluice::DType::kUInt8;
  po.max_pixels = kMaxPixels;
  absl::StatusOr<sluice::Tensor> p = DecodePng(contents, po);
  CheckStatus(p.status());
  if (p.ok()) {
    absl::StatusOr<PngHeader> h = ReadPngHeader(contents);
    Check(h.ok());
    Check(p->dim(0) == h->height && p->dim(1) == h->width);
    Check(p->dim(2) == (po.channels == 0 ? h->channels : po.channels));
  }
  return 0;
}
