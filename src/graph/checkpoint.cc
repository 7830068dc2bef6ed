#include "graph/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/crc32c.h"
#include "core/status.h"
#include "readers/protobuf_wire.h"

namespace sluice {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'C', 'K', 'P', 'T', '1', '\n'};
constexpr int kMaxRank = 64;

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(Sv(what), " ", path));
}

absl::Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status ReadAllAt(int fd, char* p, size_t n, uint64_t offset, const std::string& path,
                       size_t* got) {
  *got = 0;
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path);
    }
    if (r == 0) break;
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
    *got += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

// A name no concurrent writer in this process or another picks.
std::string TempPath(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(path, ".tmp", ::getpid(), "_", counter.fetch_add(1));
}

// An open temporary file that is removed unless committed by a rename.
class TempFile {
 public:
  static absl::StatusOr<TempFile> Create(const std::string& final_path) {
    TempFile f;
    f.final_ = final_path;
    f.temp_ = TempPath(final_path);
    do {
      f.fd_ = ::open(f.temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (f.fd_ < 0 && errno == EINTR);
    if (f.fd_ < 0) return ErrnoError("cannot create", f.temp_);
    return f;
  }
  TempFile() = default;
  TempFile(TempFile&& o) noexcept { *this = std::move(o); }
  TempFile& operator=(TempFile&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(temp_, o.temp_);
    std::swap(final_, o.final_);
    std::swap(committed_, o.committed_);
    return *this;
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  }
  absl::Status Write(std::string_view s) { return WriteAll(fd_, s.data(), s.size(), temp_); }
  // fsync, close, rename over the final path.
  absl::Status Commit() {
    if (::fsync(fd_) != 0) return ErrnoError("fsync", temp_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return ErrnoError("close", temp_);
    if (::rename(temp_.c_str(), final_.c_str()) != 0) {
      return ErrnoError(absl::StrCat("rename ", temp_, " to"), final_);
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  int fd_ = -1;
  std::string temp_, final_;
  bool committed_ = false;
};

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

// Bounds-checked little-endian cursor over the index bytes.
class Cursor {
 public:
  Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool U8(uint8_t* v) { return Raw(v, 1); }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool U64(uint64_t* v) { return Raw(v, 8); }
  bool Bytes(size_t n, std::string_view* v) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *v = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  bool Raw(void* v, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(v, p_, n);
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
};

bool ValidDType(uint8_t d) { return d <= static_cast<uint8_t>(DType::kString); }

// The stored bytes of a tensor.
std::string EncodeTensorBytes(const Tensor& t) {
  if (t.dtype() != DType::kString) {
    return std::string(static_cast<const char*>(t.raw_data()), t.ByteSize());
  }
  std::string out;
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    std::string_view s = t.string(i);
    internal::AppendVarint64(&out, s.size());
    out.append(s.data(), s.size());
  }
  return out;
}

}  // namespace

std::string CheckpointIndexPath(std::string_view prefix) { return absl::StrCat(Sv(prefix), ".index"); }
std::string CheckpointDataPath(std::string_view prefix) {
  return absl::StrCat(Sv(prefix), ".data-00000-of-00001");
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  SLUICE_ASSIGN_OR_RETURN(TempFile f, TempFile::Create(path));
  SLUICE_RETURN_IF_ERROR(f.Write(contents));
  return f.Commit();
}

absl::Status WriteCheckpoint(std::string_view prefix,
                             absl::Span<const std::pair<std::string, Tensor>> tensors) {
  std::unordered_set<std::string_view> seen;
  for (const auto& [name, t] : tensors) {
    if (name.empty()) return absl::InvalidArgumentError("WriteCheckpoint: empty tensor name");
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("WriteCheckpoint: duplicate tensor name '", name, "'"));
    }
    if (!t.IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat("WriteCheckpoint: tensor '", name, "' is uninitialised"));
    }
  }
  const std::string data_path = CheckpointDataPath(prefix);
  const std::string index_path = CheckpointIndexPath(prefix);
  SLUICE_ASSIGN_OR_RETURN(TempFile data, TempFile::Create(data_path));
  std::string index(kMagic, sizeof(kMagic));
  PutU32(&index, static_cast<uint32_t>(tensors.size()));
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::string encoded;
    std::string_view bytes;
    if (t.dtype() == DType::kString) {
      encoded = EncodeTensorBytes(t);
      bytes = encoded;
    } else {
      bytes = std::string_view(static_cast<const char*>(t.raw_data()), t.ByteSize());
    }
    SLUICE_RETURN_IF_ERROR(data.Write(bytes));
    PutU32(&index, static_cast<uint32_t>(name.size()));
    index.append(name);
    index.push_back(static_cast<char>(t.dtype()));
    PutU32(&index, static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.shape().dims()) PutU64(&index, static_cast<uint64_t>(d));
    PutU64(&index, offset);
    PutU64(&index, bytes.size());
    PutU32(&index, crc32c::Mask(crc32c::Value(bytes)));
    offset += bytes.size();
  }
  PutU32(&index, crc32c::Mask(crc32c::Value(index)));
  // Data first: the index appearing is what makes the checkpoint exist.
  SLUICE_RETURN_IF_ERROR(data.Commit());
  return WriteFileAtomically(index_path, index);
}

bool CheckpointExists(std::string_view prefix) {
  struct stat st;
  if (::stat(CheckpointIndexPath(prefix).c_str(), &st) == 0) return true;
  return ::stat(std::string(prefix).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status DeleteCheckpoint(std::string_view prefix) {
  for (const std::string& path : {CheckpointIndexPath(prefix), CheckpointDataPath(prefix),
                                  absl::StrCat(Sv(prefix), ".meta")}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("cannot delete", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CheckpointReader>> CheckpointReader::Open(std::string prefix) {
  const std::string index_path = CheckpointIndexPath(prefix);
  int fd;
  do {
    fd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError("cannot open checkpoint index", index_path);
  std::string index;
  {
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      absl::Status s = ErrnoError("stat", index_path);
      ::close(fd);
      return s;
    }
    index.resize(static_cast<size_t>(st.st_size));
    size_t got;
    absl::Status s = ReadAllAt(fd, index.data(), index.size(), 0, index_path, &got);
    ::close(fd);
    SLUICE_RETURN_IF_ERROR(s);
    index.resize(got);
  }
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint index ", index_path, ": ", Sv(why)));
  };
  if (index.size() < sizeof(kMagic) + 8 || std::memcmp(index.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt(index.size() < sizeof(kMagic) + 8 ? "truncated" : "not a sluice checkpoint index");
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, index.data() + index.size() - 4, 4);
  std::string_view body(index.data(), index.size() - 4);
  if (crc32c::Unmask(stored_crc) != crc32c::Value(body)) {
    return corrupt("CRC mismatch (corrupted or truncated)");
  }
  Cursor c(body.substr(sizeof(kMagic)));
  uint32_t count;
  if (!c.U32(&count)) return corrupt("truncated");
  std::vector<CheckpointTensorInfo> entries;
  std::unordered_set<std::string> names;
  uint64_t data_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    CheckpointTensorInfo e;
    uint32_t name_len, rank;
    uint8_t dtype;
    std::string_view name;
    if (!c.U32(&name_len) || !c.Bytes(name_len, &name) || !c.U8(&dtype) || !c.U32(&rank)) {
      return corrupt(absl::StrCat("truncated entry ", i));
    }
    e.name = std::string(name);
    if (!ValidDType(dtype) || rank > kMaxRank) {
      return corrupt(absl::StrCat("bad dtype or rank for tensor '", e.name, "'"));
    }
    e.dtype = static_cast<DType>(dtype);
    for (uint32_t d = 0; d < rank; ++d) {
      uint64_t dim;
      if (!c.U64(&dim)) return corrupt(absl::StrCat("truncated entry for tensor '", e.name, "'"));
      if (static_cast<int64_t>(dim) < 0) return corrupt(absl::StrCat("negative dimension in tensor '", e.name, "'"));
      e.shape.AddDim(static_cast<int64_t>(dim));
    }
    if (!c.U64(&e.offset) || !c.U64(&e.size) || !c.U32(&e.masked_crc32c)) {
      return corrupt(absl::StrCat("truncated entry for tensor '", e.name, "'"));
    }
    if (e.dtype != DType::kString) {
      // Overflow-safe: num_elements() of a hostile shape could wrap.
      unsigned __int128 bytes = DTypeSize(e.dtype);
      for (int64_t d : e.shape.dims()) bytes *= static_cast<uint64_t>(d);
      if (bytes != e.size) {
        return corrupt(absl::StrCat("tensor '", e.name, "' size ", e.size, " does not match its shape ",
                                    e.shape.DebugString()));
      }
    }
    if (e.offset + e.size < e.offset) return corrupt(absl::StrCat("bad offset for tensor '", e.name, "'"));
    if (!names.insert(e.name).second) return corrupt(absl::StrCat("duplicate tensor '", e.name, "'"));
    data_end = std::max(data_end, e.offset + e.size);
    entries.push_back(std::move(e));
  }
  if (!c.done()) return corrupt("trailing bytes");

  const std::string data_path = CheckpointDataPath(prefix);
  int data_fd;
  do {
    data_fd = ::open(data_path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (data_fd < 0 && errno == EINTR);
  if (data_fd < 0) return ErrnoError("cannot open checkpoint data", data_path);
  struct stat st;
  if (::fstat(data_fd, &st) != 0) {
    absl::Status s = ErrnoError("stat", data_path);
    ::close(data_fd);
    return s;
  }
  if (static_cast<uint64_t>(st.st_size) < data_end) {
    ::close(data_fd);
    for (const auto& e : entries) {
      if (e.offset + e.size > static_cast<uint64_t>(st.st_size)) {
        return absl::DataLossError(absl::StrCat("checkpoint data ", data_path, " is truncated: tensor '", e.name,
                                                "' needs bytes up to ", e.offset + e.size, ", file has ",
                                                st.st_size));
      }
    }
  }
  return std::unique_ptr<CheckpointReader>(
      new CheckpointReader(std::move(prefix), data_fd, std::move(entries)));
}

CheckpointReader::CheckpointReader(std::string prefix, int data_fd,
                                   std::vector<CheckpointTensorInfo> entries)
    : prefix_(std::move(prefix)),
      data_path_(CheckpointDataPath(prefix_)),
      data_fd_(data_fd),
      entries_(std::move(entries)) {}

CheckpointReader::~CheckpointReader() { ::close(data_fd_); }

const CheckpointTensorInfo* CheckpointReader::Find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

absl::StatusOr<Tensor> CheckpointReader::Read(std::string_view name) const {
  const CheckpointTensorInfo* e = Find(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("tensor '", Sv(name), "' not found in checkpoint ", prefix_));
  }
  auto loss = [&](std::string_view why) {
    return absl::DataLossError(
        absl::StrCat("checkpoint data ", data_path_, ": tensor '", e->name, "': ", Sv(why)));
  };
  std::string bytes(e->size, '\0');
  size_t got;
  SLUICE_RETURN_IF_ERROR(ReadAllAt(data_fd_, bytes.data(), bytes.size(), e->offset, data_path_, &got));
  if (got != e->size) return loss(absl::StrCat("truncated (", got, " of ", e->size, " bytes)"));
  if (crc32c::Unmask(e->masked_crc32c) != crc32c::Value(bytes)) return loss("CRC mismatch");
  Tensor t(e->dtype, e->shape);
  if (!t.IsInitialized() && t.NumElements() > 0) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate tensor '", e->name, "'"));
  }
  if (e->dtype != DType::kString) {
    if (!bytes.empty()) std::memcpy(t.raw_data(), bytes.data(), bytes.size());
    return t;
  }
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    std::string_view s;
    p = internal::ReadLengthDelimited(p, end, &s);
    if (p == nullptr) return loss(absl::StrCat("malformed string element ", i));
    t.SetString(i, s);
  }
  if (p != end) return loss("trailing bytes after the string elements");
  return t;
}

}  // namespace sluice
