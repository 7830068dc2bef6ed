// Running a Python peer (a baseline written as a script) from a benchmark.
#ifndef SLUICE_BENCH_PYTHON_PEER_H_
#define SLUICE_BENCH_PYTHON_PEER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::bench {

// What one run of a peer script reported.
struct PeerRun {
  int64_t count = 0;   // items the peer delivered (records, images, ...)
  double seconds = 0;  // the peer's own timing of its delivery loop
};

// Runs `command` through the shell, blocking until it exits, and reads the
// `"<count_key>": N` and `"seconds": S` fields of its JSON output. Errors
// (cannot start, non-zero exit, missing or non-positive fields) carry the
// peer's output.
absl::StatusOr<PeerRun> RunPythonPeer(const std::string& command,
                                      std::string_view count_key);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_PYTHON_PEER_H_
