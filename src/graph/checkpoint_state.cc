#include "graph/checkpoint_state.h"

#include <errno.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/checkpoint.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// Python's text_format writes strings with C escapes; bytes outside
// printable ASCII become three-digit octal escapes.
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '"': out->append("\\\""); break;
      case '\'': out->append("\\'"); break;
      case '\\': out->append("\\\\"); break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\%03o", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// Shortest text that reads back as the same double (Python's repr).
std::string FormatDouble(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// A tokenizer for the subset of text format a CheckpointState uses.
class TextParser {
 public:
  explicit TextParser(std::string_view text) : s_(text) {}

  absl::Status Parse(CheckpointState* state) {
    while (true) {
      SkipSpace();
      if (pos_ == s_.size()) return absl::OkStatus();
      std::string field;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
        field.push_back(s_[pos_++]);
      }
      if (field.empty()) return Error("expected a field name");
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      SkipSpace();
      if (field == "model_checkpoint_path") {
        SLUICE_ASSIGN_OR_RETURN(state->model_checkpoint_path, ParseString());
      } else if (field == "all_model_checkpoint_paths") {
        SLUICE_ASSIGN_OR_RETURN(std::string p, ParseString());
        state->all_model_checkpoint_paths.push_back(std::move(p));
      } else if (field == "all_model_checkpoint_timestamps") {
        SLUICE_ASSIGN_OR_RETURN(double t, ParseNumber());
        state->all_model_checkpoint_timestamps.push_back(t);
      } else if (field == "last_preserved_timestamp") {
        SLUICE_ASSIGN_OR_RETURN(state->last_preserved_timestamp, ParseNumber());
      } else {
        return Error(absl::StrCat("unknown field '", field, "'"));
      }
      SkipSpace();
      if (pos_ < s_.size() && (s_[pos_] == ',' || s_[pos_] == ';')) ++pos_;
    }
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint state: ", Sv(what), " at offset ", pos_));
  }

  void SkipSpace() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  absl::StatusOr<std::string> ParseString() {
    std::string out;
    bool any = false;
    // Adjacent literals concatenate, as in text format.
    while (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
      any = true;
      const char quote = s_[pos_++];
      while (true) {
        if (pos_ >= s_.size() || s_[pos_] == '\n') return Error("unterminated string");
        char c = s_[pos_++];
        if (c == quote) break;
        if (c != '\\') {
          out.push_back(c);
          continue;
        }
        if (pos_ >= s_.size()) return Error("unterminated escape");
        char e = s_[pos_++];
        switch (e) {
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'a': out.push_back('\a'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'v': out.push_back('\v'); break;
          case '\\': case '\'': case '"': case '?': out.push_back(e); break;
          case 'x': {
            int v = 0, n = 0;
            while (n < 2 && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
              char h = s_[pos_++];
              v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
              ++n;
            }
            if (n == 0) return Error("bad \\x escape");
            out.push_back(static_cast<char>(v));
            break;
          }
          default:
            if (e >= '0' && e <= '7') {
              int v = e - '0', n = 1;
              while (n < 3 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7') {
                v = v * 8 + (s_[pos_++] - '0');
                ++n;
              }
              out.push_back(static_cast<char>(v & 0xff));
            } else {
              return Error("bad escape");
            }
        }
      }
      SkipSpace();
    }
    if (!any) return Error("expected a string");
    return out;
  }

  absl::StatusOr<double> ParseNumber() {
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                                s_[pos_] == '-' || s_[pos_] == '+')) {
      ++pos_;
    }
    std::string tok(s_.substr(start, pos_ - start));
    if (tok.empty()) return Error("expected a number");
    if (!tok.empty() && (tok.back() == 'f' || tok.back() == 'F') &&
        tok.find_first_of("xX") == std::string::npos && tok != "inf" && tok != "-inf") {
      tok.pop_back();  // text format's float suffix
    }
    char* end = nullptr;
    double v = std::strtod(tok.c_str(), &end);
    if (end != tok.c_str() + tok.size()) return Error(absl::StrCat("bad number '", tok, "'"));
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool IsAbsolute(std::string_view p) { return !p.empty() && p[0] == '/'; }

std::string Join(std::string_view dir, std::string_view path) {
  if (dir.empty() || IsAbsolute(path)) return std::string(path);
  return (fs::path(std::string(dir)) / std::string(path)).string();
}

// Python's os.path.relpath: both made absolute against the working
// directory and normalised lexically (no symlink resolution).
std::string RelPath(std::string_view path, std::string_view start) {
  std::error_code ec;
  fs::path p = fs::absolute(std::string(path), ec).lexically_normal();
  fs::path s = fs::absolute(std::string(start.empty() ? "." : start), ec).lexically_normal();
  // lexically_normal leaves a trailing separator as an empty final element.
  if (!s.empty() && !s.has_filename()) s = s.parent_path();
  if (!p.empty() && !p.has_filename()) p = p.parent_path();
  std::string r = p.lexically_relative(s).string();
  return r.empty() ? std::string(path) : r;
}

}  // namespace

std::string SerializeCheckpointState(const CheckpointState& state) {
  std::string out = "model_checkpoint_path: ";
  AppendQuoted(&out, state.model_checkpoint_path);
  out.push_back('\n');
  for (const auto& p : state.all_model_checkpoint_paths) {
    out.append("all_model_checkpoint_paths: ");
    AppendQuoted(&out, p);
    out.push_back('\n');
  }
  for (double t : state.all_model_checkpoint_timestamps) {
    absl::StrAppend(&out, "all_model_checkpoint_timestamps: ", FormatDouble(t), "\n");
  }
  if (state.last_preserved_timestamp != 0) {
    absl::StrAppend(&out, "last_preserved_timestamp: ", FormatDouble(state.last_preserved_timestamp), "\n");
  }
  return out;
}

absl::StatusOr<CheckpointState> ParseCheckpointState(std::string_view text) {
  CheckpointState state;
  TextParser parser(text);
  SLUICE_RETURN_IF_ERROR(parser.Parse(&state));
  return state;
}

absl::StatusOr<std::optional<CheckpointState>> GetCheckpointState(std::string_view dir,
                                                                  std::string_view latest_filename) {
  const std::string path = Join(dir, latest_filename);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<CheckpointState>();
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::optional<CheckpointState>();
  absl::StatusOr<CheckpointState> parsed = ParseCheckpointState(ss.str());
  if (!parsed.ok()) return std::optional<CheckpointState>();
  CheckpointState state = *std::move(parsed);
  if (state.model_checkpoint_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid checkpoint state loaded from ", Sv(dir)));
  }
  state.model_checkpoint_path = Join(dir, state.model_checkpoint_path);
  for (auto& p : state.all_model_checkpoint_paths) p = Join(dir, p);
  return std::optional<CheckpointState>(std::move(state));
}

std::optional<std::string> LatestCheckpoint(std::string_view dir, std::string_view latest_filename) {
  absl::StatusOr<std::optional<CheckpointState>> state = GetCheckpointState(dir, latest_filename);
  if (!state.ok() || !state->has_value()) return std::nullopt;
  const std::string& path = (*state)->model_checkpoint_path;
  if (!CheckpointExists(path)) return std::nullopt;
  return path;
}

absl::Status UpdateCheckpointState(std::string_view dir, std::string_view model_checkpoint_path,
                                   std::vector<std::string> all_paths,
                                   const UpdateCheckpointStateOptions& options) {
  std::string model_path(model_checkpoint_path);
  if (options.save_relative_paths) {
    if (IsAbsolute(model_path)) model_path = RelPath(model_path, dir);
    for (auto& p : all_paths) {
      if (IsAbsolute(p)) p = RelPath(p, dir);
    }
  }
  if (all_paths.empty() || all_paths.back() != model_path) all_paths.push_back(model_path);
  if (!options.all_model_checkpoint_timestamps.empty() &&
      options.all_model_checkpoint_timestamps.size() != all_paths.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UpdateCheckpointState: ", options.all_model_checkpoint_timestamps.size(),
        " timestamps for ", all_paths.size(), " checkpoint paths"));
  }
  if (!IsAbsolute(dir)) {
    if (!IsAbsolute(model_path)) model_path = RelPath(model_path, dir);
    for (auto& p : all_paths) {
      if (!IsAbsolute(p)) p = RelPath(p, dir);
    }
  }
  const std::string state_path = Join(dir, options.latest_filename);
  if (fs::path(state_path).lexically_normal() == fs::path(Join(dir, model_path)).lexically_normal()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Save path '", Sv(model_checkpoint_path),
        "' conflicts with path used for checkpoint state.  Please use a different save path."));
  }
  CheckpointState state;
  state.model_checkpoint_path = std::move(model_path);
  state.all_model_checkpoint_paths = std::move(all_paths);
  state.all_model_checkpoint_timestamps = options.all_model_checkpoint_timestamps;
  state.last_preserved_timestamp = options.last_preserved_timestamp;
  return WriteFileAtomically(state_path, SerializeCheckpointState(state));
}

CheckpointRetention::CheckpointRetention(int max_to_keep, double keep_checkpoint_every_n_hours, double now)
    : max_to_keep_(max_to_keep),
      keep_interval_seconds_(keep_checkpoint_every_n_hours * 3600.0),
      next_keep_time_(now + keep_interval_seconds_) {}

std::vector<std::string> CheckpointRetention::Add(std::string prefix, double timestamp) {
  std::vector<std::string> to_delete;
  if (max_to_keep_ <= 0) return to_delete;
  std::erase_if(last_, [&](const auto& e) { return e.first == prefix; });
  last_.emplace_back(std::move(prefix), timestamp);
  if (static_cast<int>(last_.size()) > max_to_keep_) {
    auto oldest = last_.front();
    last_.erase(last_.begin());
    // Keep one checkpoint per interval: the first that crossed the next
    // boundary survives and moves the boundary on.
    if (oldest.second > next_keep_time_) {
      next_keep_time_ += keep_interval_seconds_;
    } else {
      to_delete.push_back(std::move(oldest.first));
    }
  }
  return to_delete;
}

std::vector<std::string> CheckpointRetention::paths() const {
  std::vector<std::string> out;
  for (const auto& e : last_) out.push_back(e.first);
  return out;
}

std::vector<double> CheckpointRetention::timestamps() const {
  std::vector<double> out;
  for (const auto& e : last_) out.push_back(e.second);
  return out;
}

void CheckpointRetention::SetLastCheckpoints(std::vector<std::pair<std::string, double>> checkpoints) {
  last_ = std::move(checkpoints);
}

}  // namespace sluice
