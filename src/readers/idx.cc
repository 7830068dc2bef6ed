#include "readers/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT: return absl::NotFoundError(msg);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(msg);
    default: return absl::UnknownError(msg);
  }
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return ErrnoStatus(errno, path);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return ErrnoStatus(EIO, path);
  return out;
}

// Inflates a gzip stream (possibly several members) with zlib.
absl::StatusOr<std::string> Gunzip(std::string_view in, const std::string& path) {
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 16];
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // concatenated members
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&z);
      return absl::DataLossError(absl::StrCat(path, ": corrupt gzip data (zlib ", rc, ")"));
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      inflateEnd(&z);
      return absl::DataLossError(absl::StrCat(path, ": truncated gzip stream"));
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace

int IdxTypeSize(IdxType t) {
  switch (t) {
    case IdxType::kUInt8:
    case IdxType::kInt8: return 1;
    case IdxType::kInt16: return 2;
    case IdxType::kInt32:
    case IdxType::kFloat32: return 4;
    case IdxType::kFloat64: return 8;
  }
  return 0;
}

int64_t IdxArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

int64_t IdxArray::row_elements() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes) {
  if (bytes.size() < 4) {
    return absl::DataLossError(absl::StrCat("IDX header truncated: ", bytes.size(), " bytes"));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (p[0] != 0 || p[1] != 0) {
    return absl::InvalidArgumentError("not an IDX file: magic does not start with two zero bytes");
  }
  IdxArray a;
  a.type = static_cast<IdxType>(p[2]);
  if (IdxTypeSize(a.type) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("IDX: unknown element type 0x", absl::Hex(p[2])));
  }
  const int ndims = p[3];
  if (ndims == 0) return absl::InvalidArgumentError("IDX: zero dimensions");
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header) {
    return absl::DataLossError(absl::StrCat("IDX header truncated: ", bytes.size(), " bytes of ",
                                            header));
  }
  unsigned __int128 total = IdxTypeSize(a.type);
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* d = p + 4 + 4 * i;
    const uint32_t v = (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
    a.dims.push_back(v);
    total *= v;
    if (total > std::numeric_limits<int64_t>::max()) {
      return absl::InvalidArgumentError("IDX: dimensions overflow");
    }
  }
  const size_t data_bytes = static_cast<size_t>(total);
  const size_t have = bytes.size() - header;
  if (have < data_bytes) {
    return absl::DataLossError(
        absl::StrCat("IDX data truncated: ", have, " bytes of ", data_bytes));
  }
  if (have > data_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: ", have - data_bytes, " bytes after the ", data_bytes, " data bytes"));
  }
  a.data.assign(bytes.substr(header));
  return a;
}

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::string raw, ReadWholeFile(path));
  if (raw.size() >= 2 && static_cast<uint8_t>(raw[0]) == 0x1f &&
      static_cast<uint8_t>(raw[1]) == 0x8b) {
    SLUICE_ASSIGN_OR_RETURN(raw, Gunzip(raw, path));
  }
  absl::StatusOr<IdxArray> a = ParseIdx(raw);
  if (!a.ok()) return absl::Status(a.status().code(), absl::StrCat(path, ": ", a.status().message()));
  return a;
}

std::string EncodeIdx(const IdxArray& array) {
  std::string out;
  out.push_back(0);
  out.push_back(0);
  out.push_back(static_cast<char>(array.type));
  out.push_back(static_cast<char>(array.dims.size()));
  for (int64_t d : array.dims) {
    const uint32_t v = static_cast<uint32_t>(d);
    out.push_back(static_cast<char>(v >> 24));
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
  }
  out += array.data;
  return out;
}

}  // namespace sluice
