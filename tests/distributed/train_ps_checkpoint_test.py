"""Checkpoints of `mpirun sluice train --ps-tasks K`, and --resume with another K and N.

The chief worker (worker task 0, rank K) writes the checkpoints (the ps
tasks' variables, their Adam slots, beta powers and global step, fetched
from the ps tasks) and the events; --resume sends the restored state to the
ps tasks, whatever their number. On the synthetic IDX data of
train_ps_test.py, checks that
  * the chief alone prints the epoch lines and writes a V2 checkpoint
    (weights, slots, non-slot variables, global_step = the ps's updates)
    and an events file, no temporary files left;
  * the chief's events file (TFRecords with valid CRCs, decoded as Event
    protos by Google's protobuf runtime, see tfevents.py) holds what the
    single-process trainer's holds for the same epochs: one file_version
    event, the same summaries (tags and kinds), an epoch summary per epoch
    at the checkpoint's step with the accuracy of the epoch line, loss
    points at increasing steps (the ps's global step); no ps task and no
    other worker writes an events file (each rank given its own logdir);
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

usage: train_ps_checkpoint_test.py --sluice PATH --mpirun PATH --protoc PATH --event-proto PATH
"""
import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_ps_test import write_idx  # noqa: E402  (the same learnable data)
import tfevents  # noqa: E402

TRAIN, TEST, BATCH = 1200, 400, 16


def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def train_args(args, tmp, logdir, epochs, extra):
    return [args.sluice, "train", "--model", "mlp", "--device", "cpu", "--epochs", str(epochs),
            "--batch-size", str(BATCH), "--data", os.path.join(tmp, "data"),
            "--idx-dir", os.path.join(tmp, "idx"), "--logdir", logdir, "--json",
            "--stall-timeout", "30"] + list(extra)


def train(args, tmp, np, ps_tasks, logdir, epochs, extra=(), expect_ok=True):
    """Runs the job; returns (lines by rank, stdout).

    `logdir`: every rank's, or a list of one per rank (an MPMD command line).
    """
    extra = ["--ps-tasks", str(ps_tasks)] + list(extra)
    if isinstance(logdir, str):
        cmd = [args.mpirun, "-np", str(np)] + train_args(args, tmp, logdir, epochs, extra)
    else:
        cmd = [args.mpirun]
        for rank, d in enumerate(logdir):
            cmd += ([":"] if rank else []) + ["-np", "1"] + train_args(args, tmp, d, epochs, extra)
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


def event_files(logdir):
    """The events files in `logdir` (none when it does not exist)."""
    if not os.path.isdir(logdir):
        return []
    return [os.path.join(logdir, n) for n in os.listdir(logdir)
            if n.startswith("events.out.tfevents.")]


def kind(e):
    """An event's kind: file_version, step (loss), images, epoch, or other."""
    what = e.WhichOneof("what")
    if what != "summary":
        return what
    tags = {v.tag for v in e.summary.value}
    if "loss" in tags:
        return "step"
    if "accuracy" in tags:
        return "epoch"
    if tags and all(t.startswith("input/image/") for t in tags):
        return "images"
    return "other"


def signature(events):
    """{kind: {the sorted (tag, value kind) pairs of each event of that kind}}."""
    sig = {}
    for e in events:
        k = kind(e)
        if k == "file_version":
            entry = (e.file_version,)
        elif e.WhichOneof("what") == "summary":
            entry = tuple(sorted((v.tag, v.WhichOneof("value")) for v in e.summary.value))
        else:
            entry = ()
        sig.setdefault(k, set()).add(entry)
    return sig


def check_events(who, events, epochs):
    """What every trainer's events file holds; returns its epoch and step events."""
    kinds = [kind(e) for e in events]
    check(kinds[0] == "file_version" and kinds.count("file_version") == 1 and
          events[0].file_version == "brain.Event:2",
          f"{who}: one file_version event (brain.Event:2), first of {len(events)}")
    check(kinds.count("images") == 1 and "other" not in kinds,
          f"{who}: one input-images summary, no unknown summary: {sorted(set(kinds))}")
    epoch = [e for e in events if kind(e) == "epoch"]
    step = [e for e in events if kind(e) == "step"]
    check(len(epoch) == epochs and len(step) >= epochs,
          f"{who}: {len(epoch)} epoch summaries for {epochs} epochs, {len(step)} loss points")
    scalars = [e.step for e in events if kind(e) in ("step", "epoch")]
    check(all(a < b for a, b in zip(scalars, scalars[1:])),
          f"{who}: loss and epoch summaries at increasing steps {scalars}")
    loss = [v.simple_value for e in step for v in e.summary.value if v.tag == "loss"]
    check(all(math.isfinite(x) and x > 0 for x in loss) and loss[-1] < loss[0],
          f"{who}: losses positive and learnt ({loss[0]:.3f} -> {loss[-1]:.3f})")
    return epoch, step


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
    ap.add_argument("--protoc", required=True)
    ap.add_argument("--event-proto", required=True, help="tests/graph_training/protobuf/event.proto")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice_ps_ckpt_") as tmp:
        os.makedirs(os.path.join(tmp, "idx"))
        write_idx(os.path.join(tmp, "idx"), "train", TRAIN, 21)
        write_idx(os.path.join(tmp, "idx"), "t10k", TEST, 22)
        event_pb2 = tfevents.compile_event_proto(args.protoc, args.event_proto,
                                                 os.path.join(tmp, "pb"))

        # The single-process trainer's events: the reference.
        single = os.path.join(tmp, "single")
        p = subprocess.run(train_args(args, tmp, single, 2, ["--quiet"]), capture_output=True,
                           text=True, timeout=120)
        check(p.returncode == 0, f"single-process run: {p.stderr}")
        files = event_files(single)
        check(len(files) == 1, f"single process: one events file {files}")
        want_events = tfevents.read_events(files[0], event_pb2)
        check_events("single process", want_events, 2)

        # 1 ps task, 2 workers, asynchronous: the chief's files. Each rank
        # its own logdir (MPMD), so that a file any other rank wrote shows.
        a = os.path.join(tmp, "a")
        others = [os.path.join(tmp, "a_ps0"), os.path.join(tmp, "a_worker1")]
        r, out = train(args, tmp, 3, 1, [others[0], a, others[1]], 2)
        w = workers(r)
        steps = r[0]["global_step"]
        check(out.count("epoch 1/2 done") == 1 and out.count("epoch 2/2 done") == 1,
              "the chief alone prints the epoch lines")
        check(not event_files(others[0]) and not event_files(others[1]),
              f"the ps task and worker task 1 write no events file: "
              f"{event_files(others[0]) + event_files(others[1])}")
        files = event_files(a)
        check(len(files) == 1, f"the chief writes one events file {files}")
        events = tfevents.read_events(files[0], event_pb2)
        epoch, _ = check_events("ps chief", events, 2)
        check(signature(events) == signature(want_events),
              "the chief writes the single process's summaries (tags and kinds): "
              f"{signature(events)} vs {signature(want_events)}")
        saved = sorted(int(n[len("model.ckpt-"):-len(".index")]) for n in os.listdir(a)
                       if n.startswith("model.ckpt-") and n.endswith(".index"))
        check([e.step for e in epoch] == saved and saved[-1] == steps,
              f"epoch summaries at the checkpoints' steps {saved} (the ps's {steps} updates)")
        printed = [float(x) for x in re.findall(r"epoch \d+/2 done: loss [0-9.]+, "
                                                r"test accuracy ([0-9.]+)", out)]
        acc = [v.simple_value for e in epoch for v in e.summary.value if v.tag == "accuracy"]
        check(len(printed) == 2 and all(abs(x - y) < 6e-5 for x, y in zip(acc, printed)) and
              abs(acc[-1] - r[1]["test_accuracy"]) < 6e-5,
              f"epoch accuracies {acc} = the epoch lines' {printed} and the chief's "
              f"{r[1]['test_accuracy']}")
        sizes = {v.tag: v.histo.num for e in want_events if kind(e) == "epoch"
                 for v in e.summary.value if v.WhichOneof("value") == "histo"}
        got = {v.tag: v.histo.num for e in epoch for v in e.summary.value
               if v.WhichOneof("value") == "histo"}
        check(got == sizes and all(v.histo.min <= v.histo.max for e in epoch
                                   for v in e.summary.value if v.WhichOneof("value") == "histo"),
              f"a histogram per weight, every value counted: {got}")
        names = sorted(os.listdir(a))
        check(any(n.startswith("events.out.tfevents.") for n in names) and
              f"model.ckpt-{steps}.index" in names and
              not any("tmp" in n for n in names),
              f"checkpoint model.ckpt-{steps} and events written, no temporary files: {names}")
        v = inspect(args, os.path.join(a, f"model.ckpt-{steps}"))
        want = ["mlp/hidden/kernel", "mlp/hidden/kernel/Adam", "mlp/hidden/kernel/Adam_1",
                "mlp/logits/bias/Adam_1", "beta1_power", "beta2_power", "global_step", "epochs_done"]
        check(all(n in v for n in want), f"weights, Adam slots, powers, step saved: {sorted(v)}")
        check(v["global_step"]["values"] == [steps] and v["epochs_done"]["values"] == [2],
              f"global_step {v['global_step']['values']} = the ps's {steps} updates, 2 epochs done")
        check(v["beta1_power"]["values"][0] < 0.9 ** 10,
              f"beta1_power {v['beta1_power']['values']} is the ps's (0.9^{steps}), not the initial 0.9")

        # Resumed after its last epoch with 2 ps tasks and 3 workers: the
        # saved values reach every worker.
        r2, out = train(args, tmp, 5, 2, a, 2, ["--resume"])
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
