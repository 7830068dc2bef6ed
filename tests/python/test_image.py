"""sluice.image against Pillow (the same libjpeg-turbo and libpng) on the
real test images, and TensorFlow's formulas for the transforms."""
import glob
import io
import os

import numpy as np
import pytest
from PIL import Image

import sluice
from sluice import image

IMAGES = os.path.join(os.environ.get("SLUICE_TESTDATA", "tests/testdata"), "images")


def read(name):
    with open(os.path.join(IMAGES, name), "rb") as f:
        return f.read()


@pytest.mark.parametrize("name", ["baseline_420.jpg", "progressive_rgb.jpg", "cmyk.jpg",
                                  "palette.png", "rgba_interlaced.png", "gray.jpg"])
def test_decode_image_equals_pillow(name):
    got = image.decode_image(read(name), channels=3)
    want = np.asarray(Image.open(os.path.join(IMAGES, name)).convert("RGB"))
    assert got.dtype == np.uint8 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_sixteen_bit_png_and_float_output():
    got = image.decode_png(read("gray16.png"), dtype=np.uint16)
    want = np.asarray(Image.open(os.path.join(IMAGES, "gray16.png"))).astype(np.uint16)
    np.testing.assert_array_equal(got[:, :, 0], want)
    f = image.decode_image(read("gray.png"), dtype=np.float32)
    u = image.decode_image(read("gray.png"))
    np.testing.assert_allclose(f, u.astype(np.float32) / 255, rtol=1e-6)


def test_corrupt_images_raise_invalid_argument():
    data = read("baseline_420.jpg")
    with pytest.raises(sluice.errors.InvalidArgumentError, match="JPEG"):
        image.decode_jpeg(data[: len(data) // 2])
    with pytest.raises(sluice.errors.InvalidArgumentError, match="Unknown image file format"):
        image.decode_image(b"not an image")


def test_round_trips_and_transforms():
    img = image.decode_jpeg(read("baseline_444.jpg"), channels=3)
    np.testing.assert_array_equal(image.decode_png(image.encode_png(img)), img)
    assert image.decode_jpeg(image.encode_jpeg(img, quality=90)).shape == img.shape
    np.testing.assert_array_equal(image.flip_left_right(img), img[:, ::-1])
    np.testing.assert_array_equal(image.flip_up_down(img), img[::-1])
    np.testing.assert_array_equal(image.transpose(img), img.transpose(1, 0, 2))
    np.testing.assert_array_equal(image.rot90(img), np.rot90(img))
    np.testing.assert_array_equal(image.crop_to_bounding_box(img, 3, 4, 10, 20), img[3:13, 4:24])
    a = image.random_crop(img, [50, 60, 3], seed=4)
    np.testing.assert_array_equal(a, image.random_crop(img, [50, 60, 3], seed=4))
    r = image.resize(img, [40, 70], antialias=True)
    assert r.dtype == np.float32 and r.shape == (40, 70, 3)
    s = image.per_image_standardization(img)
    assert abs(float(s.mean())) < 1e-4 and abs(float(s.std()) - 1) < 1e-3
    hsv = image.rgb_to_hsv(img.astype(np.float32) / 255)
    np.testing.assert_allclose(image.hsv_to_rgb(hsv), img.astype(np.float32) / 255, atol=1e-5)


@pytest.mark.parametrize("name", ["baseline_420.jpg", "baseline_422.jpg", "baseline_444.jpg",
                                  "progressive_rgb.jpg", "cmyk.jpg", "gray.jpg"])
def test_decode_and_crop_jpeg_equals_pillow_decode_then_crop(name):
    """The fused window decode gives Pillow's full decode, cropped, byte for byte."""
    data = read(name)
    pil = Image.open(os.path.join(IMAGES, name))
    want = np.asarray(pil.convert("RGB"))
    h, w = want.shape[:2]
    rng = np.random.default_rng(5)
    windows = [(0, 0, h, w), (0, 0, 1, 1), (h - 1, w - 1, 1, 1), (0, w - 1, 1, 1),
               (h - 1, 0, 1, 1), (3, 5, h - 7, w - 9), (16, 16, 17, 33), (15, 17, 2, 31)]
    for _ in range(40):
        ch, cw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        windows.append((int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), ch, cw))
    for y, x, ch, cw in windows:
        got = image.decode_and_crop_jpeg(data, [y, x, ch, cw], channels=3)
        assert got.dtype == np.uint8 and got.shape == (ch, cw, 3)
        np.testing.assert_array_equal(got, want[y:y + ch, x:x + cw], err_msg=str((y, x, ch, cw)))
    if pil.mode == "L":
        gray = np.asarray(pil)
        got = image.decode_and_crop_jpeg(data, [2, 3, 40, 50], channels=1)
        np.testing.assert_array_equal(got[:, :, 0], gray[2:42, 3:53])


@pytest.mark.parametrize("ratio", [2, 4, 8])
@pytest.mark.parametrize("dct_method", ["", "INTEGER_FAST"])
def test_decode_and_crop_jpeg_ratio_and_dct_equal_decode_jpeg_then_crop(ratio, dct_method):
    for name in ["baseline_420.jpg", "progressive_rgb.jpg", "cmyk.jpg"]:
        data = read(name)
        full = image.decode_jpeg(data, channels=3, ratio=ratio, dct_method=dct_method)
        h, w = full.shape[:2]
        for y, x, ch, cw in [(0, 0, h, w), (h - 1, w - 1, 1, 1), (1, 2, h - 1, w - 3),
                             (h // 2, 1, h - h // 2, w // 2)]:
            got = image.decode_and_crop_jpeg(data, [y, x, ch, cw], channels=3, ratio=ratio,
                                             dct_method=dct_method)
            np.testing.assert_array_equal(got, full[y:y + ch, x:x + cw], err_msg=name)
    with pytest.raises(sluice.errors.InvalidArgumentError, match="dct_method"):
        image.decode_and_crop_jpeg(read("gray.jpg"), [0, 0, 1, 1], dct_method="FLOAT")


def test_decode_and_crop_jpeg_refuses_bad_windows_and_truncated_streams():
    data = read("baseline_420.jpg")  # 157x93
    for window in ([0, 0, 94, 157], [0, 150, 10, 10], [-1, 0, 5, 5], [0, 0, 0, 5]):
        with pytest.raises(sluice.errors.InvalidArgumentError, match="93x157"):
            image.decode_and_crop_jpeg(data, window)
    with pytest.raises(sluice.errors.InvalidArgumentError, match="JPEG"):
        image.decode_and_crop_jpeg(data[:-40], [0, 0, 4, 4])


def _without_dht(data, table):
    """`data` without its DHT segments whose first table is Tc:Th `table`.

    0xFF 0xC4 cannot occur inside entropy-coded data (a data 0xFF is
    followed by 0x00), and the test files carry no APP payload holding it.
    """
    out, i = bytearray(data), len(data)
    while True:
        i = data.rfind(b"\xff\xc4", 0, i)
        if i < 0:
            return bytes(out)
        if data[i + 4] == table:
            del out[i:i + 2 + int.from_bytes(data[i + 2:i + 4], "big")]


def _pillow(data):
    """Pillow's RGB decode (a fresh libjpeg decoder), or the error it raises."""
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except (OSError, SyntaxError) as e:
        return e


def test_abbreviated_streams_decode_as_pillow_after_other_images():
    """A stream leaving out a Huffman table its scans use decodes as Pillow's
    fresh decoder decodes it (libjpeg's standard table for a sequential
    scan; a refusal for a progressive one), never with the table of the
    image decoded just before on the same thread."""
    base, prog = read("baseline_420.jpg"), read("progressive_rgb.jpg")
    renumbered = bytearray(base)
    at = base.find(b"\xff\xc4\x00\xb5\x11")
    assert at > 0
    renumbered[at + 4] = 0x12  # defines AC table 2; the chroma scans use AC 1
    dht = [i for i in range(len(prog)) if prog.startswith(b"\xff\xc4", i)]
    assert len(dht) == 7 and prog[dht[5] + 4] == 0x11  # the Cb AC scan's table
    cb = prog[:dht[5]] + prog[dht[5] + 2 + int.from_bytes(prog[dht[5] + 2:dht[5] + 4], "big"):]
    variants = {"no chroma AC": _without_dht(base, 0x11), "no chroma DC": _without_dht(base, 0x01),
                "chroma AC as 2": bytes(renumbered), "progressive Cb AC": cb}
    for name, data in variants.items():
        want = _pillow(data)
        window = [0, 0, 58, 493] if name.startswith("progressive") else [0, 0, 93, 157]
        for prior in ("progressive_rgb.jpg", "baseline_444.jpg"):
            for decode in (lambda d: image.decode_jpeg(d, channels=3),
                           lambda d: image.decode_and_crop_jpeg(d, window, channels=3)):
                image.decode_jpeg(read(prior))
                if isinstance(want, Exception):
                    assert name.startswith("progressive")
                    with pytest.raises(sluice.errors.InvalidArgumentError, match="not defined"):
                        decode(data)
                else:
                    np.testing.assert_array_equal(decode(data), want,
                                                  err_msg=f"{name} after {prior}")
