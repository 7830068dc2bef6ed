// libFuzzer target for the image decoders (image/decode_image.h, jpeg.h,
// png.h) on arbitrary bytes. The first byte picks channels, ratio, DCT
// method and PNG dtype; the rest is the file. Every call must end OK or
// with InvalidArgument / Unimplemented, never crash, leak or read out of
// bounds (ASan/UBSan). A decode that succeeds must agree with the header:
// the shape is the header's (scaled) size with the asked-for channels.
// See fuzz/README.md for the build and run commands.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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
