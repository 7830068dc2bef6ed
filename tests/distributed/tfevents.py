"""TensorBoard event files read with libraries sluice did not write.

The TFRecord framing (uint64 length, masked CRC-32C of the length, data,
masked CRC-32C of the data) is checked with crcmod's CRC-32C (Debian
python3-crcmod); each record is decoded as an Event by Google's protobuf
runtime (python3-protobuf) from the repository's test copy of TensorFlow's
event schema (tests/graph_training/protobuf/event.proto, TensorFlow's field
numbers), compiled by protoc at test time.
"""
import importlib
import os
import struct
import subprocess
import sys

import crcmod.predefined

_crc32c = crcmod.predefined.mkCrcFun("crc-32c")
assert _crc32c(b"123456789") == 0xE3069283  # RFC 3720's check value


def masked_crc(data):
    """TFRecord's masked CRC-32C of `data`."""
    c = _crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def compile_event_proto(protoc, proto, outdir):
    """Runs `protoc --python_out` on `proto` into `outdir`; returns the event_pb2 module."""
    os.makedirs(outdir, exist_ok=True)
    subprocess.run([protoc, "-I", os.path.dirname(os.path.abspath(proto)), "--python_out",
                    outdir, os.path.basename(proto)], check=True, timeout=60)
    sys.path.insert(0, outdir)
    return importlib.import_module(os.path.splitext(os.path.basename(proto))[0] + "_pb2")


def read_records(path):
    """The records of the TFRecord file `path`; ValueError names the offset of a bad frame."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off < len(data):
        if off + 12 > len(data):
            raise ValueError(f"{path}: truncated header at offset {off}")
        head = data[off:off + 8]
        (n,) = struct.unpack("<Q", head)
        (crc,) = struct.unpack_from("<I", data, off + 8)
        if crc != masked_crc(head):
            raise ValueError(f"{path}: length CRC mismatch at offset {off}")
        if off + 12 + n + 4 > len(data):
            raise ValueError(f"{path}: truncated record at offset {off}")
        rec = data[off + 12:off + 12 + n]
        (crc,) = struct.unpack_from("<I", data, off + 12 + n)
        if crc != masked_crc(rec):
            raise ValueError(f"{path}: data CRC mismatch at offset {off}")
        out.append(rec)
        off += 12 + n + 4
    return out


def read_events(path, event_pb2):
    """The Event protos of the events file `path`, in file order."""
    events = []
    for rec in read_records(path):
        e = event_pb2.Event()
        e.ParseFromString(rec)
        events.append(e)
    return events
