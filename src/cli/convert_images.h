#pragma once
// `sluice convert images --root DIR --out DIR [--shards S] [--prefix NAME]
//                        [--compression none|zlib|gzip] [--seed N]`
//
// Packs a folder of class subfolders of JPEG / PNG files (ROOT/CLASS/*.jpg,
// *.jpeg, *.png, any case) into S TFRecord shards of tf.train.Example in the
// ImageNet layout:
//   "image/encoded"     bytes_list: the file's bytes, unchanged
//   "image/format"      bytes_list: "JPEG" or "PNG"
//   "image/class/label" int64_list: the class's index in sorted folder order
//   (0-based) "image/class/text"  bytes_list: the folder name "image/height",
//   "image/width", "image/channels": int64_list, from the header
//   "image/filename"    bytes_list: CLASS/FILE
// Files are shuffled with --seed (default 1) before sharding, so every
// shard holds every class. DIR/NAME.labels lists the classes, one a line,
// in label order. A file that is not a readable JPEG / PNG is an error
// naming it (nothing is skipped silently).
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

struct ConvertImagesOptions {
  std::string root;
  std::string out_dir;
  int shards = 1;
  Compression compression = Compression::kNone;
  std::string prefix = "data";
  uint64_t seed = 1;
};

struct ConvertedImages {
  int64_t records = 0;
  std::vector<std::string> classes;  // label order
  std::vector<std::string> files;    // shard paths
};

// NotFound for a missing root; InvalidArgument for a root without class
// folders or images, or a file that is not a JPEG / PNG (naming it).
absl::StatusOr<ConvertedImages> ConvertImages(
    const ConvertImagesOptions& options);

// argv[0] is "images".
int RunConvertImages(int argc, char** argv, std::ostream& out,
                     std::ostream& err);

}  // namespace sluice::cli
