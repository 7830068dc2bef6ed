"""Shared helpers for the sluice Python tests.

The tests import the package from the build tree (ctest sets
PYTHONPATH=build/python, SLUICE_TESTDATA and SLUICE_BINARY_DIR). Formats
are judged with code nobody in sluice wrote the C++ for: a pure-Python
TFRecord reader/writer below (Python's zlib and gzip modules, CRC32C
computed here from its definition) and the .expected.json digests of the
real corpus files (tests/testdata, written by tools/tfr_inspect.py).
"""
import gzip
import hashlib
import json
import os
import struct
import zlib

import pytest

TESTDATA = os.environ.get("SLUICE_TESTDATA") or os.path.join(
    os.path.dirname(__file__), "..", "testdata")

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # RFC 3720 check value
assert masked_crc(b"foo") == 0xFEBE8A61  # apache/beam tfrecordio_test


def py_read_records(path, compression):
    """Every record of a TFRecord file, checking both CRCs (independent reader)."""
    with open(path, "rb") as f:
        raw = f.read()
    if compression == "GZIP":
        raw = gzip.decompress(raw)
    elif compression == "ZLIB":
        raw = zlib.decompress(raw)
    out, pos = [], 0
    while pos < len(raw):
        header = raw[pos:pos + 12]
        (length,) = struct.unpack("<Q", header[:8])
        assert struct.unpack("<I", header[8:])[0] == masked_crc(header[:8]), "length crc at %d" % pos
        data = raw[pos + 12:pos + 12 + length]
        (crc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        assert crc == masked_crc(data), "data crc at %d" % pos
        out.append(data)
        pos += 16 + length
    return out


def py_write_records(path, records, compression=""):
    """A TFRecord file written by Python alone."""
    body = b"".join(struct.pack("<Q", len(r)) + struct.pack("<I", masked_crc(struct.pack("<Q", len(r))))
                    + r + struct.pack("<I", masked_crc(r)) for r in records)
    if compression == "GZIP":
        body = gzip.compress(body)
    elif compression == "ZLIB":
        body = zlib.compress(body)
    with open(path, "wb") as f:
        f.write(body)


def records_digest(records):
    h = hashlib.sha256()
    for r in records:
        h.update(struct.pack("<Q", len(r)))
        h.update(r)
    return h.hexdigest()


def corpus_files():
    """(path, expected dict) for every corpus file with an .expected.json."""
    found = []
    for root, _, names in os.walk(TESTDATA):
        for n in sorted(names):
            p = os.path.join(root, n)
            if n.endswith(".expected.json") or not os.path.exists(p + ".expected.json"):
                continue
            with open(p + ".expected.json") as f:
                found.append((p, json.load(f)))
    return found


def expected_error(exp):
    """('DATA_LOSS', offset) of the first framing error TensorFlow reports, or None."""
    for e in exp.get("framing_errors") or []:
        st = e.get("tensorflow_status")
        if st:
            code, msg = st.split(": ", 1)
            return code, int(msg.rsplit(" at ", 1)[1])
    return None


@pytest.fixture
def sluice():
    import sluice as s
    return s
