"""sluice.data.TFRecordDataset: corpus digests, exactly-once through the
transformations, zero-copy numpy / DLPack, errors, iterator lifetime."""
import gc
import os
import threading

import numpy as np
import pytest

import sluice
from sluice import errors
from conftest import corpus_files, expected_error, records_digest

CORPUS = corpus_files()

SPEC = {"id": sluice.io.FixedLenFeature([], sluice.int64),
        "image": sluice.io.FixedLenFeature([], sluice.string)}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """4 GZIP shards of 250 Examples: id, 16-byte image, label."""
    d = tmp_path_factory.mktemp("shards")
    files = []
    for s in range(4):
        path = str(d / ("s%d.tfrecord" % s))
        opts = sluice.io.TFRecordOptions("GZIP")
        with sluice.io.TFRecordWriter(path, opts) as w:
            for i in range(s * 250, (s + 1) * 250):
                w.write(sluice.io.serialize_example(
                    {"id": [i], "image": [bytes([i % 251]) * 16], "label": [i % 10]}))
        files.append(path)
    return files


@pytest.mark.parametrize("path,exp", CORPUS, ids=[c[1]["file"] for c in CORPUS])
def test_dataset_matches_expected_digest(path, exp):
    got, err = [], None
    it = iter(sluice.data.TFRecordDataset(path))
    while True:
        try:
            got.append(next(it))
        except StopIteration:
            break
        except errors.OpError as e:
            err = e
            break
    assert all(isinstance(r, bytes) for r in got)
    assert len(got) == exp["num_records"]
    assert records_digest(got) == exp["records_digest_sha256"]
    want = expected_error(exp)
    if want is None:
        assert err is None
    else:
        assert isinstance(err, errors.DataLossError) and err.offset == want[1], err


def test_corrupt_file_policies_across_files():
    bad = [p for p, e in CORPUS if e["file"] == "beam_foo.DERIVED-corrupt-data-crc.bin"][0]
    good = [p for p, e in CORPUS if e["file"] == "beam_foo_bar.tfrecord"][0]
    files = [good, bad, good]
    with pytest.raises(errors.DataLossError, match="corrupted record at 12"):
        list(sluice.data.TFRecordDataset(files, compression_type=""))
    # After the error the iteration goes on with the next file.
    it = iter(sluice.data.TFRecordDataset(files, compression_type=""))
    seen = [next(it), next(it)]
    with pytest.raises(errors.DataLossError):
        next(it)
    seen += list(it)
    assert seen == [b"foo", b"bar"] * 2
    for policy in ("skip_record", "skip_file"):
        assert list(sluice.data.TFRecordDataset(files, compression_type="", on_corrupt=policy)) == \
            [b"foo", b"bar"] * 2


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError):
        list(sluice.data.TFRecordDataset([str(tmp_path / "none")], compression_type=""))


def _ids(ds):
    out = []
    for b in ds:
        out.extend(b["id"].tolist())
    return out


def test_exactly_once_through_shard_shuffle_repeat(shards):
    parse = sluice.io.parse_example_fn(SPEC)
    all_ids = []
    for index in range(3):
        ds = (sluice.data.TFRecordDataset(shards, num_parallel_reads=2)
              .shard(3, index).shuffle(100, seed=7).repeat(2)
              .map(parse, num_parallel_calls=2).batch(32).prefetch(2))
        ids = _ids(ds)
        assert sorted(ids) == sorted(ids[: len(ids) // 2] * 2)  # each epoch the same set
        assert ids[: len(ids) // 2] != ids[len(ids) // 2:]  # reshuffled per epoch
        all_ids.extend(ids[: len(ids) // 2])
    assert sorted(all_ids) == list(range(1000))


def test_same_seed_same_order_and_images_match_ids(shards):
    ds = (sluice.data.TFRecordDataset(shards).shuffle(300, seed=3)
          .map(sluice.io.parse_example_fn(SPEC, decode_raw={"image": sluice.uint8}))
          .batch(64, drop_remainder=True))
    a, b = _ids(ds), _ids(ds)
    assert a == b and len(a) == 960 and sorted(a) != a
    for batch in ds:
        assert batch["image"].shape == (64, 16) and batch["image"].dtype == np.uint8
        assert (batch["image"][:, 0] == batch["id"] % 251).all()


def test_map_without_batch_and_batch_without_map(shards):
    one = next(iter(sluice.data.TFRecordDataset(shards[0]).map(sluice.io.parse_example_fn(SPEC))))
    assert one["id"].shape == () and int(one["id"]) == 0
    raw = next(iter(sluice.data.TFRecordDataset(shards[0]).batch(8)))
    assert raw.dtype == object and raw.shape == (8,)
    assert sluice.io.parse_example(raw, SPEC)["id"].tolist() == list(range(8))
    with pytest.raises(TypeError):
        sluice.data.TFRecordDataset(shards).map(42)  # neither native nor callable


def test_numpy_arrays_are_zero_copy_views_of_cpp_buffers(shards):
    ds = (sluice.data.TFRecordDataset(shards)
          .map(sluice.io.parse_example_fn(SPEC, decode_raw={"image": sluice.uint8}))
          .batch(100))
    batch = next(iter(ds))
    img = batch["image"]
    assert not img.flags.owndata  # a view: numpy did not allocate it
    base = img.base
    assert type(base).__name__ == "capsule" or base is not None
    # DLPack: same address, no copy.
    torch = pytest.importorskip("torch")
    t = torch.from_dlpack(img)
    assert t.data_ptr() == img.__array_interface__["data"][0]
    assert img.__dlpack_device__() == (1, 0)
    # The buffer outlives the iterator and the batch dict.
    del batch, ds
    gc.collect()
    assert t.view(100, 16)[:, 0].tolist() == [i % 251 for i in range(100)]


def test_as_torch_shares_memory(shards):
    torch = pytest.importorskip("torch")
    ds = (sluice.data.TFRecordDataset(shards)
          .map(sluice.io.parse_example_fn(SPEC, decode_raw={"image": sluice.uint8})).batch(50))
    n = 0
    for b in ds.as_torch():
        assert isinstance(b["id"], torch.Tensor) and b["image"].dtype == torch.uint8
        n += b["id"].shape[0]
    assert n == 1000
    with pytest.raises(ValueError):
        next(ds.as_torch(device="meta"))


def test_stats_report_stages(shards):
    ds = (sluice.data.TFRecordDataset(shards, num_parallel_reads=2)
          .map(sluice.io.parse_example_fn(SPEC), num_parallel_calls=2).batch(10).prefetch(2))
    assert ds.stats() is None
    assert len(_ids(ds)) == 1000
    stages = {s["stage"]: s for s in ds.stats()}
    assert {"read", "map", "consume"} <= set(stages)
    assert stages["consume"]["items"] == 100
    assert stages["map"]["items"] == 100
    for s in stages.values():
        assert 0 <= s["busy"] <= 1.05 and 0 <= s["input_wait"] <= 1.05


def test_autotune_choices_are_in_stats(shards):
    ds = (sluice.data.TFRecordDataset(shards, num_parallel_reads=sluice.data.AUTOTUNE)
          .shuffle(200, seed=1).batch(10)
          .map(sluice.io.parse_example_fn(SPEC), num_parallel_calls=sluice.data.AUTOTUNE)
          .prefetch(sluice.data.AUTOTUNE))
    ids = _ids(ds)
    assert sorted(ids) == list(range(1000))
    stages = {s["stage"]: s for s in ds.stats()}
    cpus = len(os.sched_getaffinity(0))
    assert stages["read"]["parameters"]["parallelism"] == min(4, max(2, cpus))
    # Up to 4 calls per CPU when the calls are on a CPU a small share of
    # their time (AUTOTUNE bounds the CPU they use, not their number).
    assert 1 <= stages["map"]["parameters"]["parallelism"] <= 4 * cpus
    assert stages["map"]["parameters"]["memory_budget_mb"] == 256
    assert stages["map"]["parameters"]["buffer"] >= 0


def _threads():
    return threading.active_count(), len(os.listdir("/proc/self/task"))


def _rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def test_dropping_iterators_stops_threads_and_leaks_nothing(shards):
    ds = (sluice.data.TFRecordDataset(shards, num_parallel_reads=2).shuffle(200, seed=1)
          .map(sluice.io.parse_example_fn(SPEC), num_parallel_calls=2).batch(16).prefetch(2))
    for _ in range(50):  # warm up allocators and oneTBB's pool
        next(iter(ds))
    gc.collect()
    tasks0, rss0 = len(os.listdir("/proc/self/task")), _rss_kb()
    for _ in range(2000):
        it = iter(ds)
        next(it)  # threads running, mid-epoch
        del it
    gc.collect()
    tasks1, rss1 = len(os.listdir("/proc/self/task")), _rss_kb()
    assert tasks1 <= tasks0 + 2, (tasks0, tasks1)
    assert rss1 - rss0 < 32 * 1024, (rss0, rss1)  # KiB: no per-cycle leak


def test_varlen_features_batch_as_sparse_and_unordered_map_keeps_every_element(tmp_path):
    path = str(tmp_path / "v.tfrecord")
    with sluice.io.TFRecordWriter(path) as w:
        for i in range(10):
            w.write(sluice.io.serialize_example({"id": [i], "tags": list(range(i % 4))}))
    spec = {"id": sluice.io.FixedLenFeature([], sluice.int64),
            "tags": sluice.io.VarLenFeature(sluice.int64)}
    batches = list(sluice.data.TFRecordDataset(path).map(sluice.io.parse_example_fn(spec))
                   .batch(4))
    assert [b["id"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    t = batches[0]["tags"]
    assert t.indices.tolist() == [[1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [3, 2]]
    assert t.values.tolist() == [0, 0, 1, 0, 1, 2] and t.dense_shape.tolist() == [4, 3]
    unordered = (sluice.data.TFRecordDataset(path, deterministic=False)
                 .map(sluice.io.parse_example_fn(spec), num_parallel_calls=2).batch(3))
    assert sorted(i for b in unordered for i in b["id"].tolist()) == list(range(10))


def test_compression_is_detected_per_file(tmp_path):
    """A list mixing uncompressed, ZLIB and GZIP files (written by Python's
    zlib and gzip) reads with compression_type=None."""
    from conftest import py_write_records
    files = []
    for name, comp in (("plain", ""), ("z", "ZLIB"), ("g", "GZIP")):
        path = str(tmp_path / name)
        py_write_records(path, [name.encode() + b"%d" % i for i in range(3)], comp)
        files.append(path)
    want = [b"plain0", b"plain1", b"plain2", b"z0", b"z1", b"z2", b"g0", b"g1", b"g2"]
    assert list(sluice.data.TFRecordDataset(files)) == want
    assert list(sluice.data.TFRecordDataset(files[::-1], num_parallel_reads=3)) == \
        [b"g0", b"z0", b"plain0", b"g1", b"z1", b"plain1", b"g2", b"z2", b"plain2"]
    with pytest.raises(errors.DataLossError):  # one named compression for all
        list(sluice.data.TFRecordDataset(files, compression_type="GZIP"))
