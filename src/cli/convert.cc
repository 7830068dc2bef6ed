#include "cli/convert.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "cli/convert_images.h"
#include "core/absl_compat.h"
#include "core/tensor.h"
#include "image/jpeg.h"
#include "image/png.h"
#include "readers/example_builder.h"
#include "readers/idx.h"
#include "readers/record_writer.h"

namespace sluice::cli {
namespace {

const char* Suffix(Compression c) {
  switch (c) {
    case Compression::kNone: return "";
    case Compression::kZlib: return ".zz";
    case Compression::kGzip: return ".gz";
  }
  return "";
}

std::string ManifestPath(const std::string& dir, const std::string& prefix) {
  return (std::filesystem::path(dir) / (prefix + ".manifest")).string();
}

void PrintUsage(std::ostream& out) {
  out << "usage: sluice convert idx --images F --labels F --out DIR [--shards "
         "S]\n"
         "                          [--compression none|zlib|gzip] [--prefix "
         "NAME]\n"
         "                          [--encode raw|jpeg|png] [--quality Q]\n"
         "       sluice convert images --root DIR --out DIR [--shards S] ... "
         "(see\n"
         "                          sluice convert images --help)\n"
         "\n"
         "IDX images and labels (MNIST, Fashion-MNIST; plain or .gz) to "
         "sharded TFRecords of\n"
         "tf.train.Example {image: bytes, label: int64, id: int64, height, "
         "width}.\n"
         "  --shards       number of output files (default 1)\n"
         "  --compression  gzip (default), zlib or none\n"
         "  --prefix       file name prefix (default data): "
         "DIR/NAME-00000-of-0000S.tfrecord.gz\n"
         "  --encode       raw pixels (default), or each image as a grayscale "
         "jpeg / png\n"
         "  --quality      JPEG quality 0..100 (default 95)\n";
}

// The record's "image" value: the raw pixels, or them encoded.
absl::StatusOr<std::string> EncodeImage(std::string_view pixels, int64_t h,
                                        int64_t w, const ConvertIdxOptions& o) {
  if (o.encoding == ImageEncoding::kRaw) return std::string(pixels);
  Tensor img(DType::kUInt8, TensorShape{h, w, 1});
  std::memcpy(img.data<uint8_t>(), pixels.data(), pixels.size());
  if (o.encoding == ImageEncoding::kJpeg) {
    image::EncodeJpegOptions jo;
    jo.quality = o.quality;
    return image::EncodeJpeg(img, jo);
  }
  return image::EncodePng(img);
}

std::string FileKey(const std::string& path, std::error_code* ec) {
  const std::filesystem::path canonical = std::filesystem::canonical(path, *ec);
  if (*ec) return "";
  const uintmax_t size = std::filesystem::file_size(canonical, *ec);
  if (*ec) return "";
  const auto mtime = std::filesystem::last_write_time(canonical, *ec);
  if (*ec) return "";
  return absl::StrCat(canonical.string(), " ", size, " ",
                      static_cast<int64_t>(mtime.time_since_epoch().count()));
}

}  // namespace

absl::StatusOr<ImageEncoding> ParseImageEncoding(std::string_view name) {
  if (name == "raw") return ImageEncoding::kRaw;
  if (name == "jpeg") return ImageEncoding::kJpeg;
  if (name == "png") return ImageEncoding::kPng;
  return absl::InvalidArgumentError(absl::StrCat(
      "image encoding must be raw, jpeg or png, got '", Sv(name), "'"));
}

const char* ImageEncodingName(ImageEncoding e) {
  switch (e) {
    case ImageEncoding::kRaw:
      return "raw";
    case ImageEncoding::kJpeg:
      return "jpeg";
    case ImageEncoding::kPng:
      return "png";
  }
  return "raw";
}

absl::StatusOr<std::string> IdxSourceKey(const std::string& images,
                                         const std::string& labels) {
  std::error_code ec;
  const std::string a = FileKey(images, &ec);
  if (ec) return absl::NotFoundError(absl::StrCat(images, ": ", ec.message()));
  const std::string b = FileKey(labels, &ec);
  if (ec) return absl::NotFoundError(absl::StrCat(labels, ": ", ec.message()));
  return absl::StrCat(a, ";", b);
}

absl::StatusOr<ConvertedDataset> ConvertIdx(const ConvertIdxOptions& o) {
  if (o.shards < 1) return absl::InvalidArgumentError("--shards must be at least 1");
  if (o.out_dir.empty()) return absl::InvalidArgumentError("no output directory");
  if (o.quality < 0 || o.quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--quality must be in [0, 100], got ", o.quality));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string source, IdxSourceKey(o.images, o.labels));
  SLUICE_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(o.images));
  SLUICE_ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(o.labels));
  if (images.type != IdxType::kUInt8 || (images.dims.size() != 3 && images.dims.size() != 2)) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.images, ": want uint8 images [N, H, W] or [N, H*W]"));
  }
  if (labels.type != IdxType::kUInt8 || labels.dims.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(o.labels, ": want uint8 labels [N]"));
  }
  const int64_t n = images.dims[0];
  if (labels.dims[0] != n) {
    return absl::InvalidArgumentError(absl::StrCat("images hold ", n, " entries but labels hold ",
                                                   labels.dims[0]));
  }
  ConvertedDataset result;
  result.records = n;
  result.height = images.dims.size() == 3 ? images.dims[1] : 1;
  result.width = images.dims.size() == 3 ? images.dims[2] : images.dims[1];
  result.compression = o.compression;
  result.encoding = o.encoding;
  result.source = source;
  const int64_t image_bytes = images.row_elements();

  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(o.out_dir, ": ", ec.message()));
  // An earlier manifest no longer describes the directory once we start.
  std::filesystem::remove(ManifestPath(o.out_dir, o.prefix), ec);

  std::string record;
  for (int s = 0; s < o.shards; ++s) {
    const std::string path =
        (std::filesystem::path(o.out_dir) /
         absl::StrFormat("%s-%05d-of-%05d.tfrecord%s", o.prefix, s, o.shards, Suffix(o.compression)))
            .string();
    RecordWriterOptions wo;
    wo.compression = o.compression;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> w, RecordWriter::Open(path, wo));
    const int64_t begin = s * n / o.shards, end = (s + 1) * n / o.shards;
    for (int64_t i = begin; i < end; ++i) {
      ExampleBuilder b;
      const std::string_view pixels(images.data.data() + i * image_bytes, image_bytes);
      SLUICE_ASSIGN_OR_RETURN(
          std::string encoded,
          EncodeImage(pixels, result.height, result.width, o));
      b.AddBytes("image", {encoded});
      if (o.encoding != ImageEncoding::kRaw)
        b.AddBytes("format", {ImageEncodingName(o.encoding)});
      b.AddInt64s("label", {static_cast<int64_t>(static_cast<uint8_t>(labels.data[i]))});
      b.AddInt64s("id", {i});
      b.AddInt64s("height", {result.height});
      b.AddInt64s("width", {result.width});
      record.clear();
      b.SerializeTo(&record);
      SLUICE_RETURN_IF_ERROR(w->Write(record));
    }
    SLUICE_RETURN_IF_ERROR(w->Close());
    result.files.push_back(path);
  }

  const std::string manifest = ManifestPath(o.out_dir, o.prefix);
  const std::string tmp = manifest + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "records " << result.records << "\nheight " << result.height
      << "\nwidth " << result.width << "\ncompression "
      << CompressionName(result.compression) << "\nshards "
      << result.files.size() << "\nencoding "
      << ImageEncodingName(result.encoding) << "\nsource " << result.source
      << "\n";
    for (const std::string& file : result.files) {
      f << "file " << std::filesystem::path(file).filename().string() << "\n";
    }
    if (!f.good()) return absl::UnknownError(absl::StrCat(tmp, ": write failed"));
  }
  std::filesystem::rename(tmp, manifest, ec);
  if (ec) return absl::UnknownError(absl::StrCat(manifest, ": ", ec.message()));
  return result;
}

absl::StatusOr<ConvertedDataset> ReadConvertManifest(const std::string& out_dir,
                                                     const std::string& prefix) {
  const std::string path = ManifestPath(out_dir, prefix);
  std::ifstream f(path);
  if (!f.is_open()) return absl::NotFoundError(absl::StrCat(path, ": no conversion manifest"));
  ConvertedDataset d;
  int64_t shards = -1;
  std::string line, key, value;
  while (std::getline(f, line)) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    key = line.substr(0, space);
    value = line.substr(space + 1);
    if (key == "source") {
      d.source = value;
      continue;
    }
    if (key == "encoding") {
      SLUICE_ASSIGN_OR_RETURN(d.encoding, ParseImageEncoding(value));
      continue;
    }
    if (key == "file") {
      const std::string file = (std::filesystem::path(out_dir) / value).string();
      if (!std::filesystem::exists(file)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": shard ", file, " is missing"));
      }
      d.files.push_back(file);
      continue;
    }
    if (key == "compression") {
      SLUICE_ASSIGN_OR_RETURN(d.compression, ParseCompression(value));
      continue;
    }
    int64_t v = 0;
    if (!absl::SimpleAtoi(value, &v)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad value for ", key));
    }
    if (key == "records") d.records = v;
    if (key == "height") d.height = v;
    if (key == "width") d.width = v;
    if (key == "shards") shards = v;
  }
  if (shards < 1 || static_cast<int64_t>(d.files.size()) != shards || d.records <= 0 ||
      d.height <= 0 || d.width <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": incomplete manifest"));
  }
  return d;
}

int RunConvert(int argc, char** argv, std::ostream& out, std::ostream& err) {
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    PrintUsage(out);
    return 0;
  }
  if (argc >= 2 && std::string_view(argv[1]) == "images") {
    return RunConvertImages(argc - 1, argv + 1, out, err);
  }
  if (argc < 2 || std::string_view(argv[1]) != "idx") {
    err << "sluice convert: the source format must be 'idx' or 'images'\n";
    PrintUsage(err);
    return 2;
  }
  ConvertIdxOptions o;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(out);
      return 0;
    }
    if (i + 1 >= argc) {
      err << "sluice convert: " << arg << " needs a value (or is unknown)\n";
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--images") {
      o.images = value;
    } else if (arg == "--labels") {
      o.labels = value;
    } else if (arg == "--out") {
      o.out_dir = value;
    } else if (arg == "--prefix") {
      o.prefix = value;
    } else if (arg == "--shards") {
      if (!absl::SimpleAtoi(value, &o.shards) || o.shards < 1) {
        err << "sluice convert: --shards wants a positive integer, got '" << value << "'\n";
        return 2;
      }
    } else if (arg == "--encode") {
      auto e = ParseImageEncoding(value);
      if (!e.ok()) {
        err << "sluice convert: --encode: " << e.status().message() << "\n";
        return 2;
      }
      o.encoding = *e;
    } else if (arg == "--quality") {
      if (!absl::SimpleAtoi(value, &o.quality) || o.quality < 0 ||
          o.quality > 100) {
        err << "sluice convert: --quality wants 0..100, got '" << value
            << "'\n";
        return 2;
      }
    } else if (arg == "--compression") {
      auto c = ParseCompression(value);
      if (!c.ok()) {
        err << "sluice convert: " << c.status().message() << "\n";
        return 2;
      }
      o.compression = *c;
    } else {
      err << "sluice convert: unknown option '" << arg << "'\n";
      return 2;
    }
  }
  if (o.images.empty() || o.labels.empty() || o.out_dir.empty()) {
    err << "sluice convert: --images, --labels and --out are required\n";
    return 2;
  }
  absl::StatusOr<ConvertedDataset> r = ConvertIdx(o);
  if (!r.ok()) {
    err << "sluice convert: " << r.status().message() << "\n";
    return 1;
  }
  out << "converted " << r->records << " images of " << r->height << "x" << r->width << " into "
      << r->files.size() << " " << CompressionName(r->compression) << " shard(s) under "
      << o.out_dir << "\n";
  return 0;
}

}  // namespace sluice::cli
