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
// Shard s (DIR/NAME-SSSSS-of-TTTTT.tfrecord[.gz|.zz]) holds the contiguous
// ids [s*N/S, (s+1)*N/S). DIR/NAME.manifest is written last (records,
// shards, dimensions, compression and the shard files, one "key value" per
// line), so a directory with a manifest holds a finished conversion.
//
// Exit status: 0 on success, 1 when reading or writing fails, 2 for a usage
// error.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "readers/compression.h"

namespace sluice::cli {

struct ConvertIdxOptions {
  std::string images;
  std::string labels;
  std::string out_dir;
  int shards = 1;
  Compression compression = Compression::kGzip;
  std::string prefix = "data";
};

struct ConvertedDataset {
  int64_t records = 0;
  int64_t height = 0;
  int64_t width = 0;
  Compression compression = Compression::kNone;
  std::vector<std::string> files;  // full paths, shard order
};

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
