#include "image/internal/jpeg_crop.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "image/internal/jpeg_cmyk.h"

namespace sluice::internal {
namespace {

// TurboJPEG's TJFLAG_LIMITSCANS bound.
constexpr int kMaxProgressiveScans = 500;

// libjpeg's error manager, extended with the jump back into DecodeWindowC
// and the first error's text. Errors and warnings both jump.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
};

[[noreturn]] void ErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// msg_level -1 is a warning (corrupt data libjpeg can go past, a stream
// that ends early); TurboJPEG 2.1 fails a decode that met one, so it is an
// error here. Levels >= 0 are trace messages, ignored.
void EmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) ErrorExit(cinfo);
}

void OutputMessage(j_common_ptr) {}

struct ScanLimit {
  jpeg_progress_mgr pub;
};

void CheckScanCount(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxProgressiveScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message),
                  "Progressive JPEG image has more than %d scans",
                  kMaxProgressiveScans);
    std::longjmp(err->jump, 1);
  }
}

// The libjpeg part, C style: nothing with a destructor lives in this frame
// (longjmp skips destructors). Returns false with err->message set on
// error. cinfo and err belong to the caller's frame.
bool DecodeWindowC(const unsigned char* data, size_t size,
                   const JpegWindowRequest* r, uint8_t* out, size_t stride,
                   jpeg_decompress_struct* cinfo, ErrorManager* err) {
  cinfo->err = jpeg_std_error(&err->pub);
  err->pub.error_exit = ErrorExit;
  err->pub.emit_message = EmitMessage;
  err->pub.output_message = OutputMessage;
  err->message[0] = '\0';
  ScanLimit progress;
  progress.pub.progress_monitor = CheckScanCount;
  if (setjmp(err->jump) != 0) {
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  jpeg_create_decompress(cinfo);
  cinfo->progress = &progress.pub;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
    std::snprintf(err->message, sizeof(err->message), "no image in the stream");
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  int components = 3;
  switch (r->color) {
    case JpegOutColor::kGray:
      cinfo->out_color_space = JCS_GRAYSCALE;
      components = 1;
      break;
    case JpegOutColor::kRgb:
      cinfo->out_color_space = JCS_EXT_RGB;  // TurboJPEG's TJPF_RGB
      break;
    case JpegOutColor::kCmykToRgb:
      cinfo->out_color_space = JCS_CMYK;
      components = 4;
      break;
  }
  cinfo->dct_method = r->fast_dct ? JDCT_IFAST : JDCT_ISLOW;
  cinfo->scale_num = static_cast<unsigned>(r->scale_num);
  cinfo->scale_denom = static_cast<unsigned>(r->scale_denom);
  jpeg_start_decompress(cinfo);
  if (static_cast<int64_t>(cinfo->output_height) != r->image_height ||
      static_cast<int64_t>(cinfo->output_width) != r->image_width ||
      cinfo->output_components != components) {
    std::snprintf(err->message, sizeof(err->message),
                  "libjpeg decodes %ux%ux%d, TurboJPEG's header said "
                  "%lldx%lldx%d",
                  cinfo->output_height, cinfo->output_width,
                  cinfo->output_components,
                  static_cast<long long>(r->image_height),
                  static_cast<long long>(r->image_width), components);
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  // Columns: the window and kContext more on each side (within the image).
  // libjpeg upsamples a cropped region as if its edges were the image's,
  // and its left edge moves down to an iMCU boundary: a window column
  // within a chroma sample of the region's edge would see a replicated
  // neighbour instead of the real one. kContext pixels cover a chroma
  // sample (at most 2 pixels for the smooth h2v1 / h2v2 upsamplers) with
  // room to spare; the left margin adds an iMCU only when the window
  // starts within kContext of one.
  constexpr int64_t kContext = 4;
  const int64_t left = r->x > kContext ? r->x - kContext : 0;
  const int64_t right = r->x + r->width + kContext < r->image_width
                            ? r->x + r->width + kContext
                            : r->image_width;
  JDIMENSION xoffset = static_cast<JDIMENSION>(left);
  JDIMENSION cropped = static_cast<JDIMENSION>(right - left);
  if (xoffset != 0 || cropped != cinfo->output_width)
    jpeg_crop_scanline(cinfo, &xoffset, &cropped);
  const size_t skip_bytes =
      static_cast<size_t>(r->x - static_cast<int64_t>(xoffset)) * components;
  // Rows above the window: entropy-decoded only (libjpeg decodes what the
  // upsampling context of the first row needs).
  if (r->y > 0) {
    const JDIMENSION want = static_cast<JDIMENSION>(r->y);
    if (jpeg_skip_scanlines(cinfo, want) != want) {
      std::snprintf(err->message, sizeof(err->message),
                    "skipped fewer than %u rows", want);
      jpeg_destroy_decompress(cinfo);
      return false;
    }
  }
  // A few rows per call (libjpeg's recommended height: 2 for 4:2:0) into
  // rows the library allocates (freed with it).
  const int batch = cinfo->rec_outbuf_height > 0 ? cinfo->rec_outbuf_height : 1;
  JSAMPARRAY rows = (*cinfo->mem->alloc_sarray)(
      reinterpret_cast<j_common_ptr>(cinfo), JPOOL_IMAGE,
      cropped * static_cast<JDIMENSION>(components),
      static_cast<JDIMENSION>(batch));
  int64_t done = 0;
  while (done < r->height) {
    int64_t want = r->height - done;
    if (want > batch) want = batch;
    const JDIMENSION got =
        jpeg_read_scanlines(cinfo, rows, static_cast<JDIMENSION>(want));
    if (got == 0) {
      std::snprintf(err->message, sizeof(err->message),
                    "no scanline at row %lld",
                    static_cast<long long>(r->y + done));
      jpeg_destroy_decompress(cinfo);
      return false;
    }
    for (JDIMENSION i = 0; i < got; ++i, ++done) {
      const uint8_t* src = rows[i] + skip_bytes;
      uint8_t* dst = out + static_cast<size_t>(done) * stride;
      if (r->color == JpegOutColor::kCmykToRgb) {
        CmykToRgb(src, r->width, r->cmyk_inverted, dst);
      } else {
        std::memcpy(dst, src, static_cast<size_t>(r->width) * components);
      }
    }
  }
  // The rows below the window are never decoded.
  jpeg_destroy_decompress(cinfo);
  return true;
}

}  // namespace

absl::Status DecodeJpegWindow(std::string_view contents,
                              const JpegWindowRequest& request, uint8_t* out,
                              int64_t stride) {
  // Zeroed: an error inside jpeg_create_decompress (before it zeroes the
  // struct itself) must leave jpeg_destroy_decompress nothing to free.
  jpeg_decompress_struct cinfo = {};
  ErrorManager err;
  if (!DecodeWindowC(reinterpret_cast<const unsigned char*>(contents.data()),
                     contents.size(), &request, out,
                     static_cast<size_t>(stride), &cinfo, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid JPEG data: decoding the window [y=", request.y,
                     ", x=", request.x, ", h=", request.height,
                     ", w=", request.width, "]: ", err.message));
  }
  return absl::OkStatus();
}

}  // namespace sluice::internal
