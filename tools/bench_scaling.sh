#!/usr/bin/env bash
# How sluice-bench results scale with cores: runs the same binary pinned to
# one CPU (taskset -c 0) and on every CPU, one after the other, and prints
# each result's rate both ways and the ratio (target on 2 cores: >= 1.8).
#   tools/bench_scaling.sh [BUILD_DIR] [-- sluice-bench args]
#   e.g. tools/bench_scaling.sh build -- --filter 'pipeline.dataset$' --repetitions 3
# Default filter: pipeline.dataset$ and pipeline.image.jpeg$ (two runs).
# Prints the load (uptime) before each run: on a shared machine take the
# figures while nothing else runs (flock /tmp/sluice-build.lock ...).
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
[ "${1:-}" = "--" ] && shift
bench="$dir/bench/sluice-bench"
[ -x "$bench" ] || { echo "bench_scaling.sh: $bench not built" >&2; exit 1; }
filters=("pipeline.dataset$" "pipeline.image.jpeg$")
args=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # run NAME PIN_PREFIX... ; writes $tmp/NAME.json
  local name=$1; shift
  echo "== $name: $(uptime | sed 's/.*load/load/')" >&2
  if [ ${#args[@]} -gt 0 ]; then
    "$@" "$bench" --json "${args[@]}" >"$tmp/$name.json"
  else
    : >"$tmp/$name.json.parts"
    for f in "${filters[@]}"; do
      "$@" "$bench" --json --filter "$f" --repetitions 3 >>"$tmp/$name.json.parts"
    done
    mv "$tmp/$name.json.parts" "$tmp/$name.json"
  fi
}
run one taskset -c 0
run all env
/usr/bin/python3 - "$tmp/one.json" "$tmp/all.json" "$(nproc)" <<'PY'
import json, sys
def load(p):
    out, dec, text = {}, json.JSONDecoder(), open(p).read()
    i = 0
    while True:
        j = text.find("{", i)
        if j < 0:
            return out
        doc, i = dec.raw_decode(text, j)
        for r in doc.get("results", []):
            if r.get("items_per_second"):
                out[r["name"]] = r["items_per_second"]
one, every = load(sys.argv[1]), load(sys.argv[2])
print("%-44s %14s %14s %7s" % ("result", "1 CPU items/s", "%s CPUs" % sys.argv[3], "ratio"))
for name in one:
    if name in every:
        print("%-44s %14.0f %14.0f %7.2f" % (name, one[name], every[name], every[name] / one[name]))
PY
