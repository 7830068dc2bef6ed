"""sluice.image inside Dataset.map with a Python function: a training-style
pass over a dataset of real JPEG records (decode, random crop, random flip,
batches), every pixel checked against Pillow's decode of the same file."""
import io
import itertools
import os
import threading

import numpy as np
import pytest
from PIL import Image

import sluice
from sluice import errors

IMAGES = os.path.join(os.environ.get("SLUICE_TESTDATA", "tests/testdata"), "images")
NAMES = ["baseline_420.jpg", "baseline_444.jpg", "progressive_rgb.jpg", "cmyk.jpg", "gray.jpg"]
COPIES = 8
CROP = 48
SPEC = {"image/encoded": sluice.io.FixedLenFeature([], sluice.string),
        "image/class/label": sluice.io.FixedLenFeature([], sluice.int64),
        "id": sluice.io.FixedLenFeature([], sluice.int64)}


def _read(name):
    with open(os.path.join(IMAGES, name), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def jpeg_shards(tmp_path_factory):
    """2 shards of ImageNet-layout records: each real JPEG COPIES times."""
    d = tmp_path_factory.mktemp("jpeg")
    files, n = [], 0
    for s in range(2):
        path = str(d / ("train-%05d-of-00002" % s))
        with sluice.io.TFRecordWriter(path) as w:
            for _ in range(COPIES // 2):
                for label, name in enumerate(NAMES):
                    w.write(sluice.io.serialize_example(
                        {"image/encoded": [_read(name)], "image/class/label": [label],
                         "id": [n]}))
                    n += 1
        files.append(path)
    return files


def _pillow(label):
    return np.asarray(Image.open(io.BytesIO(_read(NAMES[label]))).convert("RGB"))


def _window_of(img, ref):
    """(y, x, flipped) of the CROP x CROP window of ref (maybe mirrored) equal to img."""
    for flipped, src in ((False, ref), (True, ref[:, ::-1])):
        h, w = src.shape[0] - CROP + 1, src.shape[1] - CROP + 1
        corner = (src[:h, :w] == img[0, 0]).all(axis=2)  # candidates first
        for y, x in zip(*np.nonzero(corner)):
            if np.array_equal(src[y:y + CROP, x:x + CROP], img):
                return int(y), int(x), flipped
    return None


def augment(rec):
    img = sluice.image.decode_image(rec["image/encoded"], channels=3)
    img = sluice.image.random_crop(img, [CROP, CROP, 3])
    img = sluice.image.random_flip_left_right(img)
    return {"image": img, "label": rec["image/class/label"], "id": rec["id"]}


def test_augmenting_map_over_jpeg_records_matches_pillow(jpeg_shards):
    threads = set()

    def traced(rec):
        threads.add(threading.get_ident())
        return augment(rec)

    ds = (sluice.data.TFRecordDataset(jpeg_shards, num_parallel_reads=2)
          .shuffle(16, seed=5).repeat(2)
          .map(sluice.io.parse_example_fn(SPEC))
          .map(traced, num_parallel_calls=2)
          .batch(8).prefetch(2))
    refs = [_pillow(label) for label in range(len(NAMES))]
    ids, windows, flips = [], set(), set()
    for batch in ds:
        assert batch["image"].dtype == np.uint8 and batch["image"].shape[1:] == (CROP, CROP, 3)
        for img, label, i in zip(batch["image"], batch["label"], batch["id"]):
            assert label == int(i) % len(NAMES)
            where = _window_of(img, refs[label])
            assert where is not None, "image %d is no window of Pillow's decode" % i
            windows.add(where[:2])
            flips.add(where[2])
            ids.append(int(i))
    n = len(NAMES) * COPIES
    assert sorted(ids) == sorted(list(range(n)) * 2)  # each record once per epoch
    assert flips == {False, True} and len(windows) > n // 2  # the draws vary
    assert threading.get_ident() not in threads  # the map ran on pipeline threads


def test_map_results_in_order_and_deterministic_with_seeds(jpeg_shards):
    def fixed(rec):
        img = sluice.image.decode_image(rec["image/encoded"], channels=3)
        return sluice.image.resize_with_crop_or_pad(img, CROP, CROP), rec["id"]

    ds = (sluice.data.TFRecordDataset(jpeg_shards).map(sluice.io.parse_example_fn(SPEC))
          .map(fixed, num_parallel_calls=2).batch(5))
    got = list(ds)
    assert [int(i) for _, ids in got for i in ids] == list(range(len(NAMES) * COPIES))
    for images, ids in got:
        for img, i in zip(images, ids):
            ref = _pillow(int(i) % len(NAMES))
            y, x = (ref.shape[0] - CROP) // 2, (ref.shape[1] - CROP) // 2
            np.testing.assert_array_equal(img, ref[y:y + CROP, x:x + CROP])


def test_errors_in_a_python_map(tmp_path, jpeg_shards):
    path = str(tmp_path / "bad")
    good = _read(NAMES[0])
    with sluice.io.TFRecordWriter(path) as w:
        for i, data in enumerate([good, good[:200], good]):
            w.write(sluice.io.serialize_example(
                {"image/encoded": [data], "image/class/label": [0], "id": [i]}))
    it = iter(sluice.data.TFRecordDataset(path).map(sluice.io.parse_example_fn(SPEC))
              .map(augment))
    assert next(it)["id"] == 0
    with pytest.raises(errors.InvalidArgumentError):  # the truncated JPEG: sluice's own error
        next(it)
    assert next(it)["id"] == 2  # iteration goes on after the error
    with pytest.raises(errors.InvalidArgumentError, match="ValueError: no"):
        list(sluice.data.TFRecordDataset(path).map(lambda r: (_ for _ in ()).throw(ValueError("no"))))
    with pytest.raises(errors.UnknownError, match="ZeroDivisionError"):
        list(sluice.data.TFRecordDataset(path).map(lambda r: 1 // 0))
    calls = itertools.count()
    with pytest.raises(errors.InvalidArgumentError, match="same structure"):
        list(sluice.data.TFRecordDataset(jpeg_shards).map(
            lambda r: {"a": 1} if next(calls) == 0 else (1, 2)))
    with pytest.raises(TypeError):
        sluice.data.TFRecordDataset(path).map(42)
