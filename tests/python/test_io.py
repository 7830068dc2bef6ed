"""sluice.io against real files and an independent Python TFRecord codec."""
import numpy as np
import pytest

import sluice
from sluice import errors
from conftest import (corpus_files, expected_error, py_read_records, py_write_records,
                      records_digest)

CORPUS = corpus_files()


def test_corpus_is_present():
    assert len(CORPUS) >= 19


@pytest.mark.parametrize("path,exp", CORPUS, ids=[c[1]["file"] for c in CORPUS])
def test_tf_record_iterator_matches_expected_digest(path, exp):
    it = sluice.io.tf_record_iterator(path)  # compression detected
    got, err = [], None
    try:
        for r in it:
            got.append(r)
    except errors.OpError as e:
        err = e
    assert it.compression == exp["compression"] or not got
    assert len(got) == exp["num_records"]
    assert records_digest(got) == exp["records_digest_sha256"]
    want = expected_error(exp)
    if want is None:
        assert err is None
    else:
        assert want[0] == "DATA_LOSS" and isinstance(err, errors.DataLossError), err
        assert err.offset == want[1] and err.file == path, err.message
        assert err.error_code == errors.DATA_LOSS


@pytest.mark.parametrize("compression", [None, "", "ZLIB", "GZIP"])
def test_writer_round_trip_read_by_python_and_sluice(tmp_path, compression):
    path = str(tmp_path / "out.tfrecord")
    records = [b"", b"a", bytes(range(256)) * 40] + [b"rec-%d" % i for i in range(500)]
    opts = sluice.io.TFRecordOptions(compression_type=compression)
    with sluice.io.TFRecordWriter(path, opts) as w:
        for r in records:
            w.write(r)
    assert py_read_records(path, compression or "") == records
    assert list(sluice.io.tf_record_iterator(path)) == records
    assert list(sluice.io.tf_record_iterator(path, opts)) == records


@pytest.mark.parametrize("compression", ["", "ZLIB", "GZIP"])
def test_reads_files_written_by_python(tmp_path, compression):
    path = str(tmp_path / "py.tfrecord")
    records = [b"x" * i for i in range(100)]
    py_write_records(path, records, compression)
    it = sluice.io.tf_record_iterator(path)
    assert list(it) == records
    assert it.compression == (compression or "NONE")


def test_writer_after_close_and_bad_compression(tmp_path):
    w = sluice.io.TFRecordWriter(str(tmp_path / "a"))
    w.close()
    w.close()  # idempotent
    with pytest.raises(errors.FailedPreconditionError):
        w.write(b"x")
    with pytest.raises(errors.InvalidArgumentError, match="BZIP2"):
        sluice.io.TFRecordWriter(str(tmp_path / "b"), "BZIP2")


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError, match="nope"):
        sluice.io.tf_record_iterator(str(tmp_path / "nope"))


def test_skip_record_policy_skips_bad_crc():
    path = [p for p, e in CORPUS if e["file"] == "beam_foo.DERIVED-corrupt-data-crc.bin"][0]
    assert list(sluice.io.tf_record_iterator(path, on_corrupt="skip_record")) == []
    with pytest.raises(errors.InvalidArgumentError):
        sluice.io.tf_record_iterator(path, on_corrupt="ignore")


def test_serialize_and_parse_example():
    recs = [sluice.io.serialize_example({"label": [i], "image": [bytes([i]) * 4],
                                          "w": [0.5 * i, 1.0], "tags": [b"t"] * i})
            for i in range(5)]
    spec = {"label": sluice.io.FixedLenFeature([], sluice.int64),
            "image": sluice.io.FixedLenFeature([], sluice.string),
            "w": sluice.io.FixedLenFeature([2], sluice.float32),
            "tags": sluice.io.VarLenFeature(sluice.string),
            "missing": sluice.io.FixedLenFeature([], sluice.int64, default_value=-7)}
    out = sluice.io.parse_example(recs, spec)
    assert out["label"].dtype == np.int64 and list(out["label"]) == [0, 1, 2, 3, 4]
    assert list(out["image"]) == [bytes([i]) * 4 for i in range(5)]
    np.testing.assert_allclose(out["w"], [[0.5 * i, 1.0] for i in range(5)])
    assert list(out["missing"]) == [-7] * 5
    sp = out["tags"]
    assert sp.dense_shape.tolist() == [5, 4]
    assert sp.indices.tolist() == [[r, j] for r in range(5) for j in range(r)]
    assert list(sp.values) == [b"t"] * 10
    one = sluice.io.parse_single_example(recs[3], spec)
    assert one["label"].shape == () and int(one["label"]) == 3
    assert one["tags"].indices.tolist() == [[0], [1], [2]]
    assert one["tags"].dense_shape.tolist() == [3]


def test_parse_example_errors_name_record_and_feature():
    recs = [sluice.io.serialize_example({"label": [1]}), sluice.io.serialize_example({"x": [1]})]
    spec = {"label": sluice.io.FixedLenFeature([], sluice.int64)}
    with pytest.raises(errors.InvalidArgumentError, match="label"):
        sluice.io.parse_example(recs, spec)
    with pytest.raises(errors.InvalidArgumentError):
        sluice.io.parse_example([b"\xff\xff\xff"], spec)


def test_decode_raw():
    a = sluice.io.decode_raw([b"\x01\x02", b"\x03\x04"], sluice.uint8)
    assert a.dtype == np.uint8 and a.tolist() == [[1, 2], [3, 4]]
    f = sluice.io.decode_raw(np.float32([1.5, -2]).tobytes(), sluice.float32)
    assert f.tolist() == [1.5, -2.0]
    be = sluice.io.decode_raw(b"\x00\x01", sluice.uint8, little_endian=False)
    assert be.tolist() == [0, 1]
    with pytest.raises(errors.InvalidArgumentError):
        sluice.io.decode_raw([b"\x01", b"\x02\x03"], sluice.uint8)
    fused = sluice.io.parse_example(
        [sluice.io.serialize_example({"img": [b"\x05\x06\x07"]})],
        {"img": sluice.io.FixedLenFeature([], sluice.string)}, decode_raw={"img": sluice.uint8})
    assert fused["img"].dtype == np.uint8 and fused["img"].tolist() == [[5, 6, 7]]


def test_docstrings_everywhere():
    for obj in [sluice, sluice.io, sluice.data, sluice.errors, sluice.train,
                sluice.io.tf_record_iterator, sluice.io.TFRecordWriter, sluice.io.parse_example,
                sluice.io.parse_example_fn, sluice.io.decode_raw, sluice.io.serialize_example,
                sluice.data.TFRecordDataset, sluice.data.Dataset.shuffle, sluice.data.Dataset.as_torch,
                sluice.FIFOQueue, sluice.RandomShuffleQueue, sluice.train.Coordinator,
                sluice.train.Coordinator.join, sluice.errors.DataLossError]:
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, obj


def test_type_stubs_ship_with_the_package():
    import os
    pkg = os.path.dirname(sluice.__file__)
    for stub in ["__init__.pyi", "io.pyi", "data.pyi", "errors.pyi", "train.pyi", "py.typed"]:
        assert os.path.exists(os.path.join(pkg, stub)), stub


def test_fused_and_general_parse_give_the_same_tensors():
    recs = [sluice.io.serialize_example({"id": [i - 10], "img": [bytes([i, i + 1, i + 2, 0])],
                                          "w": [float(i), -1.0], "s": [b"x%d" % i]})
            for i in range(20)]
    spec = {"id": sluice.io.FixedLenFeature([], sluice.int64),
            "img": sluice.io.FixedLenFeature([], sluice.string),
            "w": sluice.io.FixedLenFeature([2], sluice.float32),
            "s": sluice.io.FixedLenFeature([], sluice.string)}
    fast = sluice.io.parse_example(recs, spec, decode_raw={"img": sluice.int32})
    # A default for a feature one record lacks sends the batch down the
    # general path (ParseExample + DecodeRaw).
    spec_default = dict(spec, id=sluice.io.FixedLenFeature([], sluice.int64, default_value=-1))
    general = sluice.io.parse_example(recs + [sluice.io.serialize_example(
        {"img": [bytes(4)], "w": [0.0, 0.0], "s": [b""]})], spec_default,
        decode_raw={"img": sluice.int32})
    for k in spec:
        assert fast[k].dtype == general[k].dtype
        assert fast[k].tolist() == general[k][:20].tolist(), k
    assert general["id"][20] == -1 and fast["id"][0] == -10
    assert fast["img"].shape == (20, 1) and fast["img"][3, 0] == 3 | 4 << 8 | 5 << 16
    # Extra keys in the records take the validating walk: same values.
    sub = sluice.io.parse_example(recs, {"id": spec["id"], "w": spec["w"]})
    assert sub["id"].tolist() == fast["id"].tolist() and sub["w"].tolist() == fast["w"].tolist()
    # Value counts and kinds that do not match: the general path's errors.
    with pytest.raises(errors.InvalidArgumentError):
        sluice.io.parse_example(recs, dict(spec, w=sluice.io.FixedLenFeature([3], sluice.float32)))
    with pytest.raises(errors.InvalidArgumentError):
        sluice.io.parse_example(recs, {"id": sluice.io.FixedLenFeature([], sluice.float32)})
    with pytest.raises(errors.InvalidArgumentError, match="decode_raw"):
        sluice.io.parse_example(recs, spec, decode_raw={"img": sluice.float64})
