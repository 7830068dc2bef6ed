#pragma once
// `sluice convert idx --images F --labels F --out DIR [--shards S]
//                     [--compression none|zlib|gzip] [--prefix NAME]`
//
// Turns an IDX image file and its IDX label file (MNIST, Fashion-MNIST;
// plain or .gz) into S TFRecord shards of tf.train.Example records with the
// schema the MNIST-like pipelines parse (pipeline/image_label_parser.h):
//   "image"  bytes_list: the image's rows*cols uint8 pixels
//   "label"  int64_list: the class
//   "id"     int64_list: the record's index in the IDX files
//   "height", "width": int64_list, the image dimensions
// With --encode jpeg|png, "image" holds the image encoded as a grayscale
// JPEG (--quality, default 95) or PNG instead of raw pixels, and "format"
// (bytes_list) says which.
// Shard s (DIR/NAME-SSSSS-of-TTTTT.tfrecord[.gz|.zz]) holds the contiguous
// ids [s*N/S, (s+1)*N/S). DIR/NAME.manifest is written last (records,
// shards, dimensions, compression, encoding, the source IDX files with their
// sizes and modification times, and the shard files, one "key value" per
// line), so a directory with a manifest holds a finished conversion and
// says what it was converted from.
//
// `sluice convert images ...` (cli/convert_images.h) packs folders of
// JPEG/PNG files into ImageNet-layout records.
//
// Exit status: 0 on success, 1 when reading or writing fails, 2 for a usage
// error.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "readers/compression.h"

namespace sluice::cli {

// How "image" holds the pixels.
enum class ImageEncoding { kRaw, kJpeg, kPng };
// "raw", "jpeg", "png"; InvalidArgument naming anything else.
absl::StatusOr<ImageEncoding> ParseImageEncoding(std::string_view name);
const char* ImageEncodingName(ImageEncoding e);

struct ConvertIdxOptions {
  std::string images;
  std::string labels;
  std::string out_dir;
  int shards = 1;
  Compression compression = Compression::kGzip;
  std::string prefix = "data";
  ImageEncoding encoding = ImageEncoding::kRaw;
  int quality = 95;  // JPEG quality
};

struct ConvertedDataset {
  int64_t records = 0;
  int64_t height = 0;
  int64_t width = 0;
  Compression compression = Compression::kNone;
  ImageEncoding encoding = ImageEncoding::kRaw;
  // The IDX files converted, as "PATH SIZE MTIME" for images then labels
  // (IdxSourceKey); empty for a manifest written before sources were kept.
  std::string source;
  std::vector<std::string> files;  // full paths, shard order
};

// "PATH SIZE MTIME;PATH SIZE MTIME" of the two IDX files (canonical paths):
// what a cached conversion is keyed by. NotFound naming a missing file.
absl::StatusOr<std::string> IdxSourceKey(const std::string& images,
                                         const std::string& labels);

// Errors: those of ReadIdxFile and RecordWriter; InvalidArgument when the
// images are not uint8 [N, H, W] (or [N, H*W]), the labels are not uint8
// [N], the counts differ, or shards < 1.
absl::StatusOr<ConvertedDataset> ConvertIdx(const ConvertIdxOptions& options);

// Reads DIR/NAME.manifest. NotFound when there is none (no finished
// conversion there); InvalidArgument when it is malformed or names a shard
// that is missing.
absl::StatusOr<ConvertedDataset> ReadConvertManifest(const std::string& out_dir,
                                                     const std::string& prefix = "data");

int RunConvert(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace sluice::cli
