#pragma once
// What a reader does with corrupt data.
//
//   kFail        (default) return DataLoss naming the file and the offset, as
//                TensorFlow does; the good records before it were delivered.
//   kSkipRecord  a data CRC mismatch under a length whose own CRC is good is
//                skipped (the next record's offset is known) and counted;
//                corruption that leaves the next offset unknown (bad length
//                CRC, truncation, a broken compressed stream, a length above
//                max_record_size) abandons the rest of the file as kSkipFile.
//   kSkipFile    any corruption ends this file cleanly (OutOfRange) and is
//                counted; the caller moves on to its next file.
//
// No policy ever retries at an unknown offset, so a skip never spins.

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

enum class CorruptRecordPolicy { kFail, kSkipRecord, kSkipFile };

// Parses "fail", "skip_record", "skip_file" ("" is fail); anything else is
// InvalidArgument.
inline absl::StatusOr<CorruptRecordPolicy> ParseCorruptRecordPolicy(std::string_view name) {
  if (name.empty() || name == "fail") return CorruptRecordPolicy::kFail;
  if (name == "skip_record") return CorruptRecordPolicy::kSkipRecord;
  if (name == "skip_file") return CorruptRecordPolicy::kSkipFile;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown corrupt record policy '", Sv(name), "' (want fail, skip_record or skip_file)"));
}

inline const char* CorruptRecordPolicyName(CorruptRecordPolicy p) {
  switch (p) {
    case CorruptRecordPolicy::kFail: return "fail";
    case CorruptRecordPolicy::kSkipRecord: return "skip_record";
    case CorruptRecordPolicy::kSkipFile: return "skip_file";
  }
  return "?";
}

}  // namespace sluice
