#include "train/internal/logdir.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "graph/checkpoint_state.h"

namespace sluice::train::internal {
namespace {

// Stores each variable's value back as a host tensor (fetching copies it
// off the device), so the Saver can read it. GPU kernels take host inputs
// and copy them on their next use.
absl::Status StageVariablesOnHost(Session* s,
                                  const std::vector<Variable>& vars) {
  std::vector<Output> fetch;
  for (const Variable& v : vars) fetch.push_back(v.value());
  std::vector<Tensor> values;
  SLUICE_RETURN_IF_ERROR(s->Run({}, fetch, &values));
  for (size_t i = 0; i < vars.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(s->AssignVariable(vars[i], values[i]));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Logdir>> Logdir::Open(const TrainOptions& o,
                                                     const JobRoles& roles,
                                                     JobSession* js,
                                                     int64_t steps_per_epoch) {
  std::unique_ptr<Logdir> d(
      new Logdir(o, js, steps_per_epoch, roles.world != nullptr));
  if (o.logdir.empty() || roles.shard_rank != 0) return d;
  std::error_code ec;
  std::filesystem::create_directories(o.logdir, ec);
  if (o.resume) SLUICE_RETURN_IF_ERROR(d->Resume(roles.log));
  SLUICE_ASSIGN_OR_RETURN(d->events_, FileWriter::Create(o.logdir));
  return d;
}

absl::Status Logdir::Resume(std::ostream* log) {
  std::optional<std::string> last = LatestCheckpoint(o_.logdir);
  if (!last) {
    if (log) *log << "no checkpoint in " << o_.logdir << "; starting fresh\n";
    return absl::OkStatus();
  }
  Session* session = js_->session.get();
  SLUICE_RETURN_IF_ERROR(saver_.Restore(session, *last));
  restored_ = true;
  SLUICE_ASSIGN_OR_RETURN(Tensor step,
                          session->ReadVariable(js_->parts.global_step));
  first_epoch_ = static_cast<int>(step.scalar<int64_t>() / steps_per_epoch_);
  if (world_) {
    SLUICE_ASSIGN_OR_RETURN(Tensor done,
                            session->ReadVariable(js_->parts.epochs_done));
    first_epoch_ = static_cast<int>(done.scalar<int64_t>());
  }
  if (log)
    *log << "resumed from " << *last << " (epoch " << first_epoch_
         << " done)\n";
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Logdir::EpochEndStep(int epoch) {
  if (!world_) return (epoch + 1) * steps_per_epoch_;
  Session* session = js_->session.get();
  SLUICE_ASSIGN_OR_RETURN(Tensor gs,
                          session->ReadVariable(js_->parts.global_step));
  SLUICE_RETURN_IF_ERROR(session->AssignVariable(
      js_->parts.epochs_done, Tensor::Scalar<int64_t>(epoch + 1)));
  return gs.scalar<int64_t>();
}

absl::Status Logdir::Save(int64_t step) {
  Session* session = js_->session.get();
  if (js_->gpu())
    SLUICE_RETURN_IF_ERROR(StageVariablesOnHost(session, js_->globals));
  return saver_
      .Save(session, (std::filesystem::path(o_.logdir) / "model.ckpt").string(),
            step)
      .status();
}

absl::Status Logdir::Close() {
  return events_ ? events_->Close() : absl::OkStatus();
}

}  // namespace sluice::train::internal
