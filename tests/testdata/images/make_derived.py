#!/usr/bin/python3
"""Writes the derived test images of this folder from its real files with
Pillow (Debian python3-pil 9.4, libjpeg-turbo 2.1.5), for the kinds no
installed Debian package ships: baseline, 4:4:4, grayscale and CMYK JPEGs,
a 16-bit and a 1-bit PNG. Run from this folder; see PROVENANCE.md."""
from PIL import Image

src = Image.open("rgb.png").convert("RGB").crop((100, 40, 257, 133))  # 157x93, odd sizes
src.save("baseline_420.jpg", quality=90)
src.save("baseline_444.jpg", quality=85, subsampling=0)
src.save("baseline_422.jpg", quality=88, subsampling=1)
src.convert("L").save("gray.jpg", quality=90)
src.convert("CMYK").save("cmyk.jpg", quality=90)  # Pillow writes an Adobe APP14 marker
base = Image.open("rgba_interlaced.png").convert("L")
w, h = base.size
g16 = Image.new("I;16", (w, h))
g16.putdata([base.getpixel((x, y)) * 257 ^ ((x * 7 + y * 3) % 256)
             for y in range(h) for x in range(w)])
g16.save("gray16.png")
Image.open("gray.png").convert("L").point(lambda v: 255 if v > 128 else 0).convert("1").save(
    "gray_1bit.png")
