"""`mpirun -np 1 sluice train --device gpu --allreduce nccl` on synthetic IDX data.

The GPU half of issue 13's NCCL path, end to end through mpirun: one rank
(NCCL refuses two ranks on one GPU, and the machines this runs on have
one). Checks that the job says it reduced through NCCL ("allreduce":"nccl"
in --json, "gradient allreduce: nccl" in rank 0's log), learns the task
(test accuracy > 0.5), and reaches the same accuracy as --allreduce mpi
within 0.05. Exits 77 (skipped) when sluice sees no GPU or has no NCCL.

usage: train_nccl_test.py --sluice PATH --mpirun PATH
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mpirun_test import check, write_idx  # noqa: E402

SKIP = 77


def train(args, tmp, allreduce):
    """Runs one rank under mpirun; returns (JSON line, output)."""
    cmd = [args.mpirun, "-np", "1", args.sluice, "train", "--model", "mlp", "--device", "gpu",
           "--allreduce", allreduce, "--epochs", "2", "--batch-size", "32",
           "--data", os.path.join(tmp, "data-" + allreduce), "--idx-dir", os.path.join(tmp, "idx"),
           "--logdir", "", "--json", "--stall-timeout", "60"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    out = p.stdout + p.stderr
    if p.returncode != 0:
        if "no CUDA device" in out or "no NCCL here" in out:
            print("SKIP: " + out.strip().splitlines()[0])
            sys.exit(SKIP)
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{out}")
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    if len(lines) != 1:
        sys.exit(f"FAIL: want one JSON line, got {lines}\n{out}")
    return lines[0], out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--mpirun", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice_nccl_") as tmp:
        os.makedirs(os.path.join(tmp, "idx"))
        write_idx(os.path.join(tmp, "idx"), "train", 2000, 21)
        write_idx(os.path.join(tmp, "idx"), "t10k", 400, 22)
        nccl, log = train(args, tmp, "nccl")
        check(nccl.get("allreduce") == "nccl", f"reduced through NCCL: {nccl}")
        check("gradient allreduce: nccl" in log, "rank 0 logs the NCCL path")
        check(nccl["test_accuracy"] > 0.5, f"learns: accuracy {nccl['test_accuracy']}")
        mpi, _ = train(args, tmp, "mpi")
        check(mpi.get("allreduce") == "mpi", f"--allreduce mpi takes the host path: {mpi}")
        check(abs(nccl["test_accuracy"] - mpi["test_accuracy"]) < 0.05,
              f"same accuracy as the host path: {nccl['test_accuracy']} vs {mpi['test_accuracy']}")
    print("PASS")


if __name__ == "__main__":
    main()
