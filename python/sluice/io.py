"""TFRecord files and tf.train.Example records (tf.io's names).

Reading::

    for record in sluice.io.tf_record_iterator(path):      # bytes; compression detected
        ...

Writing::

    opts = sluice.io.TFRecordOptions(compression_type="GZIP")
    with sluice.io.TFRecordWriter(path, opts) as w:
        w.write(sluice.io.serialize_example({"label": [3], "image": [b"..."]}))

Parsing::

    spec = {"image": sluice.io.FixedLenFeature([], sluice.string),
            "label": sluice.io.FixedLenFeature([], sluice.int64),
            "tags": sluice.io.VarLenFeature(sluice.string)}
    batch = sluice.io.parse_example(serialized_records, spec)
    # {"image": array([b"...", ...], dtype=object), "label": array([...]),
    #  "tags": SparseTensorValue(indices, values, dense_shape)}

:func:`parse_example_fn` gives the same parse as a native function for
``sluice.data.Dataset.map``, so no Python runs per record.
"""
import collections

import numpy as np

from sluice import _sluice
from sluice._sluice import DType

__all__ = ["tf_record_iterator", "TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType",
           "serialize_example", "FixedLenFeature", "VarLenFeature", "SparseTensorValue",
           "parse_example", "parse_single_example", "parse_example_fn", "ParseExampleFn",
           "decode_raw"]


class TFRecordCompressionType:
    """Compression names (tf.io.TFRecordCompressionType)."""
    NONE = ""
    ZLIB = "ZLIB"
    GZIP = "GZIP"


class TFRecordOptions:
    """Options of a TFRecord file (tf.io.TFRecordOptions).

    Args:
      compression_type: None or "" (no compression), "ZLIB" or "GZIP" (any
        letter case). Anything else raises InvalidArgumentError when used.
      compression_level: zlib level, -1 (default, 6) or 0..9.
    """

    def __init__(self, compression_type=None, compression_level=None):
        self.compression_type = compression_type or ""
        self.compression_level = -1 if compression_level is None else int(compression_level)

    @classmethod
    def get_compression_type_string(cls, options):
        """The compression name of `options` (a TFRecordOptions, a string or None)."""
        if options is None:
            return ""
        if isinstance(options, TFRecordOptions):
            return options.compression_type
        return str(options)

    def __repr__(self):
        return "TFRecordOptions(compression_type=%r, compression_level=%r)" % (
            self.compression_type, self.compression_level)


def tf_record_iterator(path, options=None, on_corrupt="fail"):
    """An iterator over the records of the TFRecord file `path`, as bytes.

    Args:
      path: the file.
      options: None to detect the compression from the file's first bytes
        (NONE, ZLIB or GZIP), or a TFRecordOptions / compression name.
      on_corrupt: "fail" (raise DataLossError naming the file and offset,
        after every good record before it), "skip_record" (skip records
        whose data CRC is wrong) or "skip_file" (end at the first corruption).

    Raises:
      NotFoundError (and other OS errors) when the file cannot be opened;
      DataLossError for corrupt or truncated data; ResourceExhaustedError
      for an absurd record length. The end of the file is StopIteration.

    The file is read in blocks with the GIL released; records are copied
    into bytes objects one at a time.
    """
    compression = None if options is None else TFRecordOptions.get_compression_type_string(options)
    return _sluice.RecordIterator(str(path), compression, on_corrupt)


class TFRecordWriter:
    """Writes records to a TFRecord file (tf.io.TFRecordWriter).

    Usable as a context manager; records are visible in the file after
    flush() or close(). GZIP output has zlib's standard header, as
    TensorFlow writes it.

    Args:
      path: the file (created or truncated).
      options: a TFRecordOptions, a compression name ("", "ZLIB", "GZIP")
        or None.
    """

    def __init__(self, path, options=None):
        if isinstance(options, TFRecordOptions):
            compression, level = options.compression_type, options.compression_level
        else:
            compression, level = TFRecordOptions.get_compression_type_string(options), -1
        self._w = _sluice.RecordWriter(str(path), compression, level)

    def write(self, record):
        """Appends one record (bytes or any buffer)."""
        self._w.write(record)

    def flush(self):
        """Pushes the records written so far to the file."""
        self._w.flush()

    def close(self):
        """Finishes the stream and closes the file (idempotent)."""
        self._w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def serialize_example(features):
    """Serializes a dict as a tf.train.Example and returns the bytes.

    Each value is bytes/str or a list of them (bytes_list), ints or bools
    (int64_list), floats (float_list), or a numpy array of one of these
    kinds. A scalar is a one-element list; an empty list gives an empty
    Feature (read back as missing).
    """
    return _sluice.serialize_example(features)


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A dense feature of fixed shape (tf.io.FixedLenFeature).

    Args:
      shape: the shape of one record's value ([] for a scalar).
      dtype: sluice.string, sluice.int64 or sluice.float32.
      default_value: used when a record lacks the feature (else parsing
        raises InvalidArgumentError).
    """

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, list(shape), dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed as a SparseTensorValue (tf.io.VarLenFeature)."""


class SparseTensorValue(collections.namedtuple("SparseTensorValue",
                                               ["indices", "values", "dense_shape"])):
    """A sparse result: int64 indices [N, rank], values [N], int64 dense_shape [rank]."""


class ParseExampleFn:
    """A native tf.train.Example parse function made by :func:`parse_example_fn`.

    Pass it to ``Dataset.map``: it runs on the pipeline's C++ threads. On a
    batch of serialized records (after ``batch``) it parses the whole batch;
    on single records it parses one. Calling it from Python parses
    ``serialized`` (bytes or a sequence of bytes) and returns the dict.
    """

    def __init__(self, features, decode_raw=None):
        self.features = dict(features)
        dense, sparse = [], []
        for key, f in self.features.items():
            if isinstance(f, FixedLenFeature):
                dense.append((key, f.dtype, [int(d) for d in f.shape], f.default_value))
            elif isinstance(f, VarLenFeature):
                sparse.append((key, f.dtype))
            else:
                raise TypeError("feature %r: want FixedLenFeature or VarLenFeature, got %r"
                                % (key, type(f).__name__))
        self._dense_keys = [d[0] for d in dense]
        self._sparse_keys = [s[0] for s in sparse]
        self._native = _sluice.make_parse_fn(dense, sparse, dict(decode_raw or {}))

    def _structure(self, flat):
        """The flat native outputs as the feature dict."""
        out = {}
        nd = len(self._dense_keys)
        for i, key in enumerate(self._dense_keys):
            out[key] = flat[i]
        for j, key in enumerate(self._sparse_keys):
            k = nd + 3 * j
            out[key] = SparseTensorValue(flat[k], flat[k + 1], flat[k + 2])
        return out

    def __call__(self, serialized):
        return self._structure(self._native(serialized))


def parse_example_fn(features, decode_raw=None):
    """A native parse function for ``Dataset.map`` (no Python per record).

    Args:
      features: {key: FixedLenFeature or VarLenFeature}, as for parse_example.
      decode_raw: optional {key: dtype}: these string features are decoded
        as by decode_raw in the same native call (e.g. ``{"image": sluice.uint8}``
        gives uint8 [batch, bytes] images instead of bytes objects).
    """
    return ParseExampleFn(features, decode_raw)


def parse_example(serialized, features, decode_raw=None):
    """Parses a batch of serialized tf.train.Example records (tf.io.parse_example).

    Args:
      serialized: a sequence (or numpy object array) of bytes.
      features: {key: FixedLenFeature or VarLenFeature}.

    Returns:
      {key: numpy array [batch] + shape} for dense features and
      {key: SparseTensorValue} for VarLenFeatures (indices [N, 2]).

    Raises:
      InvalidArgumentError naming the record index and feature for a
      malformed record, a missing feature without default, or a wrong type
      or value count.
    """
    if isinstance(serialized, (bytes, str)):
        raise TypeError("parse_example takes a batch; use parse_single_example for one record")
    return ParseExampleFn(features, decode_raw)(list(serialized))


def parse_single_example(serialized, features, decode_raw=None):
    """Parses one serialized tf.train.Example (tf.io.parse_single_example)."""
    return ParseExampleFn(features, decode_raw)(serialized)


def decode_raw(input_bytes, out_type, little_endian=True):
    """Reinterprets bytes as numbers (tf.io.decode_raw).

    Args:
      input_bytes: bytes, or a sequence / array of bytes of equal length.
      out_type: the element dtype (sluice.uint8, sluice.float32, ...).
      little_endian: False reads big-endian values.

    Returns:
      A numpy array of the input's shape plus one dimension (length /
      element size).
    """
    return _sluice.decode_raw(input_bytes, out_type, little_endian)
