#pragma once
// Buffer: a refcounted block of bytes from an Allocator, shared by every
// Tensor that views it. RefPtr<Buffer> is the handle; copying a handle costs
// one atomic increment and never copies bytes.
//
// A buffer that holds string elements (arrays of std::string_view) also
// keeps alive whatever those views point into: other Buffers (a reader's
// record chunk, another tensor's strings) registered with AddOwner, and its
// own arena for bytes copied in with CopyIntoArena.
//
// Thread-safety: reference counting is thread-safe. The bytes, the owner
// list and the arena are not synchronised: fill a buffer in one thread,
// then share it; a buffer that is shared is read-only by convention.

#include <atomic>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/allocator.h"

namespace sluice {

class Buffer;

// Intrusive reference-counted pointer to a Buffer.
class RefPtr {
 public:
  RefPtr() = default;
  RefPtr(std::nullptr_t) {}
  RefPtr(const RefPtr& o);
  RefPtr(RefPtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  RefPtr& operator=(const RefPtr& o);
  RefPtr& operator=(RefPtr&& o) noexcept;
  ~RefPtr();

  Buffer* get() const { return p_; }
  Buffer* operator->() const { return p_; }
  Buffer& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  friend bool operator==(const RefPtr& a, const RefPtr& b) { return a.p_ == b.p_; }

 private:
  friend class Buffer;
  explicit RefPtr(Buffer* adopt) : p_(adopt) {}  // takes the initial ref
  Buffer* p_ = nullptr;
};

class Buffer {
 public:
  // Allocates `bytes` from `allocator` (aligned to kTensorAlignment). Host
  // buffers of small size share one allocation with their header. Returns
  // null when the allocator fails.
  static RefPtr Create(Allocator* allocator, size_t bytes);

  // Wraps memory the caller owns; `release` runs when the last reference
  // goes away (e.g. to return a pooled pinned buffer to its pool).
  static RefPtr Wrap(void* data, size_t bytes, Allocator* allocator,
                     std::function<void()> release);

  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  Allocator* allocator() const { return allocator_; }
  // An acquire load: a caller that sees 1 may write the bytes in place,
  // after every other holder's last use (their Unref releases). A fence
  // after a relaxed load did the same, but ThreadSanitizer does not model
  // fences and reported the in-place AssignAdd as a race.
  int64_t ref_count() const { return refs_.load(std::memory_order_acquire); }

  // String support (not thread-safe; see the class comment).
  // Keeps `owner` alive as long as this buffer. Consecutive duplicates are
  // recorded once.
  void AddOwner(const RefPtr& owner);
  // Copies `bytes` into this buffer's arena and returns a view of the copy.
  std::string_view CopyIntoArena(std::string_view bytes);
  // Bytes held by the arena and owner count, for memory accounting.
  size_t arena_bytes() const;
  size_t num_owners() const;

 private:
  friend class RefPtr;
  struct Extras;  // owners and arena; only string buffers allocate one
  Buffer() = default;
  ~Buffer();
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();
  Extras* extras();

  std::atomic<int64_t> refs_{1};
  void* data_ = nullptr;
  size_t size_ = 0;
  Allocator* allocator_ = nullptr;
  bool inline_data_ = false;
  std::unique_ptr<Extras> extras_;
  std::function<void()> release_;
};

}  // namespace sluice
