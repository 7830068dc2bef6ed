#pragma once
// RecordPool: compact storage for the records a shuffle buffer holds.
//
// Records are carved from 256 KiB slabs in 16-byte size classes and reused
// through per-class free lists, so storing a record costs a memcpy and no
// malloc, and memory is payload rounded up to 16 bytes (835-byte records:
// 1.016x) plus the slabs' free tail. Records above 64 KiB get their own
// allocation. Once the owner calls MarkDrained() (its input ended), the
// slabs are released as soon as every record has been freed, so a drained
// buffer gives its memory back; before that, free slots are kept for reuse
// (a buffer of one record must not map and unmap a slab per record).
//
// Lifetime: records may outlive the shuffle iterator (a batch tensor owns
// the records it was handed), so the pool is shared: every holder keeps a
// shared_ptr. Thread-safe (one absl::Mutex; callers allocate and free in batches).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace sluice {

class RecordPool {
 public:
  static constexpr size_t kClass = 16;
  static constexpr size_t kSlabBytes = 256 << 10;
  static constexpr size_t kLargeRecord = 64 << 10;

  RecordPool();
  ~RecordPool();
  RecordPool(const RecordPool&) = delete;
  RecordPool& operator=(const RecordPool&) = delete;

  // Copies each of `records` into the pool; out[i] points at the copy.
  // Returns false (having stored none) when memory cannot be had.
  bool StoreAll(absl::Span<const std::string_view> records, std::vector<char*>* out);
  // StoreAll without the copy: out[i] is a slot of records[i].size() bytes
  // for the caller to fill (on any thread, without the pool's lock) before
  // anyone reads it. Returns false (having taken none) when memory cannot
  // be had.
  bool AllocateAll(absl::Span<const std::string_view> records,
                   std::vector<char*>* out);
  // Frees records of the given sizes (sizes[i] is the size StoreAll saw).
  void FreeAll(absl::Span<char* const> ptrs, absl::Span<const uint32_t> sizes);

  // The owner will store no more records: release the slabs once every
  // record has been freed (at once if none is live).
  void MarkDrained() { ReleaseWhenEmpty(true); }
  // on: release the slabs whenever no record is live (at once if none is);
  // off: keep free slots for reuse (the default).
  void ReleaseWhenEmpty(bool on);

  // Bytes held in slabs and large records (for memory accounting).
  size_t bytes_held() const;
  int64_t live_records() const;

 private:
  char* AllocateLocked(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseIfEmptyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::vector<char*>> free_ ABSL_GUARDED_BY(mu_);  // by size class
  std::vector<std::unique_ptr<char[]>> slabs_ ABSL_GUARDED_BY(mu_);
  size_t slab_used_ ABSL_GUARDED_BY(mu_) = kSlabBytes;  // in the last slab
  size_t large_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t live_ ABSL_GUARDED_BY(mu_) = 0;
  bool drained_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice
