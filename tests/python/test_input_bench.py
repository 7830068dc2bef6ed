"""Smoke run of bench/python/bench_input.py (ctest label bench): a small
record count, one repetition; the script checks exactly-once delivery
itself and prints the rates and ratios."""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_bench_input_runs_and_reports_ratios():
    build = os.environ.get("SLUICE_BINARY_DIR", os.path.join(ROOT, "build"))
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "python", "bench_input.py"), "--records",
         "20000", "--passes", "1", "--peer-records", "2000", "--repetitions", "1", "--build", build,
         "--no-sluice-bench"], check=True, capture_output=True, text=True, timeout=300).stdout
    print(out)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["python"] > 0 and result["native"] > 0
    assert result["ratio_vs_native"] > 0
