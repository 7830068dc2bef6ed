"""`mpirun -np N sluice train` end to end on small synthetic IDX data.

Checks, for N = 2, 3 (uneven shares: 4 files over 3 ranks) and 4: one JSON
line per rank; every rank ends with the same parameter digest and test
accuracy; the ranks' records_seen sum to epochs x records (each record once
per epoch, none padded or dropped); a learnable task is learnt; rank 0
alone writes checkpoints, with no temporary files left; a run resumed
from a 2-rank checkpoint on 4 ranks continues with the next epoch; and one
training file for 2 ranks falls back to record sharding, said once on
stderr even with --quiet (tensorflow#42146), every record still trained once.

usage: train_mpirun_test.py --sluice PATH --mpirun PATH
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

TRAIN, TEST = 600, 200


def write_idx(directory, name, n, seed):
    """Writes IDX images (28x28: a bright bar at rows 2c+4.. for class c) and labels."""
    rng = random.Random(seed)
    images = bytearray()
    labels = bytearray()
    for _ in range(n):
        c = rng.randrange(10)
        labels.append(c)
        img = bytearray(rng.randrange(60) for _ in range(28 * 28))
        for r in range(2 * c + 4, 2 * c + 7):
            for col in range(3, 25):
                img[r * 28 + col] = 180 + rng.randrange(70)
        images += img
    with open(os.path.join(directory, name + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(images))
    with open(os.path.join(directory, name + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))


def train(args, tmp, np, logdir, epochs, resume=False, data="data", stderr=None):
    """Runs sluice train under mpirun; returns the JSON lines, by rank (stderr appended to `stderr`)."""
    cmd = [args.mpirun, "-np", str(np), args.sluice, "train", "--model", "softmax",
           "--device", "cpu", "--epochs", str(epochs), "--batch-size", "16", "--lr", "0.01",
           "--data", os.path.join(tmp, data), "--idx-dir", os.path.join(tmp, "idx"),
           "--logdir", logdir, "--json", "--quiet", "--stall-timeout", "60"]
    if resume:
        cmd.append("--resume")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    if stderr is not None:
        stderr.append(p.stderr)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    by_rank = {l["rank"]: l for l in lines}
    check(sorted(by_rank) == list(range(np)), f"one line per rank at -np {np}: {lines}")
    return by_rank


def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--mpirun", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice_mpirun_") as tmp:
        os.makedirs(os.path.join(tmp, "idx"))
        write_idx(os.path.join(tmp, "idx"), "train", TRAIN, 11)
        write_idx(os.path.join(tmp, "idx"), "t10k", TEST, 12)
        for np in (2, 3, 4):
            epochs = 2
            logdir = os.path.join(tmp, f"log{np}")
            err = []
            r = train(args, tmp, np, logdir, epochs, stderr=err)
            check("training input:" not in err[0], f"-np {np}: 4 files, no record-sharding note")
            check(all(x["world_size"] == np for x in r.values()), f"world_size {np}")
            check(all(x.get("allreduce") == "mpi" for x in r.values()),
                  f"-np {np}: CPU gradients reduced through MPI (\"allreduce\":\"mpi\")")
            check(len({x["params_sha256"] for x in r.values()}) == 1,
                  f"-np {np}: every rank ends with the same parameters")
            check(len({x["test_accuracy"] for x in r.values()}) == 1,
                  f"-np {np}: every rank reports the same test accuracy")
            seen = sum(x["records_seen"] for x in r.values())
            check(seen == epochs * TRAIN, f"-np {np}: records seen {seen} == {epochs} x {TRAIN}")
            check(r[0]["test_accuracy"] > 0.5, f"-np {np}: accuracy {r[0]['test_accuracy']} > 0.5")
            names = os.listdir(logdir)
            check(any(n.startswith("model.ckpt-") for n in names) and
                  not any("tmp" in n or n.endswith(".tempstate") for n in names),
                  f"-np {np}: checkpoints written, no temporary files: {sorted(names)}")
        # NCCL asked for CPU gradients: refused, saying why, on every rank.
        cmd = [args.mpirun, "-np", "2", args.sluice, "train", "--model", "softmax",
               "--device", "cpu", "--allreduce", "nccl", "--epochs", "1",
               "--data", os.path.join(tmp, "data"), "--idx-dir", os.path.join(tmp, "idx"),
               "--logdir", "", "--quiet", "--stall-timeout", "60"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "NCCL reduces GPU gradients" in p.stdout + p.stderr,
              f"--allreduce nccl on the CPU is refused: exit {p.returncode}, {p.stderr[-300:]!r}")
        # Resume a 2-rank run's checkpoint on 4 ranks.
        logdir = os.path.join(tmp, "resume")
        train(args, tmp, 2, logdir, 1)
        r = train(args, tmp, 4, logdir, 2, resume=True)
        check(all(x["epochs"] == 2 for x in r.values()), "resumed run ends at epoch 2")
        seen = sum(x["records_seen"] for x in r.values())
        check(seen == TRAIN, f"resumed on 4 ranks: one epoch of records ({seen} == {TRAIN})")
        check(len({x["params_sha256"] for x in r.values()}) == 1, "resumed ranks agree")
        # One training file for 2 ranks: record sharding, said on stderr.
        one = os.path.join(tmp, "one")
        for idx, prefix, n in (("train", "train", TRAIN), ("t10k", "test", TEST)):
            p = subprocess.run([args.sluice, "convert", "idx", "--images",
                                os.path.join(tmp, "idx", idx + "-images-idx3-ubyte"), "--labels",
                                os.path.join(tmp, "idx", idx + "-labels-idx1-ubyte"), "--out", one,
                                "--prefix", prefix, "--shards", "1"],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode == 0, f"{prefix} converted into 1 file: {p.stderr}")
        err = []
        r = train(args, tmp, 2, "", 1, data="one", stderr=err)
        note = "training input: 1 file for 2 ranks: sharding by record"
        check(err[0].count(note) == 1, f"1 file, -np 2, --quiet: rank 0 says '{note}' once:\n{err[0]}")
        seen = sum(x["records_seen"] for x in r.values())
        check(seen == TRAIN, f"record sharding: every record once ({seen} == {TRAIN})")
    print("PASS")


if __name__ == "__main__":
    main()
