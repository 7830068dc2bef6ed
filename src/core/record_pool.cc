#include "core/record_pool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"

namespace sluice {

RecordPool::RecordPool() { ConfigureAbslMutexOnce(); }
RecordPool::~RecordPool() = default;

char* RecordPool::AllocateLocked(size_t n) {
  if (n > kLargeRecord) {
    char* p = static_cast<char*>(std::malloc(n));
    if (p != nullptr) large_bytes_ += n;
    return p;
  }
  const size_t cls = std::max<size_t>((n + kClass - 1) / kClass, 1);  // an empty record: 1
  const size_t bytes = cls * kClass;
  if (cls < free_.size() && !free_[cls].empty()) {
    char* p = free_[cls].back();
    free_[cls].pop_back();
    return p;
  }
  if (slab_used_ + bytes > kSlabBytes) {
    char* slab = new (std::nothrow) char[kSlabBytes];
    if (slab == nullptr) return nullptr;
    // The unused tail of the previous slab goes to the free lists so that
    // nothing is stranded.
    if (!slabs_.empty()) {
      char* base = slabs_.back().get();
      while (slab_used_ + kClass <= kSlabBytes) {
        const size_t left = (kSlabBytes - slab_used_) / kClass;
        const size_t c = std::min(left, kLargeRecord / kClass);
        if (c >= free_.size()) free_.resize(c + 1);
        free_[c].push_back(base + slab_used_);
        slab_used_ += c * kClass;
      }
    }
    slabs_.emplace_back(slab);
    slab_used_ = 0;
  }
  char* p = slabs_.back().get() + slab_used_;
  slab_used_ += bytes;
  return p;
}

bool RecordPool::StoreAll(absl::Span<const std::string_view> records, std::vector<char*>* out) {
  if (!AllocateAll(records, out)) return false;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i].empty())
      std::memcpy((*out)[i], records[i].data(), records[i].size());
  }
  return true;
}

bool RecordPool::AllocateAll(absl::Span<const std::string_view> records,
                             std::vector<char*>* out) {
  out->clear();
  out->reserve(records.size());
  {
    // Only the slots are taken under the lock; the bytes are copied after
    // it (StoreAll, or the caller), so batches freeing records (FreeAll,
    // other threads) never wait behind a whole batch of copies.
    absl::MutexLock lock(&mu_);
    for (std::string_view r : records) {
      char* p = AllocateLocked(r.size());
      if (p == nullptr) {
        for (size_t i = 0; i < out->size(); ++i) {
          // Give back what was taken (sizes known from records).
          const size_t n = records[i].size();
          if (n > kLargeRecord) {
            std::free((*out)[i]);
            large_bytes_ -= n;
          } else {
            const size_t cls = std::max<size_t>((n + kClass - 1) / kClass, 1);
            if (cls >= free_.size()) free_.resize(cls + 1);
            free_[cls].push_back((*out)[i]);
          }
        }
        out->clear();
        return false;
      }
      out->push_back(p);
    }
    live_ += static_cast<int64_t>(records.size());
  }
  return true;
}

void RecordPool::FreeAll(absl::Span<char* const> ptrs, absl::Span<const uint32_t> sizes) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < ptrs.size(); ++i) {
    const size_t n = sizes[i];
    if (n > kLargeRecord) {
      std::free(ptrs[i]);
      large_bytes_ -= n;
      continue;
    }
    const size_t cls = std::max<size_t>((n + kClass - 1) / kClass, 1);
    if (cls >= free_.size()) free_.resize(cls + 1);
    free_[cls].push_back(ptrs[i]);
  }
  live_ -= static_cast<int64_t>(ptrs.size());
  ReleaseIfEmptyLocked();
}

void RecordPool::ReleaseWhenEmpty(bool on) {
  absl::MutexLock lock(&mu_);
  drained_ = on;
  ReleaseIfEmptyLocked();
}

void RecordPool::ReleaseIfEmptyLocked() {
  if (live_ != 0 || !drained_) return;
  free_.clear();
  free_.shrink_to_fit();
  slabs_.clear();
  slabs_.shrink_to_fit();
  slab_used_ = kSlabBytes;
}

size_t RecordPool::bytes_held() const {
  absl::MutexLock lock(&mu_);
  return slabs_.size() * kSlabBytes + large_bytes_;
}

int64_t RecordPool::live_records() const {
  absl::MutexLock lock(&mu_);
  return live_;
}

}  // namespace sluice
