#include "distributed/internal/ps_state.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"

namespace sluice::distributed::internal {
namespace {

template <typename T>
void Put(std::vector<char>* out, T v) {
  const char* p = reinterpret_cast<const char*>(&v);
  out->insert(out->end(), p, p + sizeof(T));
}

// A bounds-checked cursor over the received bytes.
class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), size_(size) {}

  template <typename T>
  absl::Status Get(T* v, std::string_view what) {
    SLUICE_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return absl::OkStatus();
  }
  absl::Status Bytes(void* dst, size_t n, std::string_view what) {
    SLUICE_RETURN_IF_ERROR(Need(n, what));
    if (n > 0) std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter-server state message of ", size_,
                     " bytes: ", Sv(what), " at offset ", pos_));
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  absl::Status Need(size_t n, std::string_view what) const {
    if (n > size_ - pos_) {
      return Error(
          absl::StrCat(Sv(what), " runs past the end (", n, " bytes needed)"));
    }
    return absl::OkStatus();
  }

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<char>> EncodeNamedTensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors) {
  std::vector<char> out;
  Put<int64_t>(&out, static_cast<int64_t>(tensors.size()));
  for (const auto& [name, t] : tensors) {
    if (t.dtype() == DType::kString) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "': a parameter server's state holds numeric tensors"));
    }
    Put<int64_t>(&out, static_cast<int64_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    Put<int32_t>(&out, static_cast<int32_t>(t.dtype()));
    Put<int32_t>(&out, t.shape().rank());
    for (int64_t d : t.shape().dims()) Put<int64_t>(&out, d);
    Put<int64_t>(&out, static_cast<int64_t>(t.ByteSize()));
    const char* p = static_cast<const char*>(t.raw_data());
    out.insert(out.end(), p, p + t.ByteSize());
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> DecodeNamedTensors(
    const char* data, size_t size) {
  Reader r(data, size);
  int64_t n = 0;
  SLUICE_RETURN_IF_ERROR(r.Get(&n, "the tensor count"));
  if (n < 0) return r.Error(absl::StrCat("a tensor count of ", n));
  std::vector<std::pair<std::string, Tensor>> out;
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = 0;
    SLUICE_RETURN_IF_ERROR(r.Get(&len, "a name's length"));
    if (len < 0 || static_cast<size_t>(len) > r.remaining()) {
      return r.Error(absl::StrCat("tensor ", i, ": a name of ", len, " bytes"));
    }
    std::string name(static_cast<size_t>(len), '\0');
    SLUICE_RETURN_IF_ERROR(r.Bytes(name.data(), name.size(), "a name"));
    int32_t dtype = 0, rank = 0;
    SLUICE_RETURN_IF_ERROR(r.Get(&dtype, "a dtype"));
    SLUICE_RETURN_IF_ERROR(r.Get(&rank, "a rank"));
    if (dtype < 0 || dtype > static_cast<int32_t>(DType::kFloat16) ||
        static_cast<DType>(dtype) == DType::kString) {
      return r.Error(absl::StrCat("'", name, "': dtype ", dtype));
    }
    if (rank < 0 || rank > TensorShape::kMaxRank) {
      return r.Error(absl::StrCat("'", name, "': rank ", rank));
    }
    std::vector<int64_t> dims(rank);
    int64_t elements = 1;
    for (int64_t& d : dims) {
      SLUICE_RETURN_IF_ERROR(r.Get(&d, "a dimension"));
      if (d < 0 || (d > 0 && elements > (int64_t{1} << 40) / d)) {
        return r.Error(absl::StrCat("'", name, "': dimension ", d));
      }
      elements *= d;
    }
    int64_t bytes = 0;
    SLUICE_RETURN_IF_ERROR(r.Get(&bytes, "a byte count"));
    const DType t = static_cast<DType>(dtype);
    if (bytes != elements * static_cast<int64_t>(DTypeSize(t))) {
      return r.Error(absl::StrCat("'", name, "': ", bytes, " bytes for ",
                                  elements, " elements of ", Sv(DTypeName(t))));
    }
    Tensor v(t, TensorShape(absl::Span<const int64_t>(dims)));
    SLUICE_RETURN_IF_ERROR(r.Bytes(v.raw_data(), v.ByteSize(), "tensor bytes"));
    out.emplace_back(std::move(name), std::move(v));
  }
  if (r.remaining() != 0) return r.Error("bytes after the last tensor");
  return out;
}

}  // namespace sluice::distributed::internal
