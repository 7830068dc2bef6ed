#include "image/png.h"

#include <csetjmp>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include <png.h>

#include "core/absl_compat.h"

namespace sluice::image {
namespace {

// Largest ancillary chunk (or decompressed text) libpng may allocate.
constexpr png_alloc_size_t kMaxChunkBytes = 8 << 20;

constexpr unsigned char kSignature[8] = {0x89, 'P',  'N',  'G',
                                         '\r', '\n', 0x1A, '\n'};

// libpng reports errors by longjmp to png_jmpbuf. The functions that call
// setjmp (ReadHeaderAndSetUp, ReadRows, WriteImage) hold only trivially
// destructible locals; everything with a destructor lives in their callers,
// so a longjmp skips no destructor.
struct ReadState {
  const unsigned char* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char error[200] = {0};
};

void OnError(png_structp png, png_const_charp message) {
  auto* s = static_cast<ReadState*>(png_get_error_ptr(png));
  std::snprintf(s->error, sizeof(s->error), "%s", message);
  png_longjmp(png, 1);
}
void OnWarning(png_structp, png_const_charp) {}

void ReadBytes(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<ReadState*>(png_get_io_ptr(png));
  if (n > s->size - s->pos) png_error(png, "truncated PNG data");
  std::memcpy(out, s->data + s->pos, n);
  s->pos += n;
}

struct ReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadGuard() {
    if (png != nullptr)
      png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

struct Layout {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  int file_channels = 0;
  int channels = 0;  // output
  bool has_trns = false;
};

// Reads the header; with `transform`, sets up the transforms that give
// `want_channels` channels of `want_16` bits and re-reads the layout.
// Returns false (with state->error set) when libpng failed.
bool ReadHeaderAndSetUp(png_structp png, png_infop info, bool transform,
                        int want_channels, bool want_16, Layout* l) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_user_limits(png, 1u << 24, 1u << 24);
  png_read_info(png, info);
  png_get_IHDR(png, info, &l->width, &l->height, &l->bit_depth, &l->color_type,
               nullptr, nullptr, nullptr);
  l->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  l->file_channels = l->color_type == PNG_COLOR_TYPE_PALETTE
                         ? (l->has_trns ? 4 : 3)
                         : png_get_channels(png, info);
  if (!transform) return true;
  const int channels = want_channels == 0 ? l->file_channels : want_channels;
  const bool is_gray = (l->color_type & PNG_COLOR_MASK_COLOR) == 0;
  if (l->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (is_gray && l->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (channels < 3) {
    if (!is_gray) png_set_rgb_to_gray(png, 1, 0.299, 0.587);
  } else if (is_gray) {
    png_set_gray_to_rgb(png);
  }
  const bool want_alpha = channels == 2 || channels == 4;
  if (want_alpha) {
    if (l->has_trns) {
      png_set_tRNS_to_alpha(png);
    } else if ((l->color_type & PNG_COLOR_MASK_ALPHA) == 0) {
      png_set_add_alpha(png, 0xFFFF, PNG_FILLER_AFTER);
    }
  } else if ((l->color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
             (l->has_trns && l->color_type == PNG_COLOR_TYPE_PALETTE)) {
    // (palette_to_rgb expands tRNS to alpha too)
    png_set_strip_alpha(png);
  }
  if (l->bit_depth == 16 && !want_16) png_set_strip_16(png);
  if (want_16 && l->bit_depth < 16) png_set_expand_16(png);
  if (want_16) png_set_swap(png);  // host (little-endian) order
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  l->channels = png_get_channels(png, info);
  return true;
}

bool ReadRows(png_structp png, png_infop info, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

absl::Status PngError(const ReadState& s) {
  return absl::InvalidArgumentError(
      absl::StrCat("Invalid PNG data: ", s.error));
}

absl::Status CheckSignature(std::string_view contents) {
  if (contents.size() < 8 || std::memcmp(contents.data(), kSignature, 8) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid PNG data: no PNG signature (", contents.size(), " bytes)"));
  }
  return absl::OkStatus();
}

// Walks the chunk list (length, type, data, CRC) up to IEND and refuses a
// chunk whose length runs past the end of the data. libpng allocates (and
// zeroes) a chunk's stated length before reading it, so without this a
// 449-byte file (found by image_decode_fuzz) made it allocate 2 GB.
absl::Status CheckChunkLengths(std::string_view s) {
  size_t at = 8;
  while (at + 8 <= s.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
    const uint64_t len =
        (uint64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (len > s.size() - at - 8 || s.size() - at - 8 - len < 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid PNG data: truncated: chunk '",
          absl::string_view(s.data() + at + 4, 4), "' at offset ", at,
          " claims ", len, " bytes, ", s.size() - at - 8, " remain"));
    }
    if (std::memcmp(p + 4, "IEND", 4) == 0) return absl::OkStatus();
    at += 12 + len;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "Invalid PNG data: truncated at ", at, " bytes (no IEND chunk)"));
}

absl::Status OpenRead(std::string_view contents, ReadState* state,
                      ReadGuard* g) {
  SLUICE_RETURN_IF_ERROR(CheckSignature(contents));
  SLUICE_RETURN_IF_ERROR(CheckChunkLengths(contents));
  state->data = reinterpret_cast<const unsigned char*>(contents.data());
  state->size = contents.size();
  g->png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, state, OnError, OnWarning);
  if (g->png == nullptr)
    return absl::ResourceExhaustedError("png_create_read_struct failed");
  g->info = png_create_info_struct(g->png);
  if (g->info == nullptr)
    return absl::ResourceExhaustedError("png_create_info_struct failed");
  png_set_read_fn(g->png, state, ReadBytes);
  // Decompressed text / ICC chunks are capped too.
  png_set_chunk_malloc_max(g->png, kMaxChunkBytes);
  png_set_chunk_cache_max(g->png, 1000);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PngHeader> ReadPngHeader(std::string_view contents) {
  ReadState state;
  ReadGuard g;
  SLUICE_RETURN_IF_ERROR(OpenRead(contents, &state, &g));
  Layout l;
  if (!ReadHeaderAndSetUp(g.png, g.info, false, 0, false, &l))
    return PngError(state);
  PngHeader h;
  h.height = l.height;
  h.width = l.width;
  h.channels = l.file_channels;
  h.bit_depth = l.bit_depth;
  h.palette = l.color_type == PNG_COLOR_TYPE_PALETTE;
  return h;
}

absl::StatusOr<Tensor> DecodePng(std::string_view contents,
                                 const DecodePngOptions& o) {
  if (o.channels < 0 || o.channels > 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecodePng: channels must be in [0, 4], got ", o.channels));
  }
  if (o.dtype != DType::kUInt8 && o.dtype != DType::kUInt16) {
    return absl::InvalidArgumentError(
        absl::StrCat("DecodePng: dtype must be uint8 or uint16, got ",
                     Sv(DTypeName(o.dtype))));
  }
  // The header first, without transforms, to check the size before
  // libpng allocates anything for the rows.
  SLUICE_ASSIGN_OR_RETURN(PngHeader hdr, ReadPngHeader(contents));
  if (hdr.height * hdr.width > o.max_pixels) {
    return absl::InvalidArgumentError(
        absl::StrCat("PNG of ", hdr.height, "x", hdr.width,
                     " exceeds the limit of ", o.max_pixels, " pixels"));
  }
  ReadState state;
  ReadGuard g;
  SLUICE_RETURN_IF_ERROR(OpenRead(contents, &state, &g));
  const bool want_16 = o.dtype == DType::kUInt16;
  Layout l;
  if (!ReadHeaderAndSetUp(g.png, g.info, true, o.channels, want_16, &l))
    return PngError(state);
  Tensor out(o.dtype, TensorShape{static_cast<int64_t>(l.height),
                                  static_cast<int64_t>(l.width),
                                  static_cast<int64_t>(l.channels)});
  if (!out.IsInitialized())
    return absl::ResourceExhaustedError("DecodePng: out of memory");
  const size_t row_bytes =
      static_cast<size_t>(l.width) * l.channels * (want_16 ? 2 : 1);
  if (png_get_rowbytes(g.png, g.info) != row_bytes) {
    return absl::InternalError(absl::StrCat("DecodePng: libpng rows of ",
                                            png_get_rowbytes(g.png, g.info),
                                            " bytes, expected ", row_bytes));
  }
  std::vector<png_bytep> rows(l.height);
  for (png_uint_32 y = 0; y < l.height; ++y) {
    rows[y] = static_cast<png_bytep>(out.raw_data()) + y * row_bytes;
  }
  if (!ReadRows(g.png, g.info, rows.data())) return PngError(state);
  return out;
}

namespace {

struct WriteState {
  std::string* out = nullptr;
  char error[200] = {0};
};
void OnWriteError(png_structp png, png_const_charp message) {
  auto* s = static_cast<WriteState*>(png_get_error_ptr(png));
  std::snprintf(s->error, sizeof(s->error), "%s", message);
  png_longjmp(png, 1);
}
void WriteBytes(png_structp png, png_bytep data, png_size_t n) {
  auto* s = static_cast<WriteState*>(png_get_io_ptr(png));
  s->out->append(reinterpret_cast<const char*>(data), n);
}
void FlushNothing(png_structp) {}

bool WriteImage(png_structp png, png_infop info, png_uint_32 w, png_uint_32 h,
                int depth, int color_type, int level, png_bytep* rows,
                bool swap) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, w, h, depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (level >= 0) png_set_compression_level(png, level);
  png_write_info(png, info);
  if (swap) png_set_swap(png);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const Tensor& image,
                                      const EncodePngOptions& o) {
  if (!image.IsInitialized() ||
      (image.dtype() != DType::kUInt8 && image.dtype() != DType::kUInt16) ||
      image.rank() != 3 || image.dim(2) < 1 || image.dim(2) > 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodePng: image must be uint8 or uint16 [H, W, 1..4], got ",
        image.IsInitialized() ? image.DebugString(0) : "nothing"));
  }
  if (o.compression < -1 || o.compression > 9) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodePng: compression must be in [-1, 9], got ", o.compression));
  }
  const int64_t H = image.dim(0), W = image.dim(1), C = image.dim(2);
  if (H <= 0 || W <= 0 || H > (1 << 24) || W > (1 << 24)) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodePng: bad dimensions ", H, "x", W));
  }
  static constexpr int kColor[5] = {
      0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
      PNG_COLOR_TYPE_RGB_ALPHA};
  const bool is16 = image.dtype() == DType::kUInt16;
  std::string out;
  WriteState state;
  state.out = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state,
                                            OnWriteError, OnWarning);
  if (png == nullptr)
    return absl::ResourceExhaustedError("png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &state, WriteBytes, FlushNothing);
  const size_t row_bytes = W * C * (is16 ? 2 : 1);
  std::vector<png_bytep> rows(H);
  for (int64_t y = 0; y < H; ++y)
    rows[y] = static_cast<png_bytep>(image.raw_data()) + y * row_bytes;
  const bool ok =
      info != nullptr && WriteImage(png, info, W, H, is16 ? 16 : 8, kColor[C],
                                    o.compression, rows.data(), is16);
  png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
  if (!ok) return absl::InternalError(absl::StrCat("EncodePng: ", state.error));
  return out;
}

}  // namespace sluice::image
