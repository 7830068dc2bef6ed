"""Ctrl-C (SIGINT) stops a Python program blocked in sluice: an endless
dataset iteration and a dequeue with no timeout both raise
KeyboardInterrupt, an enqueue_many into a full queue too (keeping the rows
it moved), and the process exits (its pipeline threads stopped).
The child prints READY once it is inside the blocking loop."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

CHILD_DATASET = textwrap.dedent("""
    import sys, sluice
    path = sys.argv[1]
    with sluice.io.TFRecordWriter(path) as w:
        for i in range(1000):
            w.write(sluice.io.serialize_example({"id": [i]}))
    spec = {"id": sluice.io.FixedLenFeature([], sluice.int64)}
    ds = (sluice.data.TFRecordDataset(path, num_parallel_reads=2).shuffle(100).repeat()
          .map(sluice.io.parse_example_fn(spec), num_parallel_calls=2).batch(8).prefetch(2))
    n = 0
    try:
        for b in ds:
            n += 1
            if n == 10:
                print("READY", flush=True)
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
""")

CHILD_QUEUE = textwrap.dedent("""
    import sluice
    q = sluice.FIFOQueue(1, [sluice.int64])
    try:
        print("READY", flush=True)  # inside the try: SIGINT may land right after it
        q.dequeue()          # nobody enqueues: blocks until Ctrl-C
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
""")

CHILD_ENQUEUE_MANY = textwrap.dedent("""
    import threading, time, numpy as np, sluice
    q = sluice.FIFOQueue(2, [sluice.int64], shapes=[[]])
    def ready():  # once enqueue_many has filled the queue it is blocked
        while q.size() < 2:
            time.sleep(0.01)
        print("READY", flush=True)
    threading.Thread(target=ready, daemon=True).start()
    try:
        q.enqueue_many([np.arange(10)])  # 2 rows fit; nobody dequeues
    except KeyboardInterrupt:
        print("INTERRUPTED", q.size(), q.dequeue_many(2).tolist(), flush=True)
""")


@pytest.mark.parametrize("child", [CHILD_DATASET, CHILD_QUEUE, CHILD_ENQUEUE_MANY],
                         ids=["dataset", "dequeue", "enqueue_many"])
def test_sigint_interrupts_blocking_iteration(tmp_path, child):
    p = subprocess.Popen([sys.executable, "-c", child, str(tmp_path / "r.tfrecord")],
                         stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert p.stdout.readline().strip() == "READY"
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert "INTERRUPTED" in out
    if child is CHILD_ENQUEUE_MANY:
        assert "INTERRUPTED 2 [0, 1]" in out
    assert p.returncode == 0
