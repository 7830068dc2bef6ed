#!/usr/bin/env bash
# The main job on its embedded default. For now: sluice-bench, the
# throughput benchmark, on its defaults (later: `sluice train`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
tools/build.sh "$root/build" -- --target sluice-bench
exec build/bench/sluice-bench "$@"
