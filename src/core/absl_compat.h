#pragma once
// Debian's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is its own type and does not convert from
// std::string_view. Pass std::string_view to absl (StrCat, Status messages)
// through Sv().

#include <string_view>

#include "absl/strings/string_view.h"

namespace sluice {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Debian's abseil is built with its debug-mode deadlock detector on: every
// absl::Mutex::Lock then updates a global lock graph, which costs more than
// a queue operation itself. Release builds of sluice (NDEBUG) turn it off
// for the whole process on the first call; debug builds keep it. The
// constructors of types that lock on data paths call this (QueueBase,
// RecordPool, Session). Thread-safe, cheap after the first call.
void ConfigureAbslMutexOnce();

}  // namespace sluice
