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

Map takes only native functions (``sluice.io.parse_example_fn``); Python
callables would put the interpreter back on the per-record path, so they
raise TypeError. ``map(parse).batch(n)`` runs as ``batch(n).map(parse)``:
the same elements, parsed a batch per call (a malformed record then fails
its whole batch).

Errors raise the sluice.errors exception (DataLossError with the file and
offset, NotFoundError, ...); the iteration may continue after one (the
next call goes on with the next input), as TensorFlow's does. The end is
StopIteration. Dropping an iterator stops its threads; Ctrl-C raises
KeyboardInterrupt at the next element.
"""
import numpy as np

from sluice import _sluice
from sluice.io import ParseExampleFn, SparseTensorValue

__all__ = ["Dataset", "TFRecordDataset", "AUTOTUNE"]

AUTOTUNE = -1
"""Let the pipeline choose (map: one call per CPU; prefetch: a default depth)."""

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
        """Applies a native function (sluice.io.parse_example_fn) to each element.

        num_parallel_calls: None runs the map on the consumer; N > 0 (or
        AUTOTUNE) runs N calls at once on C++ worker threads.
        deterministic: False lets results leave in completion order.
        """
        if not isinstance(map_func, ParseExampleFn):
            raise TypeError(
                "sluice Dataset.map takes a native function such as "
                "sluice.io.parse_example_fn(spec); got %r (apply Python functions to the "
                "batches the dataset yields)" % (map_func,))
        if num_parallel_calls is not None:
            num_parallel_calls = int(num_parallel_calls)
        det = self._deterministic if deterministic is None else bool(deterministic)
        return self._with(("map", map_func, num_parallel_calls, det))

    def batch(self, batch_size, drop_remainder=False):
        """Stacks batch_size consecutive elements (the last batch may be short)."""
        return self._with(("batch", int(batch_size), bool(drop_remainder)))

    def prefetch(self, buffer_size):
        """Computes up to buffer_size elements ahead on a background thread."""
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

    def _parse_fn(self):
        for op in reversed(self._ops):
            if op[0] == "map":
                return op[1]
        return None

    def __iter__(self):
        pipeline = _sluice.Pipeline(self._native_ops())
        self._last_pipeline = pipeline
        fn = self._parse_fn()
        structure = None
        if fn is not None and not pipeline.records_mode:
            structure = (fn._dense_keys, fn._sparse_keys, SparseTensorValue)
        # The native iterator yields bytes, arrays or dicts itself: no
        # Python frame runs per element.
        return _sluice.Iterator(pipeline, structure)

    def stats(self):
        """Per-stage figures of the most recent iteration (None before one).

        A list of dicts, in pipeline order: stage ("read": the parallel
        reader threads, "map", "prefetch", "consume": the Python caller),
        threads, busy / input_wait / output_wait as fractions of the
        stage's thread time, the same in seconds, items, wall_seconds.
        For "consume", input_wait is the time Python waited for the
        pipeline and busy the time Python spent between elements.
        """
        if self._last_pipeline is None:
            return None
        return self._last_pipeline.stats()

    def as_torch(self, device="cpu"):
        """Iterates the dataset as torch tensors.

        Numeric arrays go through DLPack (torch.from_dlpack: the tensor
        shares the C++ buffer, no copy); with device "cuda" (when torch has
        CUDA) each tensor is then copied to the GPU with non_blocking=True.
        Bytes stay numpy object arrays; sparse values become
        SparseTensorValue of tensors.
        """
        import torch
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("as_torch(device=%r): torch has no CUDA device" % (device,))
        if dev.type not in ("cpu", "cuda"):
            raise ValueError("as_torch: device must be cpu or cuda, got %r" % (device,))
        on_cpu = dev.type == "cpu"

        def conv(a):
            if isinstance(a, np.ndarray) and a.dtype != object:
                t = torch.from_dlpack(a)
                return t if on_cpu else t.to(dev, non_blocking=True)
            if isinstance(a, SparseTensorValue):
                return SparseTensorValue(*(conv(x) for x in a))
            return a

        for element in self:
            if isinstance(element, dict):
                yield {k: conv(v) for k, v in element.items()}
            else:
                yield conv(element)


class TFRecordDataset(Dataset):
    """The records of TFRecord files (tf.data.TFRecordDataset).

    Args:
      filenames: a path or a list of paths.
      compression_type: None detects it from the first file's first bytes;
        "", "ZLIB" or "GZIP" (any case) name it (one for all files).
      buffer_size: read buffer bytes per file (None: 256 KiB).
      num_parallel_reads: None reads the files one after another; N > 1
        reads N files at once on N threads, records leaving in TensorFlow's
        deterministic round-robin (one from each open file in turn).
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
        if num_parallel_reads == AUTOTUNE:
            import os
            num_parallel_reads = os.cpu_count() or 1
        op = ("tfrecord", files, compression_type,
              None if num_parallel_reads is None else int(num_parallel_reads),
              on_corrupt, 0 if buffer_size is None else int(buffer_size), bool(map_file))
        super().__init__([op], True if deterministic is None else bool(deterministic))
