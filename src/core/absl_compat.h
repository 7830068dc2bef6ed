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

}  // namespace sluice
