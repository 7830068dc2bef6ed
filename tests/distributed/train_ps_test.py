"""`mpirun sluice train --ps-tasks K [--sync-replicas R]` end to end.

On synthetic IDX data that takes training to learn (a class's bar drawn
faintly over noise, 20% of labels random: a trained MLP reaches ~0.85, an
untrained one ~0.1), checks that
  * asynchronous (-np 3: 1 ps, 2 workers) and synchronous (-np 4: 2 ps,
    2 workers, 2 replicas) training reach the single-process accuracy
    (within 0.03);
  * every rank prints its JSON line and exits 0: the ps ranks leave their
    serve loop when the workers finish;
  * the workers end with the same params_sha256 (after the final pull);
  * the workers' records_seen sum to epochs x records (sharded by worker);
  * the ps's global_step counts every push (async) or one per 2 (sync);
  * a stop (SIGUSR1 to mpirun, forwarded to every rank) ends the job
    promptly, exit 0, every line saying stopped;
  * one training file for 2 workers (3 ranks): record sharding, said once
    on stderr, naming workers (not ranks);
  * bad combinations are refused with a message.

usage: train_ps_test.py --sluice PATH --mpirun PATH
"""
import argparse
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

TRAIN, TEST, EPOCHS, BATCH = 1200, 400, 2, 16


def write_idx(directory, name, n, seed):
    """IDX images: a faint bar at rows 2c+4..2c+6 for class c over noise; 20% random labels."""
    rng = random.Random(seed)
    images = bytearray()
    labels = bytearray()
    for _ in range(n):
        c = rng.randrange(10)
        img = bytearray(rng.randrange(100) for _ in range(28 * 28))
        for r in range(2 * c + 4, 2 * c + 7):
            for col in range(3, 25):
                img[r * 28 + col] = min(255, img[r * 28 + col] + 40 + rng.randrange(40))
        labels.append(rng.randrange(10) if rng.random() < 0.2 else c)
        images += img
    with open(os.path.join(directory, name + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(images))
    with open(os.path.join(directory, name + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))


def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def run(cmd, expect_ok=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def train_cmd(args, tmp, extra):
    return [args.sluice, "train", "--model", "mlp", "--device", "cpu", "--epochs", str(EPOCHS),
            "--batch-size", str(BATCH), "--data", os.path.join(tmp, "data"),
            "--idx-dir", os.path.join(tmp, "idx"), "--logdir", "", "--json", "--quiet",
            "--stall-timeout", "30"] + extra


def lines_of(p):
    return [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--mpirun", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice_ps_") as tmp:
        os.makedirs(os.path.join(tmp, "idx"))
        write_idx(os.path.join(tmp, "idx"), "train", TRAIN, 21)
        write_idx(os.path.join(tmp, "idx"), "t10k", TEST, 22)
        base = lines_of(run(train_cmd(args, tmp, [])))[0]["test_accuracy"]
        print("single process: test accuracy", base)
        check(base > 0.6, f"the task is learnt by one process ({base})")
        for name, np, extra, ps_tasks in (("async", 3, ["--ps-tasks", "1"], 1),
                                          ("sync", 4, ["--ps-tasks", "2", "--sync-replicas", "2"], 2)):
            r = lines_of(run([args.mpirun, "-np", str(np)] + train_cmd(args, tmp, extra)))
            check(sorted(x["rank"] for x in r) == list(range(np)),
                  f"{name}: every rank (ps included) ended and printed its line")
            ps = sorted((x for x in r if x.get("job") == "ps"), key=lambda x: x["task"])
            workers = [x for x in r if x.get("job") == "worker"]
            check(len(ps) == ps_tasks and len(workers) == np - ps_tasks,
                  f"{name}: {ps_tasks} ps and {np - ps_tasks} worker lines")
            accs = [w["test_accuracy"] for w in workers]
            print(f"{name}: worker test accuracies {accs}, ps global_step {ps[0]['global_step']}")
            check(all(a >= base - 0.03 for a in accs),
                  f"{name}: workers reach the single-process accuracy ({accs} vs {base})")
            check(len({w["params_sha256"] for w in workers}) == 1,
                  f"{name}: every worker ends with the same parameters")
            seen = sum(w["records_seen"] for w in workers)
            check(seen == EPOCHS * TRAIN, f"{name}: records seen {seen} == {EPOCHS} x {TRAIN}")
            batches = sum(EPOCHS * -(-w["records_seen"] // EPOCHS // BATCH) for w in workers)
            steps = ps[0]["global_step"]
            if name == "async":
                check(steps == batches, f"async: every push applied ({steps} == {batches} batches)")
            else:
                check(steps == batches // 2 and len({p["global_step"] for p in ps}) == 1,
                      f"sync: one update per 2 gradients on every ps task ({steps} == {batches} / 2)")
        # A stop mid-training: mpirun forwards SIGUSR1 to every rank. Its
        # input is one training file, so the 2 workers shard it by record.
        one = os.path.join(tmp, "one")
        for idx, prefix in (("train", "train"), ("t10k", "test")):
            run([args.sluice, "convert", "idx", "--images",
                 os.path.join(tmp, "idx", idx + "-images-idx3-ubyte"), "--labels",
                 os.path.join(tmp, "idx", idx + "-labels-idx1-ubyte"), "--out", one,
                 "--prefix", prefix, "--shards", "1"])
        cmd = [args.mpirun, "-np", "3"] + train_cmd(args, tmp, ["--ps-tasks", "1", "--sync-replicas", "2"])
        cmd[cmd.index("--epochs") + 1] = "500"
        cmd[cmd.index("--data") + 1] = one
        cmd.remove("--quiet")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        for line in p.stdout:  # worker task 0 reports; wait for its first epoch
            if line.startswith("epoch 1/") or time.time() > deadline:
                break
        p.send_signal(signal.SIGUSR1)
        asked = time.time()
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            sys.exit("FAIL: the job did not end within 30 s of the stop")
        took = time.time() - asked
        r = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        check(p.returncode == 0 and sorted(x["rank"] for x in r) == [0, 1, 2] and
              all(x["stopped"] for x in r),
              f"stop: every rank ended, exit 0, stopped, {took:.1f} s after the signal "
              f"(rc {p.returncode}, {len(r)} lines)\n{err[-2000:]}")
        note = "training input: 1 file for 2 workers: sharding by record (every worker reads"
        check(err.count(note) == 1 and "ranks" not in err,
              f"1 file, 2 workers: the chief says '{note}' once, no 'ranks':\n{err[-2000:]}")
        p = run([args.sluice, "train", "--ps-tasks", "1"], expect_ok=False)
        check(p.returncode == 2 and "mpirun" in p.stderr, "--ps-tasks without mpirun is refused")
        p = run([args.mpirun, "-np", "3"] + train_cmd(args, tmp, ["--ps-tasks", "1", "--sync-replicas", "3"]),
                expect_ok=False)
        check(p.returncode != 0 and "at most as many replicas as workers" in p.stderr,
              "--sync-replicas above the worker count is refused")
    print("PASS")


if __name__ == "__main__":
    main()
