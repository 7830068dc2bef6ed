#include "graph/device.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"

namespace sluice {

absl::StatusOr<DeviceSpec> DeviceSpec::Parse(std::string_view s) {
  DeviceSpec spec;
  if (s.empty()) return spec;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Malformed device specification '", Sv(s), "': ", Sv(why)));
  };
  // Components are "/"-separated; job/replica/task are accepted and
  // ignored (one process), "device:TYPE:N" or "TYPE:N" name the device.
  for (absl::string_view part : absl::StrSplit(Sv(s), '/', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(part, ':');
    if (f.empty()) continue;
    const std::string key = absl::AsciiStrToLower(f[0]);
    if (key == "job" || key == "replica" || key == "task") continue;
    if (key == "device") f.erase(f.begin());
    if (f.empty() || f.size() > 2) return bad("expected TYPE:INDEX");
    const std::string type = absl::AsciiStrToUpper(f[0]);
    if (type == "CPU") {
      spec.type = DeviceType::kCPU;
    } else if (type == "GPU") {
      spec.type = DeviceType::kGPU;
    } else {
      return bad(absl::StrCat("unknown device type '", f[0], "'"));
    }
    spec.index = -1;
    if (f.size() == 2 && f[1] != "*") {
      if (!absl::SimpleAtoi(f[1], &spec.index) || spec.index < 0) return bad("bad index");
    }
  }
  return spec;
}

std::string DeviceSpec::ToString() const {
  if (!type.has_value()) return "";
  return absl::StrCat("/device:", Sv(DeviceTypeName(*type)), ":",
                      index < 0 ? std::string("*") : absl::StrCat(index));
}

Device::Device(DeviceType type, int index, DeviceContext* context)
    : type_(type),
      index_(index),
      name_(absl::StrCat("/job:localhost/replica:0/task:0/device:", Sv(DeviceTypeName(type)), ":",
                         index)),
      context_(context) {}

bool Device::Matches(const DeviceSpec& spec) const {
  if (spec.type.has_value() && *spec.type != type_) return false;
  return spec.index < 0 || spec.index == index_;
}

std::shared_ptr<const DeviceSet> DeviceSet::Local() {
  static std::shared_ptr<const DeviceSet> local = [] {
    std::vector<std::unique_ptr<Device>> devices;
    devices.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
    return std::make_shared<const DeviceSet>(std::move(devices));
  }();
  return local;
}

DeviceSet::DeviceSet(std::vector<std::unique_ptr<Device>> devices) : devices_(std::move(devices)) {}

const Device* DeviceSet::Find(const DeviceSpec& spec) const {
  for (const auto& d : devices_) {
    if (d->Matches(spec)) return d.get();
  }
  return nullptr;
}

std::string DeviceSet::DebugString() const {
  std::string s = "[";
  for (size_t i = 0; i < devices_.size(); ++i) {
    absl::StrAppend(&s, i ? ", " : " ", devices_[i]->name());
  }
  absl::StrAppend(&s, " ]");
  return s;
}

}  // namespace sluice
