#!/usr/bin/python3
"""Writes torch's resizes of a seeded random image, an independent reference
for sluice's tf.image.resize (transforms_test.cc).

usage: torch_resize_reference.py OUT_DIR

OUT_DIR/input.raw: uint8 [17, 23, 3]. OUT_DIR/cases.txt: one line per case
    METHOD ANTIALIAS H W RAWFILE
with RAWFILE float32 [H, W, 3]. torch's bilinear (align_corners=False) is
TF2's half-pixel bilinear, its antialiased bilinear is TF's ScaleAndTranslate
triangle kernel, and "nearest-exact" is TF2's half-pixel nearest neighbour.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    img.tofile(os.path.join(out, "input.raw"))
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]
    lines = []
    for method, mode in (("bilinear", "bilinear"), ("nearest", "nearest-exact")):
        for aa in ((0, 1) if method == "bilinear" else (0,)):
            for h, w in ((8, 11), (5, 7), (34, 46), (40, 10), (17, 23)):
                kw = {"align_corners": False, "antialias": bool(aa)} if mode == "bilinear" else {}
                y = F.interpolate(x, size=(h, w), mode=mode, **kw)[0].permute(1, 2, 0).numpy()
                raw = os.path.join(out, f"{method}_{aa}_{h}x{w}.raw")
                np.ascontiguousarray(y, dtype=np.float32).tofile(raw)
                lines.append(f"{method} {aa} {h} {w} {raw}")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
