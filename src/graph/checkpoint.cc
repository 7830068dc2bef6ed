#include "graph/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/crc32c.h"
#include "core/status.h"
#include "graph/internal/checkpoint_format.h"

namespace sluice {
namespace {

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

}  // namespace

std::string CheckpointIndexPath(std::string_view prefix) { return absl::StrCat(Sv(prefix), ".index"); }
std::string CheckpointDataPath(std::string_view prefix, int shard, int num_shards) {
  char suffix[48];
  std::snprintf(suffix, sizeof(suffix), ".data-%05d-of-%05d", shard, num_shards);
  return absl::StrCat(Sv(prefix), suffix);
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  SLUICE_ASSIGN_OR_RETURN(TempFile f, TempFile::Create(path));
  SLUICE_RETURN_IF_ERROR(f.Write(contents));
  return f.Commit();
}

absl::Status WriteCheckpoint(std::string_view prefix,
                             absl::Span<const std::pair<std::string, Tensor>> tensors,
                             CheckpointFormat format) {
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
  SLUICE_ASSIGN_OR_RETURN(TempFile data, TempFile::Create(CheckpointDataPath(prefix)));
  std::vector<CheckpointTensorInfo> entries;
  entries.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    internal::EncodedTensor enc = internal::EncodeTensorData(t, format);
    SLUICE_RETURN_IF_ERROR(data.Write(enc.bytes));
    CheckpointTensorInfo& e = entries.emplace_back();
    e.name = name;
    e.dtype = t.dtype();
    e.shape = t.shape();
    e.offset = offset;
    e.size = enc.bytes.size();
    e.masked_crc32c = enc.masked_crc32c;
    offset += enc.bytes.size();
  }
  std::string index;
  if (format == CheckpointFormat::kSluiceV1) {
    index = internal::EncodeSluiceV1Index(entries);
  } else {
    SLUICE_ASSIGN_OR_RETURN(index, internal::EncodeTensorBundleIndex(std::move(entries), /*num_shards=*/1));
  }
  // Data first: the index appearing is what makes the checkpoint exist.
  SLUICE_RETURN_IF_ERROR(data.Commit());
  return WriteFileAtomically(CheckpointIndexPath(prefix), index);
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
  internal::CheckpointIndex parsed;
  if (internal::IsSluiceV1Index(index)) {
    SLUICE_ASSIGN_OR_RETURN(parsed, internal::ParseSluiceV1Index(index, index_path));
  } else {
    SLUICE_ASSIGN_OR_RETURN(parsed, internal::ParseTensorBundleIndex(index, index_path));
  }
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint index ", index_path, ": ", Sv(why)));
  };
  std::vector<uint64_t> shard_end(static_cast<size_t>(parsed.num_shards), 0);
  std::unordered_set<std::string_view> names;
  for (const CheckpointTensorInfo& e : parsed.entries) {
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
    uint64_t& end = shard_end[static_cast<size_t>(e.shard_id)];
    end = std::max(end, e.offset + e.size);
  }

  std::vector<std::string> data_paths;
  std::vector<int> data_fds;
  auto close_all = [&] {
    for (int fd : data_fds) ::close(fd);
  };
  for (int shard = 0; shard < parsed.num_shards; ++shard) {
    const std::string data_path = CheckpointDataPath(prefix, shard, parsed.num_shards);
    int data_fd;
    do {
      data_fd = ::open(data_path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (data_fd < 0 && errno == EINTR);
    if (data_fd < 0) {
      absl::Status s = ErrnoError("cannot open checkpoint data", data_path);
      close_all();
      return s;
    }
    data_paths.push_back(data_path);
    data_fds.push_back(data_fd);
    struct stat st;
    if (::fstat(data_fd, &st) != 0) {
      absl::Status s = ErrnoError("stat", data_path);
      close_all();
      return s;
    }
    if (static_cast<uint64_t>(st.st_size) < shard_end[static_cast<size_t>(shard)]) {
      close_all();
      // Names the first tensor the cut reaches into.
      const CheckpointTensorInfo* cut = nullptr;
      for (const auto& e : parsed.entries) {
        if (e.shard_id == shard && e.offset + e.size > static_cast<uint64_t>(st.st_size) &&
            (cut == nullptr || e.offset < cut->offset)) {
          cut = &e;
        }
      }
      return absl::DataLossError(absl::StrCat("checkpoint data ", data_path, " is truncated: tensor '", cut->name,
                                              "' needs bytes up to ", cut->offset + cut->size, ", file has ",
                                              st.st_size));
    }
  }
  return std::unique_ptr<CheckpointReader>(new CheckpointReader(
      std::move(prefix), parsed.format, std::move(data_paths), std::move(data_fds), std::move(parsed.entries)));
}

CheckpointReader::CheckpointReader(std::string prefix, CheckpointFormat format,
                                   std::vector<std::string> data_paths, std::vector<int> data_fds,
                                   std::vector<CheckpointTensorInfo> entries)
    : prefix_(std::move(prefix)),
      format_(format),
      data_paths_(std::move(data_paths)),
      data_fds_(std::move(data_fds)),
      entries_(std::move(entries)) {}

CheckpointReader::~CheckpointReader() {
  for (int fd : data_fds_) ::close(fd);
}

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
  const std::string& path = data_paths_[static_cast<size_t>(e->shard_id)];
  std::string bytes(e->size, '\0');
  size_t got;
  SLUICE_RETURN_IF_ERROR(
      ReadAllAt(data_fds_[static_cast<size_t>(e->shard_id)], bytes.data(), bytes.size(), e->offset, path, &got));
  if (got != e->size) {
    return absl::DataLossError(absl::StrCat("checkpoint data ", path, ": tensor '", e->name, "': truncated (", got,
                                            " of ", e->size, " bytes)"));
  }
  return internal::DecodeTensorData(*e, bytes, format_, path);
}

}  // namespace sluice
