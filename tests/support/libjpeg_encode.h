#pragma once
// Test helper: encode an RGB image with libjpeg's own compressor, for JPEG
// variants no installed tool writes (restart markers, one scan per
// component). `configure` adjusts the compressor after jpeg_set_defaults
// and quality 90. libjpeg's default error handler exits, which fails the
// test. Needs the test linked with libjpeg (PkgConfig::SLUICE_TEST_LIBJPEG).

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "core/tensor.h"

namespace sluice::test_support {

// rgb: uint8 [H, W, 3].
inline std::string EncodeWithLibjpeg(
    const Tensor& rgb, const std::function<void(jpeg_compress_struct&)>& configure) {
  jpeg_compress_struct c;
  std::memset(&c, 0, sizeof(c));
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_height = static_cast<JDIMENSION>(rgb.dim(0));
  c.image_width = static_cast<JDIMENSION>(rgb.dim(1));
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  configure(c);
  jpeg_start_compress(&c, TRUE);
  const int64_t row_bytes = rgb.dim(1) * 3;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb.data<uint8_t>() + c.next_scanline * row_bytes);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<const char*>(buf), size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

}  // namespace sluice::test_support
