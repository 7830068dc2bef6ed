#!/usr/bin/env python3
"""The peer a user would pick instead of sluice's pipeline: a Python TFRecord
iterator with tf.train.Example decoding inside torch.utils.data.DataLoader
(batch_size 128), reading the same files as sluice-bench's pipeline.* results.

No TensorFlow or protobuf package is assumed: records are framed and the
Example wire format is walked in Python (what the `tfrecord` pip package
does, minus its protobuf dependency). CRCs are not checked (the `tfrecord`
package skips them by default too), which favours the peer.

Prints one JSON line: {"records": N, "seconds": S, "records_per_second": R}.
usage: torch_dataloader_peer.py [--batch-size 128] [--num-workers 0]
                                [--max-records N] FILE...
"""
import argparse
import gzip
import json
import struct
import sys
import time
import zlib

import torch
from torch.utils.data import DataLoader, IterableDataset


def read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def skip_field(buf, pos, wire):
    if wire == 0:
        _, pos = read_varint(buf, pos)
    elif wire == 1:
        pos += 8
    elif wire == 2:
        n, pos = read_varint(buf, pos)
        pos += n
    elif wire == 5:
        pos += 4
    else:
        raise ValueError("unsupported wire type %d" % wire)
    return pos


def parse_feature(buf, start, end):
    """Returns ('bytes', [memoryview...]) or ('int64', [ints]) or ('float', [...])."""
    pos = start
    kind, values = None, []
    while pos < end:
        tag, pos = read_varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire != 2:
            pos = skip_field(buf, pos, wire)
            continue
        n, pos = read_varint(buf, pos)
        lend = pos + n
        if field == 1:  # BytesList
            kind = "bytes"
            values = []
            while pos < lend:
                t, pos = read_varint(buf, pos)
                m, pos = read_varint(buf, pos)
                values.append(buf[pos:pos + m])
                pos += m
        elif field == 3:  # Int64List (packed or not)
            kind = "int64"
            values = []
            while pos < lend:
                t, pos = read_varint(buf, pos)
                if t & 7 == 2:
                    m, pos = read_varint(buf, pos)
                    pe = pos + m
                    while pos < pe:
                        v, pos = read_varint(buf, pos)
                        values.append(v - (1 << 64) if v >= 1 << 63 else v)
                else:
                    v, pos = read_varint(buf, pos)
                    values.append(v - (1 << 64) if v >= 1 << 63 else v)
        elif field == 2:  # FloatList
            kind = "float"
            values = []
            while pos < lend:
                t, pos = read_varint(buf, pos)
                if t & 7 == 2:
                    m, pos = read_varint(buf, pos)
                    values.extend(struct.unpack_from("<%df" % (m // 4), buf, pos))
                    pos += m
                else:
                    values.append(struct.unpack_from("<f", buf, pos)[0])
                    pos += 4
        pos = lend
    return kind, values


def parse_example(buf):
    features = {}
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = read_varint(buf, pos)
        if tag != (1 << 3 | 2):
            pos = skip_field(buf, pos, tag & 7)
            continue
        n, pos = read_varint(buf, pos)
        fend = pos + n
        while pos < fend:  # Features: map entries
            tag, pos = read_varint(buf, pos)
            m, pos = read_varint(buf, pos)
            eend = pos + m
            key, fstart, fstop = None, None, None
            while pos < eend:
                t, pos = read_varint(buf, pos)
                k, pos = read_varint(buf, pos)
                if t >> 3 == 1:
                    key = bytes(buf[pos:pos + k]).decode()
                elif t >> 3 == 2:
                    fstart, fstop = pos, pos + k
                pos += k
            if key is not None and fstart is not None:
                features[key] = parse_feature(buf, fstart, fstop)
    return features


def open_stream(path):
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def tfrecord_iterator(path):
    with open_stream(path) as f:
        while True:
            header = f.read(12)
            if len(header) < 12:
                return
            (length,) = struct.unpack("<Q", header[:8])
            data = f.read(length)
            f.read(4)
            yield memoryview(data)


class TFRecordExamples(IterableDataset):
    def __init__(self, files, max_records):
        self.files = files
        self.max_records = max_records

    def __iter__(self):
        n = 0
        for path in self.files:
            for rec in tfrecord_iterator(path):
                ex = parse_example(rec)
                image = torch.frombuffer(bytearray(ex["image"][1][0]), dtype=torch.uint8)
                yield image, ex["label"][1][0]
                n += 1
                if self.max_records and n >= self.max_records:
                    return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--num-workers", type=int, default=0)
    ap.add_argument("--max-records", type=int, default=0)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    loader = DataLoader(TFRecordExamples(a.files, a.max_records), batch_size=a.batch_size,
                        num_workers=a.num_workers)
    start = time.perf_counter()
    records = 0
    for images, labels in loader:
        records += images.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"records": records, "seconds": seconds,
                      "records_per_second": records / seconds if seconds > 0 else 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
