#!/usr/bin/env bash
# Configures (once) and builds one build tree, holding a machine-wide lock so
# that two builds never run at once on this 2-core machine.
#   tools/build.sh [BUILD_DIR] [-- extra cmake --build args, e.g. --target core_tests]
# Environment: SLUICE_CMAKE_ARGS (extra configure args), SLUICE_JOBS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
[ "${1:-}" = "--" ] && shift
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
exec 9>/tmp/sluice-build.lock
flock 9
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S "$root" -B "$dir" -G Ninja "${launcher[@]}" ${SLUICE_CMAKE_ARGS:-}
fi
cmake --build "$dir" -j "${SLUICE_JOBS:-2}" "$@"
