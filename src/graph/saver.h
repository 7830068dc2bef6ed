#pragma once
// Saver: tf.train.Saver over TensorFlow V2 checkpoints (checkpoint.h) and the
// `checkpoint` state file (checkpoint_state.h).
//
//   Saver saver(GlobalVariables(g));                       // or a subset / name map
//   SLUICE_ASSIGN_OR_RETURN(std::string path,
//                           saver.Save(&sess, "model/model.ckpt", step));  // "model/model.ckpt-<step>"
//   ...
//   if (auto last = LatestCheckpoint("model")) SLUICE_RETURN_IF_ERROR(saver.Restore(&sess, *last));
//
// Save(session, prefix, global_step) reads every variable's value from the
// session, writes PREFIX[-STEP].{index,data-00000-of-00001} (created with
// parent directories, atomically), rewrites the state file in PREFIX's
// directory and then deletes what max_to_keep / keep_checkpoint_every_n_hours
// retire (spec §6, items 119-120). With write_meta_graph (the default, as
// in TensorFlow) it also writes PREFIX[-STEP].meta, the MetaGraphDef of the
// variables' graph (meta_graph.h), which ImportMetaGraph rebuilds.
//
// Restore(session, path) reads every saved tensor first and checks it
// against its variable (NotFound "Key w1 not found in checkpoint PATH";
// InvalidArgument for a dtype or shape mismatch), and only then assigns
// them all: a failed restore leaves the variables as they were. Restoring
// also initialises variables that had not been.
//
// Errors from the session (an uninitialised variable: FailedPrecondition)
// and from the files are returned unchanged.
//
// Thread-safety: a Saver is not thread-safe (like TensorFlow's, its list of
// recent checkpoints is unsynchronised state); distinct Savers may be used
// concurrently.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/checkpoint_state.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {

struct SaverOptions {
  // 0 keeps every file, and the state file lists only the newest.
  int max_to_keep = 5;
  double keep_checkpoint_every_n_hours = 10000.0;
  // Store paths in the state file relative to its directory, so the
  // directory can be moved.
  bool save_relative_paths = false;
  // The state file's name (TensorFlow's latest_filename).
  std::string latest_filename = std::string(kCheckpointStateFilename);
};

class Saver {
 public:
  // Saves `vars` under their op names ("layer1/weight"). Two variables
  // with one name make every Save and Restore fail with InvalidArgument
  // ("At least two variables have the same name: w").
  explicit Saver(const std::vector<Variable>& vars, SaverOptions options = {});
  // Saves each variable under the given checkpoint name (TensorFlow's
  // Saver({"name": var})): restoring into renamed variables.
  explicit Saver(const std::map<std::string, Variable, std::less<>>& names, SaverOptions options = {});

  // Writes a checkpoint and returns its path (prefix, or prefix-STEP).
  absl::StatusOr<std::string> Save(Session* session, std::string_view save_path,
                                   std::optional<int64_t> global_step = std::nullopt,
                                   bool write_meta_graph = true);
  // The same with the step read from `global_step` (an int32/int64 scalar
  // variable), as save(sess, path, global_step=global_step_tensor).
  absl::StatusOr<std::string> Save(Session* session, std::string_view save_path,
                                   const Variable& global_step, bool write_meta_graph = true);

  absl::Status Restore(Session* session, std::string_view save_path);

  // Checkpoints this Saver tracks for deletion, oldest first.
  std::vector<std::string> last_checkpoints() const { return retention_.paths(); }
  // Takes over an earlier process's checkpoints (TensorFlow's
  // recover_last_checkpoints), so that max_to_keep deletes them in turn.
  void RecoverLastCheckpoints(const std::vector<std::string>& paths);

  const SaverOptions& options() const { return options_; }

 private:
  absl::Status Validate() const;

  SaverOptions options_;
  std::vector<std::pair<std::string, Variable>> vars_;  // checkpoint name, variable
  CheckpointRetention retention_;
};

}  // namespace sluice
