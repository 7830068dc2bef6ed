#!/usr/bin/env bash
# How sluice-bench results scale with cores: runs the same binary pinned to
# one CPU (taskset -c 0) and on every CPU, in interleaved pairs (1 CPU, all
# CPUs, 1 CPU, all CPUs, ...), so that a change in the machine's other load
# hits both sides of a pair alike. Prints each pair's rates and ratio with
# the load (uptime) taken before the pair, then per result the median of
# each rate and the median of the pairs' ratios (target on 2 cores: >= 1.8).
#   tools/bench_scaling.sh [BUILD_DIR] [--pairs N] [-- sluice-bench args]
#   e.g. tools/bench_scaling.sh build --pairs 7 -- --filter 'pipeline.dataset$'
# --pairs N: pairs to run (default 5). Default sluice-bench args: each of
# pipeline.dataset$ and pipeline.image.jpeg$ with --repetitions 1 (one run
# per side of a pair). On a shared machine take the figures while nothing
# else runs: flock /tmp/sluice-build.lock tools/bench_scaling.sh build
set -euo pipefail
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build
pairs=5
if [ $# -gt 0 ] && [ "$1" != "--" ] && [ "${1#-}" = "$1" ]; then
  dir=$1
  shift
fi
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --pairs) [ $# -ge 2 ] || { echo "bench_scaling.sh: --pairs needs a number" >&2; exit 2; }
             pairs=$2; shift 2 ;;
    --pairs=*) pairs=${1#--pairs=}; shift ;;
    --) shift; break ;;
    *) echo "bench_scaling.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$pairs" in
  ''|*[!0-9]*|0) echo "bench_scaling.sh: --pairs must be a positive number, got '$pairs'" >&2; exit 2 ;;
esac
bench="$dir/bench/sluice-bench"
[ -x "$bench" ] || { echo "bench_scaling.sh: $bench not built" >&2; exit 1; }
filters=("pipeline.dataset$" "pipeline.image.jpeg$")
args=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # run OUT PIN_PREFIX... ; writes the JSON documents to OUT
  local out=$1; shift
  : >"$out"
  if [ ${#args[@]} -gt 0 ]; then
    "$@" "$bench" --json "${args[@]}" >>"$out"
  else
    for f in "${filters[@]}"; do
      "$@" "$bench" --json --filter "$f" --repetitions 1 >>"$out"
    done
  fi
}
for ((i = 1; i <= pairs; i++)); do
  uptime | sed 's/.*load average: //' >"$tmp/load.$i"
  echo "== pair $i/$pairs: load $(cat "$tmp/load.$i")" >&2
  run "$tmp/one.$i.json" taskset -c 0
  run "$tmp/all.$i.json" env
done
/usr/bin/python3 - "$tmp" "$pairs" "$(nproc)" <<'PY'
import json, statistics, sys
tmp, pairs, cpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
rows = {}  # name -> [(pair, load, one, all)]
for i in range(1, pairs + 1):
    one, every = load(f"{tmp}/one.{i}.json"), load(f"{tmp}/all.{i}.json")
    avg = open(f"{tmp}/load.{i}").read().strip()
    for name in one:
        if name in every:
            rows.setdefault(name, []).append((i, avg, one[name], every[name]))
head = "%-30s %5s %-17s %14s %14s %7s"
print(head % ("result", "pair", "load (1/5/15 min)", "1 CPU items/s", "%s CPUs" % cpus, "ratio"))
for name, rs in rows.items():
    for i, avg, one, every in rs:
        print("%-30s %5d %-17s %14.0f %14.0f %7.2f" % (name, i, avg, one, every, every / one))
    print("%-30s %5s %-17s %14.0f %14.0f %7.2f" % (
        name, "med", "", statistics.median(r[2] for r in rs),
        statistics.median(r[3] for r in rs), statistics.median(r[3] / r[2] for r in rs)))
PY
