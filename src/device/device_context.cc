#include "device/device_context.h"

namespace sluice {

std::string_view DeviceTypeName(DeviceType t) {
  switch (t) {
    case DeviceType::kCPU: return "CPU";
    case DeviceType::kGPU: return "GPU";
  }
  return "?";
}

namespace {

class StagingSlots final : public Allocator {
 public:
  std::string_view name() const override { return "device_staging_slot"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t, size_t) override { return nullptr; }  // slots are the stager's
  void Deallocate(void*, size_t) override {}
};

}  // namespace

Allocator* StagingSlotAllocator() {
  static StagingSlots* slots = new StagingSlots();
  return slots;
}

bool IsStagingSlot(const Tensor& t) {
  return t.IsInitialized() && t.buffer()->allocator() == StagingSlotAllocator();
}

CpuDeviceContext* CpuDeviceContext::Get() {
  static CpuDeviceContext* ctx = new CpuDeviceContext();
  return ctx;
}

}  // namespace sluice
