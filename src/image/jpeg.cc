#include "image/jpeg.h"

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include <turbojpeg.h>

#include "core/absl_compat.h"
#include "image/internal/image_dims.h"
#include "image/internal/jpeg_cmyk.h"
#include "image/internal/jpeg_crop.h"

namespace sluice::image {
namespace {

struct TjDeleter {
  void operator()(void* h) const {
    if (h != nullptr) tjDestroy(h);
  }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

// One decompressor and one compressor per thread: creating a handle costs
// about as much as decoding a small image. A handle that failed is
// replaced: after an error in the middle of a decode, TurboJPEG 2.1's
// handle can reject the next valid header ("Bogus DQT index").
TjHandle& DecompressorSlot() {
  thread_local TjHandle h(tjInitDecompress());
  return h;
}
tjhandle Decompressor() { return DecompressorSlot().get(); }
void ResetDecompressor() { DecompressorSlot().reset(tjInitDecompress()); }
// Progressive and baseline encodes use separate handles: a TurboJPEG 2.1
// handle that wrote a progressive JPEG writes corrupt baseline ones after
// (the progressive scan script stays set; seen as "bad Huffman code").
tjhandle Compressor(bool progressive) {
  thread_local TjHandle baseline(tjInitCompress());
  thread_local TjHandle prog(tjInitCompress());
  return progressive ? prog.get() : baseline.get();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// What TurboJPEG's header reader does not say: whether the file carries an
// Adobe APP14 marker (its CMYK samples are then stored inverted), whether
// its frame is progressive, where its first scan starts, and (with
// `all_scans`) whether every scan finds the tables it uses defined earlier
// in the same stream. Malformed lengths just end the walk (the decoder
// reports those).
//
// libjpeg keeps the tables of earlier images for abbreviated streams, so
// a reused TurboJPEG handle would decode a stream that leaves one out with
// the previous image's table, where a fresh decoder refuses it or, for
// Huffman DC/AC tables 0 and 1, uses the standard ones. Tables may be
// (re)defined between scans, so each scan is checked against what the
// stream defined before it: the walk steps over entropy-coded data to the
// next marker (a memchr for 0xFF; stuffed 0xFF00 and RSTn are data).
struct MarkerScan {
  bool adobe = false;
  bool progressive = false;
  size_t first_scan = 0;  // offset of the first SOS marker; 0: not reached
  // Set by an all_scans walk: it reached the end-of-image marker, and no
  // scan uses a Huffman table or a component quantization table that the
  // stream had not defined before that scan.
  bool reached_eoi = false;
  bool missing_table = false;
  bool self_contained() const { return reached_eoi && !missing_table; }
};

uint8_t Byte(std::string_view s, size_t i) {
  return static_cast<uint8_t>(s[i]);
}

// The offset of the marker that ends the entropy-coded data starting at
// `i`, or s.size() when the data runs to the end.
size_t SkipEntropyCoded(std::string_view s, size_t i) {
  while (i < s.size()) {
    const void* p = std::memchr(s.data() + i, 0xFF, s.size() - i);
    if (p == nullptr) return s.size();
    i = static_cast<size_t>(static_cast<const char*>(p) - s.data());
    if (i + 1 >= s.size()) return s.size();
    const uint8_t next = Byte(s, i + 1);
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
      i += 2;  // a stuffed 0xFF or a restart marker: still data
    } else if (next == 0xFF) {
      i += 1;  // fill byte before a marker
    } else {
      return i;
    }
  }
  return s.size();
}

MarkerScan ScanMarkers(std::string_view s, bool all_scans) {
  MarkerScan m;
  bool arithmetic = false;
  uint32_t defined_quant = 0;  // bit t: DQT table t defined so far
  uint32_t defined_huff = 0;   // bit 16 * class + id: DHT table so far
  struct Component {
    uint8_t id, quant;
  };
  Component components[16];  // the frame's, with their Tq (libjpeg: <= 10)
  size_t num_components = 0;
  size_t i = 2;
  while (i + 2 <= s.size()) {
    if (Byte(s, i) != 0xFF) break;  // libjpeg would skip garbage: unknown
    const uint8_t marker = Byte(s, i + 1);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD9) {  // end of image
      m.reached_eoi = true;
      break;
    }
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      i += 2;  // parameterless (RSTn, TEM)
      continue;
    }
    if (i + 4 > s.size()) break;
    const size_t len = (Byte(s, i + 2) << 8) | Byte(s, i + 3);
    if (len < 2 || i + 2 + len > s.size()) break;
    const size_t end = i + 2 + len;
    // Start of scan: Ns, Ns x (Cs, Td:4 Ta:4), Ss, Se, Ah:4 Al:4.
    if (marker == 0xDA) {
      if (m.first_scan == 0) m.first_scan = i;
      if (!all_scans) break;
      const size_t ns = len >= 3 ? Byte(s, i + 4) : 0;
      if (len < 6 + 2 * ns) {
        m.missing_table = true;  // malformed: the decoder refuses it
        break;
      }
      const uint8_t ss = Byte(s, i + 5 + 2 * ns);
      const uint8_t ah = Byte(s, i + 7 + 2 * ns) >> 4;
      // Sequential scans use both tables of each component; progressive
      // DC scans the DC table (refinements none), AC scans (first and
      // refinement) the AC table; arithmetic coding no Huffman table.
      const bool dc = !arithmetic && (!m.progressive || (ss == 0 && ah == 0));
      const bool ac = !arithmetic && (!m.progressive || ss != 0);
      for (size_t c = 0; c < ns; ++c) {
        const uint8_t cs = Byte(s, i + 5 + 2 * c);
        const uint8_t td_ta = Byte(s, i + 6 + 2 * c);
        uint32_t used_huff = 0;
        if (dc) used_huff |= 1u << (td_ta >> 4);
        if (ac) used_huff |= 1u << (16 + (td_ta & 0x0F));
        if ((used_huff & ~defined_huff) != 0) m.missing_table = true;
        bool known = false;
        for (size_t k = 0; k < num_components; ++k) {
          if (components[k].id != cs) continue;
          known = true;
          if ((defined_quant & (1u << components[k].quant)) == 0)
            m.missing_table = true;
        }
        if (!known) m.missing_table = true;
      }
      i = SkipEntropyCoded(s, end);
      continue;
    }
    if (marker == 0xEE && len >= 2 + 5 && s.compare(i + 4, 5, "Adobe") == 0)
      m.adobe = true;
    if (marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE)
      m.progressive = true;
    if (marker >= 0xC9 && marker <= 0xCF && marker != 0xCC) arithmetic = true;
    if (marker == 0xC4) {  // (Tc:4 Th:4, 16 counts, sum(counts) values) ...
      for (size_t t = i + 4; t + 17 <= end;) {
        const uint8_t tc_th = Byte(s, t);
        size_t values = 0;
        for (size_t k = 1; k <= 16; ++k) values += Byte(s, t + k);
        if (t + 17 + values > end) break;
        defined_huff |= 1u << (16 * ((tc_th >> 4) & 1) + (tc_th & 0x0F));
        t += 17 + values;
      }
    }
    if (marker == 0xDB) {  // (Pq:4 Tq:4, 64 or 128 bytes) ...
      for (size_t t = i + 4; t < end;) {
        const uint8_t pq_tq = Byte(s, t);
        defined_quant |= 1u << (pq_tq & 0x0F);
        t += 1 + ((pq_tq >> 4) != 0 ? 128 : 64);
      }
    }
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                     marker != 0xC8 && marker != 0xCC;
    if (sof && len >= 8) {  // P, Y, X, Nf, then Nf x (C, H:V, Tq)
      const size_t nf = Byte(s, i + 9);
      for (size_t c = 0; c < nf && i + 12 + 3 * c < end && num_components < 16;
           ++c) {
        components[num_components++] = {
            Byte(s, i + 10 + 3 * c),
            static_cast<uint8_t>(Byte(s, i + 12 + 3 * c) & 0x0F)};
      }
    }
    i = end;
  }
  return m;
}

// The error of the thread's decompressor, which is then replaced.
absl::Status TjError(tjhandle h, const char* what) {
  absl::Status s = absl::InvalidArgumentError(
      absl::StrCat("Invalid JPEG data: ", what, ": ", tjGetErrorStr2(h)));
  if (h == Decompressor()) ResetDecompressor();
  return s;
}

}  // namespace

absl::StatusOr<DctMethod> ParseDctMethod(std::string_view name) {
  if (name.empty()) return DctMethod::kDefault;
  if (name == "INTEGER_ACCURATE") return DctMethod::kIntegerAccurate;
  if (name == "INTEGER_FAST") return DctMethod::kIntegerFast;
  return absl::InvalidArgumentError(absl::StrCat(
      "dct_method must be '', 'INTEGER_ACCURATE' or 'INTEGER_FAST', got '",
      Sv(name), "'"));
}

int64_t ScaledJpegDim(int64_t dim, int ratio) {
  return (dim + ratio - 1) / ratio;
}

absl::StatusOr<JpegHeader> ReadJpegHeader(std::string_view contents) {
  if (contents.size() < 3 || static_cast<uint8_t>(contents[0]) != 0xFF ||
      static_cast<uint8_t>(contents[1]) != 0xD8) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid JPEG data: no start-of-image marker (",
                     contents.size(), " bytes)"));
  }
  tjhandle h = Decompressor();
  if (h == nullptr)
    return absl::ResourceExhaustedError("cannot create a JPEG decompressor");
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(h, Bytes(contents), contents.size(), &width, &height,
                          &subsamp, &colorspace) != 0) {
    return TjError(h, "header");
  }
  JpegHeader hdr;
  hdr.width = width;
  hdr.height = height;
  hdr.cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  hdr.channels = colorspace == TJCS_GRAY ? 1 : 3;
  hdr.progressive = ScanMarkers(contents, /*all_scans=*/false).progressive;
  return hdr;
}

namespace {

// The checks every JPEG decode makes before touching pixels: the options,
// the header, the pixel limit, CMYK to one channel. *channels receives
// the output's channel count.
absl::StatusOr<JpegHeader> CheckDecode(std::string_view contents,
                                       const DecodeJpegOptions& o,
                                       int* channels) {
  if (o.channels != 0 && o.channels != 1 && o.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecodeJpeg: channels must be 0, 1 or 3, got ", o.channels));
  }
  if (o.ratio != 1 && o.ratio != 2 && o.ratio != 4 && o.ratio != 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodeJpeg: ratio must be 1, 2, 4 or 8, got ", o.ratio));
  }
  SLUICE_ASSIGN_OR_RETURN(JpegHeader hdr, ReadJpegHeader(contents));
  if (hdr.height * hdr.width > o.max_pixels) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG of ", hdr.height, "x", hdr.width,
                     " exceeds the limit of ", o.max_pixels, " pixels"));
  }
  *channels = o.channels == 0 ? hdr.channels : o.channels;
  if (hdr.cmyk && *channels == 1) {
    return absl::InvalidArgumentError(
        "DecodeJpeg: a CMYK JPEG cannot be decoded to 1 channel");
  }
  return hdr;
}

}  // namespace

absl::Status DecodeJpegInto(std::string_view contents,
                            const DecodeJpegOptions& o, uint8_t* out,
                            int64_t stride, int64_t* height_out,
                            int64_t* width_out, int* channels_out) {
  int channels = 0;
  SLUICE_ASSIGN_OR_RETURN(JpegHeader hdr, CheckDecode(contents, o, &channels));
  const int64_t height = ScaledJpegDim(hdr.height, o.ratio);
  const int64_t width = ScaledJpegDim(hdr.width, o.ratio);
  if (stride == 0) stride = width * channels;
  int flags = TJFLAG_LIMITSCANS;
  if (o.dct_method == DctMethod::kIntegerFast) flags |= TJFLAG_FASTDCT;
  const MarkerScan markers = ScanMarkers(contents, /*all_scans=*/true);
  // A fresh decoder for a stream that leaves out a table it uses (or that
  // the walk could not follow to its end), so no earlier image's table
  // stands in: what a fresh decoder and the libjpeg window path see.
  if (!markers.self_contained()) ResetDecompressor();
  tjhandle h = Decompressor();
  if (!hdr.cmyk) {
    const int format = channels == 1 ? TJPF_GRAY : TJPF_RGB;
    if (tjDecompress2(h, Bytes(contents), contents.size(), out,
                      static_cast<int>(width), static_cast<int>(stride),
                      static_cast<int>(height), format, flags) != 0) {
      return TjError(h, "decode");
    }
  } else {
    std::vector<uint8_t> cmyk(static_cast<size_t>(height * width * 4));
    if (tjDecompress2(h, Bytes(contents), contents.size(), cmyk.data(),
                      static_cast<int>(width), 0, static_cast<int>(height),
                      TJPF_CMYK, flags) != 0) {
      return TjError(h, "decode");
    }
    for (int64_t y = 0; y < height; ++y) {
      internal::CmykToRgb(cmyk.data() + y * width * 4, width, markers.adobe,
                          out + y * stride);
    }
  }
  *height_out = height;
  *width_out = width;
  *channels_out = channels;
  return absl::OkStatus();
}

absl::StatusOr<Tensor> DecodeJpeg(std::string_view contents,
                                  const DecodeJpegOptions& o) {
  SLUICE_ASSIGN_OR_RETURN(JpegHeader hdr, ReadJpegHeader(contents));
  const int channels = o.channels == 0 ? hdr.channels : o.channels;
  if (hdr.height * hdr.width > o.max_pixels) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG of ", hdr.height, "x", hdr.width,
                     " exceeds the limit of ", o.max_pixels, " pixels"));
  }
  const int64_t ratio =
      (o.ratio == 2 || o.ratio == 4 || o.ratio == 8) ? o.ratio : 1;
  Tensor out(DType::kUInt8,
             TensorShape{ScaledJpegDim(hdr.height, ratio),
                         ScaledJpegDim(hdr.width, ratio),
                         channels == 0 || channels > 3 ? 3 : channels});
  if (!out.IsInitialized())
    return absl::ResourceExhaustedError("DecodeJpeg: out of memory");
  int64_t h = 0, w = 0;
  int c = 0;
  SLUICE_RETURN_IF_ERROR(
      DecodeJpegInto(contents, o, out.data<uint8_t>(), 0, &h, &w, &c));
  return out;
}

namespace {

// InvalidArgument naming the window and the (scaled) size unless `crop`
// lies inside the image.
absl::Status CheckWindow(const CropWindow& crop, int64_t H, int64_t W) {
  if (crop.y < 0 || crop.x < 0 || crop.height <= 0 || crop.width <= 0 ||
      crop.y > H - crop.height || crop.x > W - crop.width) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid JPEG data or crop window: window [y=", crop.y,
                     ", x=", crop.x, ", h=", crop.height, ", w=", crop.width,
                     "] is outside the ", H, "x", W, " image"));
  }
  return absl::OkStatus();
}

// DecodeAndCropJpegInto after CheckDecode and CheckWindow.
absl::Status DecodeCheckedWindow(std::string_view contents,
                                 const JpegHeader& hdr, int channels,
                                 const CropWindow& crop,
                                 const DecodeJpegOptions& o, uint8_t* out,
                                 int64_t stride) {
  // The window decode stops after its last row, so a stream cut short below
  // it would go unnoticed: refuse one without an end-of-image marker after
  // the first scan (0xFF 0xD9 cannot occur inside entropy-coded data), as a
  // full decode refuses it.
  const MarkerScan markers = ScanMarkers(contents, /*all_scans=*/false);
  const size_t eoi = contents.rfind("\xFF\xD9");
  if (eoi == std::string_view::npos || eoi < markers.first_scan) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid JPEG data: no end-of-image marker after the first scan (",
        contents.size(), " bytes; truncated?)"));
  }
  internal::JpegWindowRequest r;
  r.image_height = ScaledJpegDim(hdr.height, o.ratio);
  r.image_width = ScaledJpegDim(hdr.width, o.ratio);
  r.y = crop.y;
  r.x = crop.x;
  r.height = crop.height;
  r.width = crop.width;
  // The scaling factor TurboJPEG's tjDecompress2 picks for that output
  // size (the first of its list that fits), so the IDCT is the same.
  int num_factors = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&num_factors);
  for (int i = 0; factors != nullptr && i < num_factors; ++i) {
    if (TJSCALED(hdr.width, factors[i]) <= r.image_width &&
        TJSCALED(hdr.height, factors[i]) <= r.image_height) {
      r.scale_num = factors[i].num;
      r.scale_denom = factors[i].denom;
      break;
    }
  }
  r.fast_dct = o.dct_method == DctMethod::kIntegerFast;
  r.color = hdr.cmyk        ? internal::JpegOutColor::kCmykToRgb
            : channels == 1 ? internal::JpegOutColor::kGray
                            : internal::JpegOutColor::kRgb;
  r.cmyk_inverted = hdr.cmyk && markers.adobe;
  if (stride == 0) stride = crop.width * channels;
  return internal::DecodeJpegWindow(contents, r, out, stride);
}

}  // namespace

absl::Status DecodeAndCropJpegInto(std::string_view contents,
                                   const CropWindow& crop,
                                   const DecodeJpegOptions& o, uint8_t* out,
                                   int64_t stride, int* channels_out) {
  int channels = 0;
  SLUICE_ASSIGN_OR_RETURN(JpegHeader hdr, CheckDecode(contents, o, &channels));
  SLUICE_RETURN_IF_ERROR(CheckWindow(crop, ScaledJpegDim(hdr.height, o.ratio),
                                     ScaledJpegDim(hdr.width, o.ratio)));
  SLUICE_RETURN_IF_ERROR(
      DecodeCheckedWindow(contents, hdr, channels, crop, o, out, stride));
  *channels_out = channels;
  return absl::OkStatus();
}

absl::StatusOr<Tensor> DecodeAndCropJpeg(std::string_view contents,
                                         const CropWindow& crop,
                                         const DecodeJpegOptions& o) {
  int channels = 0;
  SLUICE_ASSIGN_OR_RETURN(JpegHeader hdr, CheckDecode(contents, o, &channels));
  SLUICE_RETURN_IF_ERROR(CheckWindow(crop, ScaledJpegDim(hdr.height, o.ratio),
                                     ScaledJpegDim(hdr.width, o.ratio)));
  Tensor out(DType::kUInt8, TensorShape{crop.height, crop.width, channels});
  if (!out.IsInitialized())
    return absl::ResourceExhaustedError("DecodeAndCropJpeg: out of memory");
  SLUICE_RETURN_IF_ERROR(DecodeCheckedWindow(contents, hdr, channels, crop, o,
                                             out.data<uint8_t>(), 0));
  return out;
}

absl::StatusOr<std::string> EncodeJpeg(const Tensor& image,
                                       const EncodeJpegOptions& o) {
  if (!image.IsInitialized() || image.dtype() != DType::kUInt8 ||
      image.rank() != 3 || (image.dim(2) != 1 && image.dim(2) != 3)) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodeJpeg: image must be uint8 [H, W, 1 or 3], got ",
                     image.IsInitialized() ? image.DebugString(0) : "nothing"));
  }
  if (o.quality < 0 || o.quality > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodeJpeg: quality must be in [0, 100], got ", o.quality));
  }
  const int64_t H = image.dim(0), W = image.dim(1), C = image.dim(2);
  if (H <= 0 || W <= 0 || H > 65535 || W > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodeJpeg: dimensions must be in [1, 65535], got ", H, "x", W));
  }
  tjhandle h = Compressor(o.progressive);
  if (h == nullptr)
    return absl::ResourceExhaustedError("cannot create a JPEG compressor");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int subsamp =
      C == 1 ? TJSAMP_GRAY : (o.chroma_downsampling ? TJSAMP_420 : TJSAMP_444);
  const int flags = o.progressive ? TJFLAG_PROGRESSIVE : 0;
  // TurboJPEG's quality is 1..100; libjpeg clamps 0 to 1 as well.
  const int quality = o.quality < 1 ? 1 : o.quality;
  const int rc = tjCompress2(h, image.data<uint8_t>(), static_cast<int>(W), 0,
                             static_cast<int>(H), C == 1 ? TJPF_GRAY : TJPF_RGB,
                             &buf, &size, subsamp, quality, flags);
  if (rc != 0) {
    if (buf != nullptr) tjFree(buf);
    return absl::InternalError(absl::StrCat("EncodeJpeg: ", tjGetErrorStr2(h)));
  }
  std::string result(reinterpret_cast<const char*>(buf), size);
  tjFree(buf);
  return result;
}

}  // namespace sluice::image
