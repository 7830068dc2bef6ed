#include "core/allocator.h"

#include <cstdlib>
#include <new>

namespace sluice {
namespace {

class AlignedHostAllocator final : public Allocator {
 public:
  std::string_view name() const override { return "host"; }
  MemoryKind kind() const override { return MemoryKind::kHost; }
  void* Allocate(size_t bytes, size_t alignment) override {
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    // aligned_alloc requires a multiple of the alignment.
    size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    if (rounded == 0) rounded = alignment;
    return std::aligned_alloc(alignment, rounded);
  }
  void Deallocate(void* ptr, size_t) override { std::free(ptr); }
};

}  // namespace

Allocator* HostAllocator() {
  static Allocator* const kAllocator = new AlignedHostAllocator();
  return kAllocator;
}

}  // namespace sluice
