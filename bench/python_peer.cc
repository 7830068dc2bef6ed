#include "bench/python_peer.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sluice::bench {

absl::StatusOr<PeerRun> RunPythonPeer(const std::string& command,
                                      std::string_view count_key) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return absl::UnavailableError("cannot start python3");
  char line[512] = {0};
  std::string out;
  while (std::fgets(line, sizeof line, p) != nullptr) out += line;
  const int rc = pclose(p);
  const std::string count_field = "\"" + std::string(count_key) + "\": ";
  const size_t cp = out.find(count_field), sp = out.find("\"seconds\": ");
  long long n = 0;
  PeerRun run;
  if (rc != 0 || cp == std::string::npos || sp == std::string::npos ||
      std::sscanf(out.c_str() + cp + count_field.size(), "%lld", &n) != 1 ||
      std::sscanf(out.c_str() + sp, "\"seconds\": %lf", &run.seconds) != 1 ||
      run.seconds <= 0) {
    return absl::InternalError(absl::StrCat("peer failed: ", out));
  }
  run.count = n;
  return run;
}

}  // namespace sluice::bench
