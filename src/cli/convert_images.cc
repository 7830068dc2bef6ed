#include "cli/convert_images.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "core/random.h"
#include "image/decode_image.h"
#include "image/jpeg.h"
#include "image/png.h"
#include "readers/example_builder.h"
#include "readers/record_writer.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;      // full path
  std::string relative;  // CLASS/FILE
  int64_t label = 0;
};

bool IsImageName(const fs::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

void PrintUsage(std::ostream& out) {
  out << "usage: sluice convert images --root DIR --out DIR [--shards S] "
         "[--prefix NAME]\n"
         "                             [--compression none|zlib|gzip] [--seed "
         "N]\n"
         "\n"
         "Class subfolders of JPEG/PNG files (ROOT/CLASS/*.jpg|*.png) to "
         "sharded TFRecords in\n"
         "the ImageNet layout: image/encoded, image/format, image/class/label "
         "(0-based, sorted\n"
         "folder order), image/class/text, image/height, image/width, "
         "image/channels,\n"
         "image/filename. OUT/NAME.labels lists the classes.\n"
         "  --shards       number of output files (default 1)\n"
         "  --compression  none (default), zlib or gzip\n"
         "  --prefix       file name prefix (default data)\n"
         "  --seed         shuffle seed for the file order (default 1)\n";
}

const char* Suffix(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "";
    case Compression::kZlib:
      return ".zz";
    case Compression::kGzip:
      return ".gz";
  }
  return "";
}

}  // namespace

absl::StatusOr<ConvertedImages> ConvertImages(const ConvertImagesOptions& o) {
  if (o.shards < 1)
    return absl::InvalidArgumentError("--shards must be at least 1");
  std::error_code ec;
  if (!fs::is_directory(o.root, ec)) {
    return absl::NotFoundError(absl::StrCat(o.root, ": no such directory"));
  }
  ConvertedImages result;
  for (const fs::directory_entry& d : fs::directory_iterator(o.root, ec)) {
    if (d.is_directory())
      result.classes.push_back(d.path().filename().string());
  }
  std::sort(result.classes.begin(), result.classes.end());
  std::vector<Entry> entries;
  for (size_t label = 0; label < result.classes.size(); ++label) {
    const fs::path dir = fs::path(o.root) / result.classes[label];
    std::vector<Entry> in_class;
    for (const fs::directory_entry& f : fs::directory_iterator(dir, ec)) {
      if (!f.is_regular_file() || !IsImageName(f.path())) continue;
      in_class.push_back(
          {f.path().string(),
           result.classes[label] + "/" + f.path().filename().string(),
           static_cast<int64_t>(label)});
    }
    std::sort(in_class.begin(), in_class.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    entries.insert(entries.end(), in_class.begin(), in_class.end());
  }
  if (result.classes.empty() || entries.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.root,
                     ": no class folders with .jpg/.jpeg/.png files (want "
                     "ROOT/CLASS/IMAGE)"));
  }
  Random rng(o.seed == 0 ? 1 : o.seed, 0);
  for (size_t i = entries.size() - 1; i > 0; --i) {
    std::swap(entries[i], entries[rng.Uniform(i + 1)]);
  }
  fs::create_directories(o.out_dir, ec);
  if (ec)
    return absl::PermissionDeniedError(
        absl::StrCat(o.out_dir, ": ", ec.message()));

  const int64_t n = static_cast<int64_t>(entries.size());
  std::string record;
  for (int s = 0; s < o.shards; ++s) {
    const std::string path =
        (fs::path(o.out_dir) / absl::StrFormat("%s-%05d-of-%05d.tfrecord%s",
                                               o.prefix, s, o.shards,
                                               Suffix(o.compression)))
            .string();
    RecordWriterOptions wo;
    wo.compression = o.compression;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> w,
                            RecordWriter::Open(path, wo));
    for (int64_t i = s * n / o.shards; i < (s + 1) * n / o.shards; ++i) {
      const Entry& e = entries[i];
      std::ifstream f(e.path, std::ios::binary);
      std::stringstream bytes;
      bytes << f.rdbuf();
      if (!f.good() && !f.eof())
        return absl::DataLossError(absl::StrCat(e.path, ": read failed"));
      const std::string contents = bytes.str();
      int64_t height = 0, width = 0, channels = 0;
      const char* format = "";
      switch (image::SniffImageFormat(contents)) {
        case image::ImageFormat::kJpeg: {
          absl::StatusOr<image::JpegHeader> h = image::ReadJpegHeader(contents);
          if (!h.ok())
            return absl::InvalidArgumentError(
                absl::StrCat(e.path, ": ", h.status().message()));
          height = h->height, width = h->width, channels = h->channels,
          format = "JPEG";
          break;
        }
        case image::ImageFormat::kPng: {
          absl::StatusOr<image::PngHeader> h = image::ReadPngHeader(contents);
          if (!h.ok())
            return absl::InvalidArgumentError(
                absl::StrCat(e.path, ": ", h.status().message()));
          height = h->height, width = h->width, channels = h->channels,
          format = "PNG";
          break;
        }
        default:
          return absl::InvalidArgumentError(
              absl::StrCat(e.path, ": not a JPEG or PNG file"));
      }
      ExampleBuilder b;
      b.AddBytes("image/encoded", {contents});
      b.AddBytes("image/format", {format});
      b.AddInt64s("image/class/label", {e.label});
      b.AddBytes("image/class/text", {result.classes[e.label]});
      b.AddInt64s("image/height", {height});
      b.AddInt64s("image/width", {width});
      b.AddInt64s("image/channels", {channels});
      b.AddBytes("image/filename", {e.relative});
      record.clear();
      b.SerializeTo(&record);
      SLUICE_RETURN_IF_ERROR(w->Write(record));
    }
    SLUICE_RETURN_IF_ERROR(w->Close());
    result.files.push_back(path);
  }
  std::ofstream labels(fs::path(o.out_dir) / (o.prefix + ".labels"),
                       std::ios::trunc);
  for (const std::string& c : result.classes) labels << c << "\n";
  if (!labels.good())
    return absl::UnknownError(
        absl::StrCat(o.out_dir, ": writing labels failed"));
  result.records = n;
  return result;
}

int RunConvertImages(int argc, char** argv, std::ostream& out,
                     std::ostream& err) {
  ConvertImagesOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(out);
      return 0;
    }
    if (i + 1 >= argc) {
      err << "sluice convert images: " << arg
          << " needs a value (or is unknown)\n";
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--root") {
      o.root = value;
    } else if (arg == "--out") {
      o.out_dir = value;
    } else if (arg == "--prefix") {
      o.prefix = value;
    } else if (arg == "--shards") {
      if (!absl::SimpleAtoi(value, &o.shards) || o.shards < 1) {
        err << "sluice convert images: --shards wants a positive integer, got '"
            << value << "'\n";
        return 2;
      }
    } else if (arg == "--seed") {
      if (!absl::SimpleAtoi(value, &o.seed)) {
        err << "sluice convert images: --seed wants an integer, got '" << value
            << "'\n";
        return 2;
      }
    } else if (arg == "--compression") {
      auto c = ParseCompression(value);
      if (!c.ok()) {
        err << "sluice convert images: " << c.status().message() << "\n";
        return 2;
      }
      o.compression = *c;
    } else {
      err << "sluice convert images: unknown option '" << arg << "'\n";
      return 2;
    }
  }
  if (o.root.empty() || o.out_dir.empty()) {
    err << "sluice convert images: --root and --out are required\n";
    return 2;
  }
  absl::StatusOr<ConvertedImages> r = ConvertImages(o);
  if (!r.ok()) {
    err << "sluice convert images: " << r.status().message() << "\n";
    return 1;
  }
  out << "converted " << r->records << " images of " << r->classes.size()
      << " classes into " << r->files.size() << " shard(s) under " << o.out_dir
      << "\n";
  return 0;
}

}  // namespace sluice::cli
