#include "readers/internal/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::internal {
namespace {

absl::Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(
      err, absl::StrCat(absl::string_view(what.data(), what.size()), " ", path));
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, bool map) : fd_(fd), path_(std::move(path)), map_(map) {}
  ~FileSource() override { ::close(fd_); }

  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return ErrnoStatus(errno, "read", path_);
    }
  }
  RefPtr Mapped(std::string_view* all) override {
    if (!map_) return RefPtr();
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return RefPtr();
    const size_t size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, 0);
    if (p == MAP_FAILED) return RefPtr();
    *all = std::string_view(static_cast<const char*>(p), size);
    return Buffer::Wrap(p, size, HostAllocator(), [p, size] { ::munmap(p, size); });
  }
  absl::Status Rewind() override { return Seek(0); }
  bool CanSeek() const override { return true; }
  absl::Status Seek(uint64_t offset) override {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return ErrnoStatus(errno, "lseek", path_);
    }
    return absl::OkStatus();
  }

 private:
  const int fd_;
  const std::string path_;
  const bool map_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    const size_t k = std::min(n, data_.size() - std::min(pos_, data_.size()));
    if (k > 0) std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  RefPtr Mapped(std::string_view* all) override {
    *all = data_;
    // The caller owns the bytes (and keeps them alive, per the contract).
    return Buffer::Wrap(const_cast<char*>(data_.data()), data_.size(), HostAllocator(), [] {});
  }
  absl::Status Rewind() override { return Seek(0); }
  bool CanSeek() const override { return true; }
  absl::Status Seek(uint64_t offset) override {
    pos_ = static_cast<size_t>(std::min<uint64_t>(offset, data_.size()));
    return absl::OkStatus();
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path, bool map) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("is a directory: ", path));
  }
  // The kernel reads ahead more aggressively for a sequential stream.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<FileSource>(fd, path, map);
}

std::unique_ptr<ByteSource> NewMemorySource(std::string_view data) {
  return std::make_unique<MemorySource>(data);
}

}  // namespace sluice::internal
