#include "graph/placement.h"

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"

namespace sluice {

absl::StatusOr<const Device*> Placer::Place(const Node* node) {
  auto it = placed_.find(node);
  if (it != placed_.end()) return it->second;
  const Device* chosen = nullptr;
  // Colocate with the variable for ref inputs (Assign writes the
  // variable's own memory).
  for (int i : node->op_def().ref_inputs) {
    if (i < node->num_inputs()) {
      SLUICE_ASSIGN_OR_RETURN(chosen, Place(node->input(i).node()));
      break;
    }
  }
  if (chosen == nullptr) {
    auto spec = DeviceSpec::Parse(node->requested_device());
    if (!spec.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cannot assign a device for operation '", node->name(),
                       "': ", spec.status().message()));
    }
    // A job or task is never softened into the local CPU.
    if (absl::Status st = devices_->CheckJobTask(*spec); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Cannot assign a device for operation '",
                                                     node->name(), "': ", st.message()));
    }
    KernelRegistry* kernels = KernelRegistry::Global();
    if (!spec->empty()) {
      const Device* d = devices_->Find(*spec);
      if (d != nullptr && kernels->Find(*node, d->type()) != nullptr) {
        chosen = d;
      } else if (!soft_) {
        const std::string why =
            d == nullptr
                ? absl::StrCat("Operation was explicitly assigned to ", spec->ToString(),
                               " but available devices are ", devices_->DebugString(),
                               ". Make sure the device specification refers to a valid device.")
                : absl::StrCat("Could not satisfy explicit device specification '",
                               spec->ToString(), "' because no supported kernel for ",
                               Sv(DeviceTypeName(d->type())), " devices is available.");
        return absl::InvalidArgumentError(absl::StrCat(
            "Cannot assign a device for operation '", node->name(), "': ", why));
      }
    }
    if (chosen == nullptr && spec->empty() && devices_->prefers_gpu()) {
      DeviceSpec any_gpu;
      any_gpu.type = DeviceType::kGPU;
      const Device* gpu = devices_->Find(any_gpu);
      if (gpu != nullptr && kernels->Find(*node, DeviceType::kGPU) != nullptr) chosen = gpu;
    }
    if (chosen == nullptr) {
      chosen = devices_->cpu();
      if (kernels->Find(*node, DeviceType::kCPU) == nullptr) {
        return absl::NotFoundError(absl::StrCat("No registered '", node->type(),
                                                "' OpKernel for CPU devices compatible with node '",
                                                node->name(), "' (dtype ",
                                                Sv(DTypeName(KernelDType(*node))), ")"));
      }
    }
  }
  placed_[node] = chosen;
  return chosen;
}

std::string Placer::LogLine(const Node& node, const Device& device) {
  return absl::StrCat(node.name(), ": (", node.type(), "): ", device.name());
}

}  // namespace sluice
