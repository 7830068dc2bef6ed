#include "device/device_context.h"

namespace sluice {

std::string_view DeviceTypeName(DeviceType t) {
  switch (t) {
    case DeviceType::kCPU: return "CPU";
    case DeviceType::kGPU: return "GPU";
  }
  return "?";
}

CpuDeviceContext* CpuDeviceContext::Get() {
  static CpuDeviceContext* ctx = new CpuDeviceContext();
  return ctx;
}

}  // namespace sluice
