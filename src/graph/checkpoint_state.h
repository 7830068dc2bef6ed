#pragma once
// TensorFlow's `checkpoint` state file and the Saver's retention rules
// (docs/spec/tf1-pipeline-semantics.md §6, checklist items 119–120).
//
// The state file is a text-format CheckpointState proto:
//   model_checkpoint_path: "model.ckpt-3"
//   all_model_checkpoint_paths: "model.ckpt-2"
//   all_model_checkpoint_paths: "model.ckpt-3"
//   all_model_checkpoint_timestamps: 1700000000.5
//   ...
//   last_preserved_timestamp: 1699990000
// which TensorFlow's get_checkpoint_state reads and this code reads back
// from TensorFlow. It is rewritten atomically (temporary file + rename).
//
// Thread-safety: the free functions are safe to call concurrently for
// distinct directories; CheckpointRetention is not thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice {

inline constexpr std::string_view kCheckpointStateFilename = "checkpoint";

struct CheckpointState {
  std::string model_checkpoint_path;
  // Oldest → newest; ends with model_checkpoint_path.
  std::vector<std::string> all_model_checkpoint_paths;
  // Seconds since the epoch, one per path when present.
  std::vector<double> all_model_checkpoint_timestamps;
  double last_preserved_timestamp = 0;
};

// The text proto, as Python's text_format.MessageToString writes it
// (strings C-escaped, non-ASCII bytes as octal escapes).
std::string SerializeCheckpointState(const CheckpointState& state);
// Parses text format: fields in any order and layout, # comments, single
// or double quotes, C escapes, adjacent string literals concatenated.
// InvalidArgument for unknown fields or malformed text.
absl::StatusOr<CheckpointState> ParseCheckpointState(std::string_view text);

// TensorFlow's get_checkpoint_state(dir, latest_filename): nullopt when the
// file is missing, unreadable or unparsable; relative paths are joined onto
// `dir`. InvalidArgument when model_checkpoint_path is empty (TensorFlow's
// ValueError).
absl::StatusOr<std::optional<CheckpointState>> GetCheckpointState(
    std::string_view dir, std::string_view latest_filename = kCheckpointStateFilename);

// TensorFlow's latest_checkpoint(dir): model_checkpoint_path from the state
// file when PATH.index (or the V1 file PATH) exists; nullopt otherwise,
// including for a state file that cannot be read or parsed.
std::optional<std::string> LatestCheckpoint(
    std::string_view dir, std::string_view latest_filename = kCheckpointStateFilename);

struct UpdateCheckpointStateOptions {
  std::string_view latest_filename = kCheckpointStateFilename;
  // Store every path relative to the directory, absolute ones too.
  bool save_relative_paths = false;
  std::vector<double> all_model_checkpoint_timestamps;
  double last_preserved_timestamp = 0;
};

// TensorFlow's update_checkpoint_state_internal: writes dir/latest_filename
// listing `all_model_checkpoint_paths`, with `model_checkpoint_path`
// appended when it is not already last. When `dir` is relative, relative
// paths are stored relative to `dir` (as Python's os.path.relpath would).
// FailedPrecondition when model_checkpoint_path is the state file itself
// (TensorFlow's RuntimeError).
absl::Status UpdateCheckpointState(std::string_view dir, std::string_view model_checkpoint_path,
                                   std::vector<std::string> all_model_checkpoint_paths,
                                   const UpdateCheckpointStateOptions& options = {});

// The Saver's bookkeeping of which checkpoints to keep, as TensorFlow's
// Saver does it (_RecordLastCheckpoint / _MaybeDeleteOldCheckpoints):
// * max_to_keep > 0: the newest max_to_keep are listed; each save past that
//   hands the oldest back for deletion, unless it is the first to be
//   more than keep_checkpoint_every_n_hours after the last one preserved.
// * max_to_keep == 0: nothing is tracked or deleted; the state file lists
//   only the newest checkpoint (tensorflow#13381).
// The list lives in memory: checkpoints of an earlier process are not
// garbage-collected, unless passed to SetLastCheckpoints.
class CheckpointRetention {
 public:
  // `now` (seconds since the epoch) starts the keep-every-n-hours clock.
  CheckpointRetention(int max_to_keep, double keep_checkpoint_every_n_hours, double now);

  // Records a checkpoint saved at `timestamp` (replacing an entry with the
  // same path) and returns the prefixes that should now be deleted (zero
  // or one). Call UpdateCheckpointState with paths() before deleting.
  std::vector<std::string> Add(std::string prefix, double timestamp);

  // Paths and timestamps to list in the state file, oldest first (empty
  // when max_to_keep == 0: UpdateCheckpointState then lists the newest).
  std::vector<std::string> paths() const;
  std::vector<double> timestamps() const;
  // When the last checkpoint was preserved by keep_checkpoint_every_n_hours
  // (the start time until one has been).
  double last_preserved_timestamp() const { return next_keep_time_ - keep_interval_seconds_; }

  // Replaces the tracked list (e.g. with an earlier process's state, so
  // that those files are collected too — TensorFlow's
  // recover_last_checkpoints).
  void SetLastCheckpoints(std::vector<std::pair<std::string, double>> checkpoints);

  int max_to_keep() const { return max_to_keep_; }

 private:
  const int max_to_keep_;
  const double keep_interval_seconds_;
  double next_keep_time_;
  std::vector<std::pair<std::string, double>> last_;  // path, timestamp
};

}  // namespace sluice
