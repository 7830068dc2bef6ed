"""Checkpoints of `mpirun sluice train --ps-tasks K`, and --resume with another K and N.

The chief worker (worker task 0, rank K) writes the checkpoints (the ps
tasks' variables, their Adam slots, beta powers and global step, fetched
from the ps tasks) and the events; --resume sends the restored state to the
ps tasks, whatever their number. On the synthetic IDX data of
train_ps_test.py, checks that
  * the chief alone prints the epoch lines and writes a V2 checkpoint
    (weights, slots, non-slot variables, global_step = the ps's updates)
    and an events file, no temporary files left;
  * a checkpoint saved with 1 ps task and 2 workers, resumed with 2 ps tasks
    and 3 workers after its last epoch, gives every worker the saved values
    (the same params_sha256 as the run that saved it);
  * synchronous training (2 workers, 2 replicas: deterministic) for 2
    epochs with 2 ps tasks ends with the same parameters as 1 epoch with 1
    ps task then 1 resumed epoch with 2 ps tasks: slots, beta powers and
    step were restored exactly;
  * the chief killed (SIGKILL) mid-training ends the job non-zero, and the
    latest checkpoint it names is complete: a resumed run trains from it.
Every run has a timeout.

usage: train_ps_checkpoint_test.py --sluice PATH --mpirun PATH
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_ps_test import write_idx  # noqa: E402  (the same learnable data)

TRAIN, TEST, BATCH = 1200, 400, 16


def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def train(args, tmp, np, ps_tasks, logdir, epochs, extra=(), expect_ok=True):
    """Runs the job; returns (lines by rank, stdout)."""
    cmd = [args.mpirun, "-np", str(np), args.sluice, "train", "--model", "mlp", "--device", "cpu",
           "--epochs", str(epochs), "--batch-size", str(BATCH), "--data", os.path.join(tmp, "data"),
           "--idx-dir", os.path.join(tmp, "idx"), "--logdir", logdir, "--json",
           "--stall-timeout", "30", "--ps-tasks", str(ps_tasks)] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    lines = {}
    for l in p.stdout.splitlines():
        if l.startswith("{"):
            x = json.loads(l)
            lines[x["rank"]] = x
    check(sorted(lines) == list(range(np)), f"-np {np} --ps-tasks {ps_tasks}: a line per rank")
    return lines, p.stdout


def workers(lines):
    return [x for x in lines.values() if x["job"] == "worker"]


def inspect(args, prefix):
    p = subprocess.run([args.sluice, "inspect", prefix, "--json"], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, f"sluice inspect {prefix}: {p.stderr}")
    return {v["name"]: v for v in json.loads(p.stdout.splitlines()[-1])["variables"]}


def latest(logdir):
    with open(os.path.join(logdir, "checkpoint")) as f:
        first = f.readline()
    return os.path.join(logdir, first.split('"')[1])


def rank_pid(root, rank):
    """The pid of MPI rank `rank` among mpirun's descendants (None if not found).

    Open MPI 4 forks the ranks itself; later versions start them from a
    daemon (prted) that mpirun started, so the whole tree is searched.
    """
    parent_of, env_of = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parent_of[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier} - tree
    for pid in sorted(tree - {root}):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return pid
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--mpirun", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice_ps_ckpt_") as tmp:
        os.makedirs(os.path.join(tmp, "idx"))
        write_idx(os.path.join(tmp, "idx"), "train", TRAIN, 21)
        write_idx(os.path.join(tmp, "idx"), "t10k", TEST, 22)

        # 1 ps task, 2 workers, asynchronous: the chief's files.
        a = os.path.join(tmp, "a")
        r, out = train(args, tmp, 3, 1, a, 1)
        w = workers(r)
        steps = r[0]["global_step"]
        check(out.count("epoch 1/1 done") == 1, "the chief alone prints the epoch line")
        names = sorted(os.listdir(a))
        check(any(n.startswith("events.out.tfevents.") for n in names) and
              f"model.ckpt-{steps}.index" in names and
              not any("tmp" in n for n in names),
              f"checkpoint model.ckpt-{steps} and events written, no temporary files: {names}")
        v = inspect(args, os.path.join(a, f"model.ckpt-{steps}"))
        want = ["mlp/hidden/kernel", "mlp/hidden/kernel/Adam", "mlp/hidden/kernel/Adam_1",
                "mlp/logits/bias/Adam_1", "beta1_power", "beta2_power", "global_step", "epochs_done"]
        check(all(n in v for n in want), f"weights, Adam slots, powers, step saved: {sorted(v)}")
        check(v["global_step"]["values"] == [steps] and v["epochs_done"]["values"] == [1],
              f"global_step {v['global_step']['values']} = the ps's {steps} updates, 1 epoch done")
        check(v["beta1_power"]["values"][0] < 0.9 ** 10,
              f"beta1_power {v['beta1_power']['values']} is the ps's (0.9^{steps}), not the initial 0.9")

        # Resumed after its last epoch with 2 ps tasks and 3 workers: the
        # saved values reach every worker.
        r2, out = train(args, tmp, 5, 2, a, 1, ["--resume"])
        check("resumed from" in out, "resumed")
        digests = {x["params_sha256"] for x in workers(r2)}
        check(digests == {w[0]["params_sha256"]} and len(workers(r2)) == 3,
              f"saved with 1 ps/2 workers, restored on 2 ps/3 workers: same parameters {digests}")
        check(all(x["global_step"] == steps for x in r2.values() if x["job"] == "ps"),
              f"every ps task resumes at step {steps}")

        # Synchronous (deterministic): 2 epochs on 2 ps tasks == 1 epoch on 1
        # ps task + 1 resumed epoch on 2.
        sync = ["--sync-replicas", "2", "--quiet"]
        r, _ = train(args, tmp, 4, 2, os.path.join(tmp, "b"), 2, sync)
        whole = {x["params_sha256"] for x in workers(r)}
        c = os.path.join(tmp, "c")
        r, _ = train(args, tmp, 3, 1, c, 1, sync)
        first = {x["params_sha256"] for x in workers(r)}
        r, _ = train(args, tmp, 4, 2, c, 2, sync + ["--resume"])
        resumed = {x["params_sha256"] for x in workers(r)}
        seen = sum(x["records_seen"] for x in workers(r))
        check(seen == TRAIN, f"the resumed run trains one epoch ({seen} records)")
        check(len(whole) == 1 and whole == resumed and first != resumed,
              f"2 epochs on 2 ps tasks {whole} == 1 on 1 ps task + 1 resumed on 2 {resumed}")

        # The chief killed mid-training: the job ends, the checkpoint holds.
        d = os.path.join(tmp, "d")
        cmd = [args.mpirun, "-np", "3", args.sluice, "train", "--model", "mlp", "--device", "cpu",
               "--epochs", "500", "--batch-size", str(BATCH), "--data", os.path.join(tmp, "data"),
               "--idx-dir", os.path.join(tmp, "idx"), "--logdir", d, "--stall-timeout", "30",
               "--ps-tasks", "1"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        # The chief's third epoch line, printed as it starts that epoch's
        # save: two checkpoints exist, the third may be half-written.
        for line in p.stdout:
            if line.startswith("epoch 3/") and " done" in line or time.time() > deadline:
                break
        pid = rank_pid(p.pid, 1)
        if pid is None:
            p.kill()
            sys.exit("FAIL: rank 1 (the chief) not found under mpirun")
        os.kill(pid, signal.SIGKILL)
        killed = time.time()
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            sys.exit("FAIL: the job did not end within 30 s of the chief's death")
        check(p.returncode != 0, f"the chief killed: the job ended, exit {p.returncode}, "
                                 f"{time.time() - killed:.1f} s later")
        prefix = latest(d)
        v = inspect(args, prefix)
        done = v["epochs_done"]["values"][0]
        check(done >= 2 and all(x["crc_ok"] for x in v.values()),
              f"{os.path.basename(prefix)} complete (epoch {done}, every CRC matches)")
        r, _ = train(args, tmp, 3, 1, d, done + 1, ["--resume", "--quiet"])
        seen = sum(x["records_seen"] for x in workers(r))
        check(seen == TRAIN and all(x["epochs"] == done + 1 for x in workers(r)),
              f"resumed after the kill: epoch {done + 1} trained ({seen} records)")
    print("PASS")


if __name__ == "__main__":
    main()
