#include "core/buffer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace sluice {

struct Buffer::Extras {
  std::vector<RefPtr> owners;
  std::vector<std::unique_ptr<char[]>> blocks;
  size_t block_used = 0;
  size_t block_size = 0;
  size_t arena_bytes = 0;
};

RefPtr::RefPtr(const RefPtr& o) : p_(o.p_) {
  if (p_) p_->Ref();
}
RefPtr& RefPtr::operator=(const RefPtr& o) {
  if (o.p_) o.p_->Ref();
  if (p_) p_->Unref();
  p_ = o.p_;
  return *this;
}
RefPtr& RefPtr::operator=(RefPtr&& o) noexcept {
  if (this != &o) {
    if (p_) p_->Unref();
    p_ = std::exchange(o.p_, nullptr);
  }
  return *this;
}
RefPtr::~RefPtr() {
  if (p_) p_->Unref();
}

namespace {
// Host buffers up to this size share one allocation with their header, so a
// scalar tensor costs one malloc.
constexpr size_t kInlineLimit = 256;
constexpr size_t kHeader =
    (sizeof(Buffer) + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
}  // namespace

RefPtr Buffer::Create(Allocator* allocator, size_t bytes) {
  if (allocator == HostAllocator() && bytes <= kInlineLimit) {
    // aligned_alloc wants a size that is a multiple of the alignment (ASan
    // enforces it).
    const size_t data_bytes =
        (std::max<size_t>(bytes, kTensorAlignment) + kTensorAlignment - 1) / kTensorAlignment *
        kTensorAlignment;
    void* mem = std::aligned_alloc(kTensorAlignment, kHeader + data_bytes);
    if (mem == nullptr) return RefPtr();
    Buffer* b = new (mem) Buffer();
    b->data_ = static_cast<char*>(mem) + kHeader;
    b->size_ = bytes;
    b->allocator_ = allocator;
    b->inline_data_ = true;
    return RefPtr(b);
  }
  void* data = allocator->Allocate(bytes, kTensorAlignment);
  if (data == nullptr) return RefPtr();
  void* mem = std::aligned_alloc(kTensorAlignment, kHeader);
  if (mem == nullptr) {
    allocator->Deallocate(data, bytes);
    return RefPtr();
  }
  Buffer* b = new (mem) Buffer();
  b->data_ = data;
  b->size_ = bytes;
  b->allocator_ = allocator;
  return RefPtr(b);
}

RefPtr Buffer::Wrap(void* data, size_t bytes, Allocator* allocator,
                    std::function<void()> release) {
  void* mem = std::aligned_alloc(kTensorAlignment, kHeader);
  if (mem == nullptr) return RefPtr();
  Buffer* b = new (mem) Buffer();
  b->data_ = data;
  b->size_ = bytes;
  b->allocator_ = allocator;
  b->inline_data_ = true;  // not ours to deallocate
  b->release_ = std::move(release);
  return RefPtr(b);
}

Buffer::~Buffer() {
  if (release_) {
    release_();
  } else if (!inline_data_ && data_ != nullptr) {
    allocator_->Deallocate(data_, size_);
  }
}

void Buffer::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~Buffer();
    std::free(this);
  }
}

Buffer::Extras* Buffer::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return extras_.get();
}

void Buffer::AddOwner(const RefPtr& owner) {
  if (!owner || owner.get() == this) return;
  Extras* e = extras();
  if (!e->owners.empty() && e->owners.back() == owner) return;
  e->owners.push_back(owner);
}

std::string_view Buffer::CopyIntoArena(std::string_view bytes) {
  if (bytes.empty()) return std::string_view();
  Extras* e = extras();
  if (bytes.size() > 1024) {
    // A large string gets a block of its own, kept ahead of the current
    // small-string block so that block stays open.
    auto block = std::unique_ptr<char[]>(new char[bytes.size()]);
    std::memcpy(block.get(), bytes.data(), bytes.size());
    std::string_view view(block.get(), bytes.size());
    e->arena_bytes += bytes.size();
    e->blocks.insert(e->blocks.end() - (e->blocks.empty() ? 0 : 1), std::move(block));
    return view;
  }
  if (e->blocks.empty() || e->block_size - e->block_used < bytes.size()) {
    constexpr size_t kBlock = 4096;
    e->blocks.push_back(std::unique_ptr<char[]>(new char[kBlock]));
    e->block_size = kBlock;
    e->block_used = 0;
    e->arena_bytes += kBlock;
  }
  char* dst = e->blocks.back().get() + e->block_used;
  std::memcpy(dst, bytes.data(), bytes.size());
  e->block_used += bytes.size();
  return std::string_view(dst, bytes.size());
}

size_t Buffer::arena_bytes() const { return extras_ ? extras_->arena_bytes : 0; }
size_t Buffer::num_owners() const { return extras_ ? extras_->owners.size() : 0; }

}  // namespace sluice
