"""Queues for Python producer and consumer threads (TensorFlow 1.x's names).

The queues are sluice's C++ queues: thread-safe, strict arrival order on
each side, nothing lost on timeout or cancel. Every blocking call releases
the GIL, takes ``timeout`` (seconds; DeadlineExceededError when it passes)
and ``coord`` (a sluice.train.Coordinator: CancelledError once it is asked
to stop), and is interrupted by Ctrl-C within about 100 ms (an
interrupted enqueue_many leaves the rows it had moved in the queue, as a
timeout does).

Values: ``enqueue(vals)`` takes a list or tuple with one value per
component, or the single component's value; numpy arrays, numbers, bytes
and str convert (a copy). Dequeued numeric values are numpy arrays over
the queue's buffers (no copy); strings come back as bytes in object arrays.
One component: a dequeue returns the array; several: a list.

Status codes as exceptions: CancelledError (enqueue on a closed queue),
OutOfRangeError (dequeue from a closed queue with too few elements),
DeadlineExceededError, InvalidArgumentError (arity, dtype, shape).
"""
from sluice import _sluice

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue"]


class QueueBase:
    """Operations shared by every queue."""

    def __init__(self, native):
        self._q = native

    @property
    def name(self):
        """The queue's name."""
        return self._q.name

    @property
    def dtypes(self):
        """The component dtypes."""
        return self._q.dtypes

    def enqueue(self, vals, timeout=None, coord=None):
        """Adds one element; blocks while the queue is full."""
        self._q.enqueue(vals, timeout, coord._native if coord is not None else None)

    def enqueue_many(self, vals, timeout=None, coord=None):
        """Adds the rows (dimension 0) of each component as elements."""
        self._q.enqueue_many(vals, timeout, coord._native if coord is not None else None)

    def dequeue(self, timeout=None, coord=None):
        """Removes one element; blocks while the queue is empty."""
        return self._q.dequeue(timeout, coord._native if coord is not None else None)

    def dequeue_many(self, n, timeout=None, coord=None):
        """Removes exactly n elements, stacked on a new dimension 0."""
        return self._q.dequeue_many(int(n), timeout, coord._native if coord is not None else None)

    def dequeue_up_to(self, n, timeout=None, coord=None):
        """As dequeue_many, but a closed queue returns what is left (1..n)."""
        return self._q.dequeue_up_to(int(n), timeout, coord._native if coord is not None else None)

    def close(self, cancel_pending_enqueues=False):
        """Closes the queue: later enqueues fail; dequeues drain what is left."""
        self._q.close(bool(cancel_pending_enqueues))

    def is_closed(self):
        """True once closed."""
        return self._q.is_closed()

    def size(self):
        """The number of elements stored now."""
        return self._q.size()


def _shapes(shapes):
    return None if shapes is None else [[int(d) for d in s] for s in shapes]


def _dtypes(dtypes):
    return list(dtypes) if isinstance(dtypes, (list, tuple)) else [dtypes]


class FIFOQueue(QueueBase):
    """A bounded first-in first-out queue (tf.queue.FIFOQueue).

    Args:
      capacity: the most elements held (negative: unbounded).
      dtypes: one dtype per component (a single dtype: one component).
      shapes: one shape per component (needed by dequeue_many / up_to).
      name: used in error messages.
    """

    def __init__(self, capacity, dtypes, shapes=None, name="fifo_queue"):
        super().__init__(_sluice.make_fifo_queue(int(capacity), _dtypes(dtypes),
                                                 _shapes(shapes), name))


class RandomShuffleQueue(QueueBase):
    """A queue that dequeues elements in random order (tf.queue.RandomShuffleQueue).

    While open, dequeues leave at least min_after_dequeue elements; after
    close everything left can be drained.

    Args:
      capacity, dtypes, shapes, name: as FIFOQueue.
      min_after_dequeue: elements kept back for mixing.
      seed: None for a fresh random order; an int for a repeatable one.
    """

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, seed=None,
                 name="random_shuffle_queue"):
        super().__init__(_sluice.make_random_shuffle_queue(
            int(capacity), int(min_after_dequeue), _dtypes(dtypes), _shapes(shapes),
            0 if seed is None else int(seed), name))
