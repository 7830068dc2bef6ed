"""sluice.FIFOQueue / RandomShuffleQueue / train.Coordinator from Python threads."""
import threading
import time

import numpy as np
import pytest

import sluice
from sluice import errors


def test_fifo_order_many_and_close():
    q = sluice.FIFOQueue(10, [sluice.int64, sluice.string], shapes=[[2], []])
    q.enqueue([np.array([1, 2]), b"a"])
    q.enqueue_many([np.array([[3, 4], [5, 6]]), [b"b", b"c"]])
    assert q.size() == 3
    x, s = q.dequeue()
    assert x.tolist() == [1, 2] and s == b"a"
    xs, ss = q.dequeue_many(2)
    assert xs.tolist() == [[3, 4], [5, 6]] and list(ss) == [b"b", b"c"]
    q.close()
    assert q.is_closed()
    with pytest.raises(errors.CancelledError):
        q.enqueue([np.array([0, 0]), b"z"])
    with pytest.raises(errors.OutOfRangeError):
        q.dequeue(timeout=5)


def test_single_component_values_and_arity_errors():
    q = sluice.FIFOQueue(4, sluice.float32, shapes=[[3]])
    q.enqueue(np.arange(3, dtype=np.float32))
    assert q.dequeue(timeout=5).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(errors.InvalidArgumentError):
        q.enqueue([np.zeros(3), np.zeros(3)])
    with pytest.raises(errors.InvalidArgumentError):
        q.enqueue(np.zeros(4))


def test_dequeue_timeout_is_deadline_exceeded():
    q = sluice.FIFOQueue(1, [sluice.int64])
    t0 = time.monotonic()
    with pytest.raises(errors.DeadlineExceededError):
        q.dequeue(timeout=0.3)
    assert time.monotonic() - t0 >= 0.29


def test_gil_is_released_during_blocking_dequeue():
    q = sluice.FIFOQueue(1, [sluice.int64])
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = counter[0]
        with pytest.raises(errors.DeadlineExceededError):
            q.dequeue(timeout=0.5)
        during = counter[0] - before
    finally:
        stop.set()
        t.join(timeout=10)
    # Had the dequeue kept the GIL for its 0.5 s, the spinning thread could
    # not have run at all meanwhile.
    assert during > 10000, during


def test_random_shuffle_queue_producers_consumers_exactly_once():
    q = sluice.RandomShuffleQueue(capacity=200, min_after_dequeue=50, dtypes=[sluice.int64],
                                  shapes=[[]], seed=5)
    coord = sluice.train.Coordinator()
    n_prod, per = 4, 500
    got = []
    lock = threading.Lock()

    def produce(p):
        with coord.stop_on_exception():
            for i in range(p * per, (p + 1) * per, 10):
                q.enqueue_many([np.arange(i, i + 10, dtype=np.int64)], timeout=30)

    def consume():
        with coord.stop_on_exception():
            while True:
                try:
                    b = q.dequeue_up_to(32, timeout=30)
                except errors.OutOfRangeError:
                    return
                with lock:
                    got.extend(b.tolist())

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(n_prod)]
    consumers = [threading.Thread(target=consume) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(timeout=60)
    q.close()
    coord.join(consumers, stop_grace_period_secs=30)
    assert sorted(got) == list(range(n_prod * per))
    assert got != sorted(got)


def test_coordinator_stop_wakes_queue_waiters_and_join_reraises():
    coord = sluice.train.Coordinator()
    q = sluice.FIFOQueue(1, [sluice.int64])
    seen = []

    def waiter():
        try:
            q.dequeue(timeout=30, coord=coord)
        except errors.CancelledError:
            seen.append("cancelled")

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    assert not coord.should_stop()
    coord.request_stop(ValueError("boom"))
    assert coord.wait_for_stop(5)
    with pytest.raises(ValueError, match="boom"):
        coord.join([t], stop_grace_period_secs=10)
    assert seen == ["cancelled"]


def test_coordinator_join_reports_stragglers_and_clean_stop():
    coord = sluice.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(30,), name="straggler")
    t.start()
    coord.request_stop(errors.OutOfRangeError("done"))  # clean: not re-raised
    with pytest.raises(RuntimeError, match="straggler"):
        coord.join([t], stop_grace_period_secs=0.2)
    release.set()
    t.join(10)
