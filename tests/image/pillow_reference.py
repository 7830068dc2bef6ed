#!/usr/bin/python3
"""Writes Pillow's decodes of the test images as raw pixels, for
codecs_test.cc to compare with sluice's decoders.

usage: pillow_reference.py IMAGES_DIR OUT_DIR

OUT_DIR/cases.txt gets one line per case:
    NAME FILE KIND CHANNELS RATIO DTYPE H W C RAWFILE
KIND is jpeg or png; DTYPE uint8 or uint16; RAWFILE holds H*W*C samples
(uint16 little-endian) as Pillow decodes them (Pillow uses the same
libjpeg-turbo and libpng as sluice on Debian).
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    src, out = sys.argv[1], sys.argv[2]
    lines = []

    def emit(name, fname, kind, channels, ratio, arr):
        arr = np.asarray(arr)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        dtype = "uint16" if arr.dtype != np.uint8 else "uint8"
        raw = os.path.join(out, name + ".raw")
        arr.astype("<u2" if dtype == "uint16" else np.uint8).tofile(raw)
        h, w, c = arr.shape
        lines.append(f"{name} {fname} {kind} {channels} {ratio} {dtype} {h} {w} {c} {raw}")

    for fname in sorted(os.listdir(src)):
        path = os.path.join(src, fname)
        stem = fname.replace(".", "_")
        if fname.endswith(".jpg"):
            native = Image.open(path).mode
            rgb = Image.open(path).convert("RGB")
            emit(f"{stem}_c3", fname, "jpeg", 3, 1, rgb)
            emit(f"{stem}_c0", fname, "jpeg", 0, 1, rgb if native != "L" else Image.open(path))
            if native != "CMYK":
                im = Image.open(path)
                im.draft("L", im.size)  # the decoder's luma, as libjpeg's grayscale output
                emit(f"{stem}_c1", fname, "jpeg", 1, 1, im.convert("L"))
                for ratio in (2, 4, 8):
                    im = Image.open(path)
                    w, h = im.size
                    im.draft("RGB", (w // ratio, h // ratio))
                    want = (-(-w // ratio), -(-h // ratio))
                    assert im.size == want, (fname, ratio, im.size, want)
                    emit(f"{stem}_c3_r{ratio}", fname, "jpeg", 3, ratio, im.convert("RGB"))
        elif fname.endswith(".png"):
            im = Image.open(path)
            mode = im.mode
            if mode in ("I", "I;16"):
                a = np.asarray(im).astype(np.uint16)
                emit(f"{stem}_c0_u16", fname, "png", 0, 1, a)
                emit(f"{stem}_c0", fname, "png", 0, 1, (a >> 8).astype(np.uint8))
                continue
            native = {"1": "L", "L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA",
                      "P": "RGBA" if "transparency" in im.info else "RGB"}[mode]
            emit(f"{stem}_c0", fname, "png", 0, 1, im.convert(native))
            emit(f"{stem}_c3", fname, "png", 3, 1, Image.open(path).convert("RGB"))
            emit(f"{stem}_c4", fname, "png", 4, 1, Image.open(path).convert("RGBA"))
            if native in ("L", "LA"):
                emit(f"{stem}_c1", fname, "png", 1, 1, Image.open(path).convert("L"))
            a8 = np.asarray(Image.open(path).convert(native)).astype(np.uint16) * 257
            emit(f"{stem}_c0_u16", fname, "png", 0, 1, a8)

    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
