#include "graph/device.h"

#include <cctype>
#include <cstdio>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/absl_compat.h"
#include "device/device_registry.h"

namespace sluice {

absl::StatusOr<DeviceSpec> DeviceSpec::Parse(std::string_view s) {
  DeviceSpec spec;
  if (s.empty()) return spec;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Malformed device specification '", Sv(s), "': ", Sv(why)));
  };
  // Components are "/"-separated; job and task name the cluster task
  // (replica is accepted and ignored), "device:TYPE:N" or "TYPE:N" name
  // the device.
  for (absl::string_view part : absl::StrSplit(Sv(s), '/', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(part, ':');
    if (f.empty()) continue;
    const std::string key = absl::AsciiStrToLower(f[0]);
    if (key == "replica") continue;
    if (key == "job") {
      if (f.size() != 2 || f[1].empty()) return bad("expected job:NAME");
      spec.job = f[1];
      continue;
    }
    if (key == "task") {
      if (f.size() != 2 || !absl::SimpleAtoi(f[1], &spec.task) || spec.task < 0) {
        return bad("expected task:INDEX");
      }
      continue;
    }
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
  std::string s;
  if (job.has_value()) absl::StrAppend(&s, "/job:", *job);
  if (task >= 0) absl::StrAppend(&s, "/task:", task);
  if (!type.has_value()) return s;
  return absl::StrCat(s, "/device:", Sv(DeviceTypeName(*type)), ":",
                      index < 0 ? std::string("*") : absl::StrCat(index));
}

Device::Device(DeviceType type, int index, DeviceContext* context, std::string job, int task)
    : type_(type),
      index_(index),
      job_(std::move(job)),
      task_(task),
      name_(absl::StrCat("/job:", job_, "/replica:0/task:", task_, "/device:",
                         Sv(DeviceTypeName(type)), ":", index)),
      context_(context) {}

bool Device::Matches(const DeviceSpec& spec) const {
  if (spec.job.has_value() && *spec.job != job_) return false;
  if (spec.task >= 0 && spec.task != task_) return false;
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

std::shared_ptr<const DeviceSet> DeviceSet::Default() {
  if (GpuDeviceCount() == 0) return Local();
  absl::StatusOr<std::shared_ptr<const DeviceSet>> all = WithGpus({});
  if (!all.ok()) {
    static std::once_flag logged;
    std::call_once(logged, [&] {
      std::fprintf(stderr,
                   "sluice: a GPU cannot be used, placing on the CPU: %s\n",
                   std::string(all.status().message()).c_str());
    });
    return Local();
  }
  return *std::move(all);
}

absl::StatusOr<std::shared_ptr<const DeviceSet>> DeviceSet::WithGpus(
    const std::vector<int>& visible, bool prefers_gpu) {
  const int n = GpuDeviceCount();
  std::vector<int> gpus = visible;
  if (gpus.empty()) {
    if (n == 0) return Local();
    for (int i = 0; i < n; ++i) gpus.push_back(i);
  }
  // Every entry is checked before any context is made.
  std::vector<bool> listed(n, false);
  for (int i : gpus) {
    if (i < 0 || i >= n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "visible device list names GPU ", i,
          ", which does not exist: this process sees ", n, " GPU",
          n == 1 ? "" : "s",
          n > 0 ? absl::StrCat(" (/gpu:0../gpu:", n - 1, ")") : std::string()));
    }
    if (listed[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("visible device list names GPU ", i, " twice"));
    }
    listed[i] = true;
  }
  std::vector<std::unique_ptr<Device>> devices;
  devices.push_back(std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
  for (int i : gpus) {
    absl::StatusOr<DeviceContext*> gpu = GpuContext(i);
    if (!gpu.ok()) {
      return absl::Status(gpu.status().code(),
                          absl::StrCat("GPU ", i, " cannot be set up: ",
                                       gpu.status().message()));
    }
    devices.push_back(std::make_unique<Device>(DeviceType::kGPU, i, *gpu));
  }
  return std::shared_ptr<const DeviceSet>(std::make_shared<const DeviceSet>(
      std::move(devices), std::vector<std::pair<std::string, int>>{},
      prefers_gpu));
}

absl::StatusOr<std::vector<int>> ParseVisibleDeviceList(std::string_view list) {
  std::vector<int> out;
  if (absl::StripAsciiWhitespace(Sv(list)).empty()) return out;
  for (absl::string_view part : absl::StrSplit(Sv(list), ',')) {
    const absl::string_view entry = absl::StripAsciiWhitespace(part);
    int index = -1;
    if (!absl::SimpleAtoi(entry, &index) || index < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "visible device list '", Sv(list), "': '", entry,
          "' is not a GPU index (expected e.g. \"0\" or \"1,0\")"));
    }
    out.push_back(index);
  }
  return out;
}

DeviceSet::DeviceSet(std::vector<std::unique_ptr<Device>> devices,
                     std::vector<std::pair<std::string, int>> cluster_jobs, bool prefers_gpu)
    : devices_(std::move(devices)), jobs_(std::move(cluster_jobs)), prefers_gpu_(prefers_gpu) {
  if (jobs_.empty() && !devices_.empty()) jobs_.emplace_back(cpu()->job(), cpu()->task() + 1);
}

absl::Status DeviceSet::CheckJobTask(const DeviceSpec& spec) const {
  if (!spec.names_task()) return absl::OkStatus();
  const std::string& own_job = cpu()->job();
  const std::string job = spec.job.value_or(own_job);
  std::string known;
  const std::pair<std::string, int>* found = nullptr;
  for (const auto& j : jobs_) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", j.first, " (", j.second, " task",
                    j.second == 1 ? "" : "s", ")");
    if (j.first == job) found = &j;
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown job '", job, "' in device '", spec.ToString(),
                     "': the cluster has jobs ", known));
  }
  if (spec.task >= found->second) {
    return absl::InvalidArgumentError(absl::StrCat("unknown task ", spec.task, " of job '", job,
                                                   "' in device '", spec.ToString(), "': job '",
                                                   job, "' has ", found->second, " task",
                                                   found->second == 1 ? "" : "s"));
  }
  const int task = spec.task >= 0 ? spec.task : cpu()->task();
  if (job != own_job || task != cpu()->task()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device '", spec.ToString(), "' is task /job:", job, "/task:", task,
        " of the cluster, but this session runs /job:", own_job, "/task:", cpu()->task(),
        " only (variables of other tasks go through sluice::distributed, not a session)"));
  }
  return absl::OkStatus();
}

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
