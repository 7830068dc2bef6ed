#include "graph/saver.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/checkpoint.h"
#include "graph/meta_graph.h"
#include "graph/summary_writer.h"

namespace sluice {
namespace {

std::string DirName(std::string_view path) {
  std::filesystem::path p{std::string(path)};
  return p.parent_path().string();
}

}  // namespace

Saver::Saver(const std::vector<Variable>& vars, SaverOptions options)
    : options_(std::move(options)),
      retention_(options_.max_to_keep, options_.keep_checkpoint_every_n_hours, NowWallTime()) {
  for (const Variable& v : vars) {
    vars_.emplace_back(v.valid() ? v.op_name() : std::string(), v);
  }
}

Saver::Saver(const std::map<std::string, Variable, std::less<>>& names, SaverOptions options)
    : options_(std::move(options)),
      retention_(options_.max_to_keep, options_.keep_checkpoint_every_n_hours, NowWallTime()) {
  for (const auto& [name, v] : names) vars_.emplace_back(name, v);
}

absl::Status Saver::Validate() const {
  std::set<std::string_view> seen;
  for (const auto& [name, v] : vars_) {
    if (!v.valid()) return absl::InvalidArgumentError("Saver: an invalid Variable was given");
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("At least two variables have the same name: ", name));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Saver::Save(Session* session, std::string_view save_path,
                                        std::optional<int64_t> global_step, bool write_meta_graph) {
  SLUICE_RETURN_IF_ERROR(Validate());
  std::string path(save_path);
  if (global_step.has_value()) absl::StrAppend(&path, "-", *global_step);
  const std::string dir = DirName(path);
  if (std::filesystem::path(path).filename().string() == options_.latest_filename) {
    // Checked before writing anything, as TensorFlow's RuntimeError is.
    return absl::FailedPreconditionError(absl::StrCat(
        "Save path '", path, "' conflicts with path used for checkpoint state.  Please use a different save path."));
  }
  std::vector<std::pair<std::string, Tensor>> tensors;
  tensors.reserve(vars_.size());
  for (const auto& [name, v] : vars_) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session->ReadVariable(v));
    tensors.emplace_back(name, std::move(t));
  }
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("Parent directory of ", path, " cannot be created"));
  }
  SLUICE_RETURN_IF_ERROR(WriteCheckpoint(path, tensors));
  if (write_meta_graph && !vars_.empty()) {
    MetaGraphSaverInfo info{options_.max_to_keep, options_.keep_checkpoint_every_n_hours};
    SLUICE_RETURN_IF_ERROR(WriteMetaGraph(absl::StrCat(path, ".meta"), *vars_[0].second.graph(), info));
  }

  const double now = NowWallTime();
  std::vector<std::string> doomed = retention_.Add(path, now);
  UpdateCheckpointStateOptions state_options;
  state_options.latest_filename = options_.latest_filename;
  state_options.save_relative_paths = options_.save_relative_paths;
  if (options_.max_to_keep > 0) state_options.all_model_checkpoint_timestamps = retention_.timestamps();
  state_options.last_preserved_timestamp = retention_.last_preserved_timestamp();
  SLUICE_RETURN_IF_ERROR(UpdateCheckpointState(dir, path, retention_.paths(), state_options));
  // Deleted only once the state file no longer lists them.
  for (const std::string& p : doomed) SLUICE_RETURN_IF_ERROR(DeleteCheckpoint(p));
  return path;
}

absl::StatusOr<std::string> Saver::Save(Session* session, std::string_view save_path,
                                        const Variable& global_step, bool write_meta_graph) {
  if (!global_step.valid()) return absl::InvalidArgumentError("Saver::Save: invalid global_step variable");
  SLUICE_ASSIGN_OR_RETURN(Tensor step, session->ReadVariable(global_step));
  if (step.NumElements() != 1) {
    return absl::InvalidArgumentError("Saver::Save: global_step must be a scalar");
  }
  switch (step.dtype()) {
    case DType::kInt64: return Save(session, save_path, step.data<int64_t>()[0], write_meta_graph);
    case DType::kInt32: return Save(session, save_path, static_cast<int64_t>(step.data<int32_t>()[0]), write_meta_graph);
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("Saver::Save: global_step must be int32 or int64, got ", Sv(DTypeName(step.dtype()))));
  }
}

absl::Status Saver::Restore(Session* session, std::string_view save_path) {
  SLUICE_RETURN_IF_ERROR(Validate());
  if (!CheckpointExists(save_path)) {
    return absl::NotFoundError(
        absl::StrCat("The passed save_path is not a valid checkpoint: ", Sv(save_path)));
  }
  SLUICE_ASSIGN_OR_RETURN(auto reader, CheckpointReader::Open(std::string(save_path)));
  std::vector<Tensor> values;
  values.reserve(vars_.size());
  for (const auto& [name, v] : vars_) {
    const CheckpointTensorInfo* info = reader->Find(name);
    if (info == nullptr) {
      return absl::NotFoundError(absl::StrCat("Key ", name, " not found in checkpoint ", Sv(save_path)));
    }
    if (info->dtype != v.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", name, " in checkpoint ", Sv(save_path), " has dtype ", Sv(DTypeName(info->dtype)),
          " but the variable has dtype ", Sv(DTypeName(v.dtype()))));
    }
    if (v.record()->validate_shape && v.shape().IsFullyDefined() && info->shape != v.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Assign requires shapes of both tensors to match. lhs shape= ", v.shape().DebugString(),
          " rhs shape= ", info->shape.DebugString(), " (tensor ", name, " in checkpoint ", Sv(save_path), ")"));
    }
    SLUICE_ASSIGN_OR_RETURN(Tensor t, reader->Read(name));
    values.push_back(std::move(t));
  }
  for (size_t i = 0; i < vars_.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(session->AssignVariable(vars_[i].second, values[i]));
  }
  return absl::OkStatus();
}

void Saver::RecoverLastCheckpoints(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, double>> entries;
  const double now = NowWallTime();
  for (const auto& p : paths) entries.emplace_back(p, now);
  retention_.SetLastCheckpoints(std::move(entries));
}

}  // namespace sluice
