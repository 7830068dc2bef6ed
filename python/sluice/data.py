"""Datasets of TFRecord files (tf.data's names), run by sluice's C++ pipeline.

::

    spec = {"image": sluice.io.FixedLenFeature([], sluice.string),
            "label": sluice.io.FixedLenFeature([], sluice.int64)}
    ds = (sluice.data.TFRecordDataset(files, num_parallel_reads=2)
          .shard(num_shards, index).shuffle(10_000, seed=1).repeat(2)
          .map(sluice.io.parse_example_fn(spec), num_parallel_calls=2)
          .batch(128).prefetch(2))
    for batch in ds:                  # {"image": ndarray, "label": ndarray}
        ...
    for batch in ds.as_torch():       # the same as torch tensors (DLPack, no copy)
        ...

A Dataset is an immutable description; each ``iter()`` builds the C++
pipeline and runs it on its own threads (reader threads, map workers,
prefetch). Python sees one call per element, and with ``batch`` an element
is a whole batch: numeric arrays are numpy views of the C++ buffers (no
copy; the array keeps the buffer alive; ``arr.__dlpack__`` hands it on
without a copy too). The arrays are writable: each batch's buffers are
fresh and referenced by nothing else. String features arrive as object
arrays of bytes.
Without map or batch each element is one record, as ``bytes``.

Map takes native functions (``sluice.io.parse_example_fn``: no Python runs
per record) and Python callables. A callable gets each element as the
iterator would yield it (a record as ``bytes``, a dict of numpy arrays
after a parse, ...) and returns a dict, tuple or array-like; it runs on
the pipeline's threads (``num_parallel_calls`` C++ workers), which hold
the GIL only while Python runs: sluice.image and sluice.io functions
release it while they compute, so a map such as ::

    def augment(rec):
        img = sluice.image.decode_image(rec["image"], channels=3)
        img = sluice.image.random_crop(img, [224, 224, 3])
        return {"image": sluice.image.random_flip_left_right(img),
                "label": rec["label"]}

decodes on several threads at once. ``map(parse).batch(n)`` with a native
parse runs as ``batch(n).map(parse)``: the same elements, parsed a batch
per call (a malformed record then fails its whole batch). Exceptions in a
callable arrive as sluice.errors (TensorFlow's py_func rules: ValueError
and TypeError are InvalidArgumentError, others UnknownError, a sluice
error keeps its class), naming the exception.

Errors raise the sluice.errors exception (DataLossError with the file and
offset, NotFoundError, ...); the iteration may continue after one (the
next call goes on with the next input), as TensorFlow's does. The end is
StopIteration. Dropping an iterator stops its threads; Ctrl-C raises
KeyboardInterrupt at the next element.
"""
import atexit
import collections
import weakref

import numpy as np

from sluice import _sluice
from sluice.io import ParseExampleFn, SparseTensorValue

__all__ = ["Dataset", "TFRecordDataset", "AUTOTUNE"]

AUTOTUNE = -1
"""Let the pipeline choose while it runs, from measured stage rates (as
tf.data.AUTOTUNE): map's num_parallel_calls and the prefetch depth above it
by tf.data's model (never more calls than CPUs), TFRecordDataset's
num_parallel_reads as max(2, CPUs) files with a tuned read-ahead. The
choices are in stats() (each stage's "parameters")."""

_GOLDEN = 0x9E3779B97F4A7C15


class Dataset:
    """An immutable pipeline description; iterate it to run it."""

    def __init__(self, ops, deterministic=True):
        self._ops = list(ops)
        self._deterministic = deterministic
        self._last_pipeline = None

    def _with(self, op):
        return Dataset(self._ops + [op], self._deterministic)

    # ------------------------------------------------------------ transforms
    def shard(self, num_shards, index):
        """Every num_shards-th element, starting at index (tf.data's shard)."""
        return self._with(("shard", int(num_shards), int(index)))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """Shuffles with a buffer of buffer_size elements.

        seed=None draws a fresh seed; an int gives the same order for the
        same configuration (reshuffled per epoch unless
        reshuffle_each_iteration=False).
        """
        s = 0 if seed is None else (int(seed) & 0xFFFFFFFFFFFFFFFF) or _GOLDEN
        return self._with(("shuffle", int(buffer_size), s, bool(reshuffle_each_iteration)))

    def repeat(self, count=None):
        """Repeats the dataset count times (None or -1: forever)."""
        return self._with(("repeat", -1 if count is None else int(count)))

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """Applies map_func to each element.

        map_func: a native function (sluice.io.parse_example_fn) or a Python
        callable taking the element (as iteration yields it) and returning a
        dict (str keys), tuple / list or one value of arrays, numbers, bytes
        or SparseTensorValues, with the same structure for every element.
        num_parallel_calls: None runs the map on the consumer; N > 0 (or
        AUTOTUNE) runs N calls at once on C++ worker threads (a Python
        callable holds the GIL only while Python code runs).
        deterministic: False lets results leave in completion order.
        """
        if not isinstance(map_func, ParseExampleFn) and not callable(map_func):
            raise TypeError("Dataset.map takes sluice.io.parse_example_fn(spec) or a callable; "
                            "got %r" % (map_func,))
        if num_parallel_calls is not None:
            num_parallel_calls = int(num_parallel_calls)
        det = self._deterministic if deterministic is None else bool(deterministic)
        kind = "map" if isinstance(map_func, ParseExampleFn) else "pymap"
        return self._with((kind, map_func, num_parallel_calls, det))

    def batch(self, batch_size, drop_remainder=False):
        """Stacks batch_size consecutive elements (the last batch may be short)."""
        return self._with(("batch", int(batch_size), bool(drop_remainder)))

    def prefetch(self, buffer_size):
        """Computes up to buffer_size elements ahead on a background thread
        (AUTOTUNE: a depth tuned while running)."""
        return self._with(("prefetch", int(buffer_size)))

    # ------------------------------------------------------------ running
    def _native_ops(self):
        ops = []
        i = 0
        while i < len(self._ops):
            op = self._ops[i]
            nxt = self._ops[i + 1] if i + 1 < len(self._ops) else None
            if op[0] == "map" and nxt is not None and nxt[0] == "batch":
                ops.append(nxt)  # parse a batch per call: same elements
                ops.append(("map", op[1]._native, op[2], op[3]))
                i += 2
                continue
            if op[0] == "map":
                op = ("map", op[1]._native, op[2], op[3])
            ops.append(op)
            i += 1
        return ops

    def __iter__(self):
        pipeline = _sluice.Pipeline(self._native_ops())
        self._last_pipeline = pipeline
        # The native iterator yields bytes, arrays or dicts itself: no
        # Python frame runs per element.
        it = _sluice.Iterator(pipeline)
        _LIVE_ITERATORS.add(it)
        return it

    def stats(self):
        """Per-stage figures of the most recent iteration (None before one).

        A list of dicts, in pipeline order: stage ("read": the parallel
        reader threads, "map", "prefetch", "consume": the Python caller),
        threads, busy / input_wait / output_wait as fractions of the
        stage's thread time, the same in seconds, items, wall_seconds,
        parameters (a dict of the stage's settings: AUTOTUNE's choices such
        as {"parallelism": 2, "buffer": 1}).
        For "consume", input_wait is the time Python waited for the
        pipeline and busy the time Python spent between elements.
        """
        if self._last_pipeline is None:
            return None
        return self._last_pipeline.stats()

    def as_torch(self, device="cpu", prefetch=2):
        """Iterates the dataset as torch tensors.

        Numeric arrays go through DLPack (torch.from_dlpack: on the CPU the
        tensor shares the C++ buffer, no copy). Bytes stay numpy object
        arrays; sparse values become SparseTensorValue of tensors.

        device "cuda" (or "cuda:N"): each batch is copied into page-locked
        (pinned) host memory and then to the GPU asynchronously on a side
        CUDA stream, ``prefetch`` batches ahead of the one handed out (so
        copies overlap the consumer's work). Each batch is handed out only
        after the consumer's current stream has been made to wait for its
        copy (an event), and its tensors are recorded on that stream, so
        they are safe to use there. ValueError when torch has no CUDA.
        """
        import torch
        dev = torch.device(device)
        if dev.type not in ("cpu", "cuda"):
            raise ValueError("as_torch: device must be cpu or cuda, got %r" % (device,))
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("as_torch(device=%r): this torch has no CUDA device (torch %s, "
                             "built with CUDA %s)" % (device, torch.__version__,
                                                      torch.version.cuda))
        host = (_to_torch_cpu(torch, e) for e in self)
        if dev.type == "cpu":
            return host
        if prefetch < 1:
            raise ValueError("as_torch: prefetch must be >= 1, got %r" % (prefetch,))
        return _prefetch_to_device(host, _TorchCudaCopier(torch, dev), prefetch)


def _map_tensors(fn, element):
    """element with fn applied to every array / tensor (dicts, tuples, sparse)."""
    if isinstance(element, dict):
        return {k: _map_tensors(fn, v) for k, v in element.items()}
    if isinstance(element, SparseTensorValue):
        return SparseTensorValue(*(_map_tensors(fn, x) for x in element))
    if isinstance(element, tuple):
        return tuple(_map_tensors(fn, x) for x in element)
    return fn(element)


def _to_torch_cpu(torch, element):
    def conv(a):
        if isinstance(a, np.ndarray) and a.dtype != object:
            return torch.from_dlpack(a)
        return a
    return _map_tensors(conv, element)


def _prefetch_to_device(source, copier, depth):
    """Yields copier.finish(copier.start(e)) for each e of source, in order.

    Up to ``depth`` elements after the one being handed out have had
    ``copier.start`` (their copy issued) before it is handed out, so their
    copies run while the consumer works. ``copier.finish`` is called only
    when an element is handed out.
    """
    pending = collections.deque()
    it = iter(source)
    exhausted = False

    def fill():
        nonlocal exhausted
        while not exhausted and len(pending) < depth:
            try:
                element = next(it)
            except StopIteration:
                exhausted = True
                return
            pending.append(copier.start(element))

    fill()
    while pending:
        head = pending.popleft()
        fill()  # keep depth copies in flight behind the one handed out
        yield copier.finish(head)


class _TorchCudaCopier:
    """Host tensors -> pinned memory -> GPU on a side stream (torch's APIs)."""

    def __init__(self, torch, device):
        self._torch = torch
        self._device = device
        self._stream = torch.cuda.Stream(device=device)

    def start(self, element):
        torch = self._torch

        def copy(t):
            if not isinstance(t, torch.Tensor):
                return t
            pinned = t if t.is_pinned() else t.pin_memory()
            return pinned.to(self._device, non_blocking=True)

        with torch.cuda.stream(self._stream):
            out = _map_tensors(copy, element)
            done = torch.cuda.Event()
            done.record(self._stream)
        return out, done

    def finish(self, handle):
        out, done = handle
        consumer = self._torch.cuda.current_stream(self._device)
        consumer.wait_event(done)

        def keep(t):
            if isinstance(t, self._torch.Tensor):
                t.record_stream(consumer)  # not reused before the consumer is done
            return t
        return _map_tensors(keep, out)


_LIVE_ITERATORS = weakref.WeakSet()


@atexit.register
def _close_live_iterators():
    """Stops running pipelines before the interpreter goes: their threads
    may be about to call a Python map function."""
    for it in list(_LIVE_ITERATORS):
        it.close()


class TFRecordDataset(Dataset):
    """The records of TFRecord files (tf.data.TFRecordDataset).

    Args:
      filenames: a path or a list of paths.
      compression_type: None detects each file's from its first bytes when it is
        opened (so a list may mix them);
        "", "ZLIB" or "GZIP" (any case) name it (one for all files).
      buffer_size: read buffer bytes per file (None: 256 KiB).
      num_parallel_reads: None reads the files one after another; N > 1
        reads N files at once on N threads, records leaving in TensorFlow's
        deterministic round-robin (one from each open file in turn);
        AUTOTUNE: max(2, CPUs) files (at most all of them), read-ahead
        tuned while running.
      on_corrupt: "fail" (DataLossError with file and offset, after the
        good records; iteration can go on with the next file),
        "skip_record" (skip records whose data CRC is wrong; corruption
        that hides the next record ends the file) or "skip_file" (end the
        file at the first corruption).
      deterministic: default for map's ``deterministic`` (reads are always
        in the deterministic round-robin order).
      map_file: memory-map uncompressed files instead of reading them in
        chunks (records are then views of the page cache: one copy fewer).
        A file truncated while mapped ends the process with SIGBUS, so
        leave it off for files that may change while they are read.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, on_corrupt="fail", deterministic=None,
                 map_file=False):
        if isinstance(filenames, (str, bytes)) or hasattr(filenames, "__fspath__"):
            filenames = [filenames]
        files = [f.decode() if isinstance(f, bytes) else str(f) for f in filenames]
        if on_corrupt not in ("fail", "skip_record", "skip_file"):
            raise ValueError("on_corrupt must be 'fail', 'skip_record' or 'skip_file', got %r"
                             % (on_corrupt,))
        op = ("tfrecord", files, compression_type,
              None if num_parallel_reads is None else int(num_parallel_reads),
              on_corrupt, 0 if buffer_size is None else int(buffer_size), bool(map_file))
        super().__init__([op], True if deterministic is None else bool(deterministic))
