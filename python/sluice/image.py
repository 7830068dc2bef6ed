"""tf.image on bytes and numpy arrays (TensorFlow's names and semantics).

Decoding::

    img = sluice.image.decode_image(open("cat.jpg", "rb").read(), channels=3)
    # uint8 numpy array [H, W, 3], the pixels Pillow decodes (same libjpeg-turbo)

Transforming (uint8 or float32, [H, W, C] or batched [N, H, W, C])::

    x = sluice.image.resize(img, [224, 224], antialias=True)   # float32
    x = sluice.image.random_crop(img, [200, 200, 3], seed=1)
    x = sluice.image.adjust_saturation(img, 1.5)

JPEG goes through libjpeg-turbo, PNG through libpng. Errors raise
sluice.errors.InvalidArgumentError naming the problem (a truncated or
corrupt image never crashes the process). Every function releases the GIL
while it runs.
"""
import numpy as np

from sluice import _sluice
from sluice._sluice import DType

__all__ = ["decode_jpeg", "decode_png", "decode_image", "decode_and_crop_jpeg", "encode_jpeg",
           "encode_png", "resize", "resize_with_crop_or_pad", "crop_to_bounding_box",
           "pad_to_bounding_box", "central_crop", "random_crop", "flip_left_right",
           "flip_up_down", "random_flip_left_right", "random_flip_up_down", "transpose", "rot90",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "adjust_gamma", "rgb_to_grayscale", "grayscale_to_rgb", "rgb_to_hsv", "hsv_to_rgb",
           "per_image_standardization", "convert_image_dtype"]


def decode_jpeg(contents, channels=0, ratio=1, dct_method=""):
    """JPEG bytes -> uint8 [H/ratio, W/ratio, C].

    channels: 0 (the file's: 1 or 3), 1 or 3. ratio: 1, 2, 4 or 8 (scaled in
    the IDCT). dct_method: "", "INTEGER_ACCURATE" or "INTEGER_FAST".
    """
    return _sluice.image_decode_jpeg(contents, int(channels), int(ratio), str(dct_method))


def decode_png(contents, channels=0, dtype=np.uint8):
    """PNG bytes -> uint8 or uint16 [H, W, C]; channels 0 (the file's) to 4."""
    return _sluice.image_decode_png(contents, int(channels), np.dtype(dtype))


def decode_image(contents, channels=0, dtype=np.uint8):
    """JPEG or PNG bytes (sniffed) -> [H, W, C] of dtype uint8, uint16 or float32."""
    return _sluice.image_decode_image(contents, int(channels), np.dtype(dtype))


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, dct_method=""):
    """The [y, x, height, width] window of a JPEG, decoded -> uint8 [height, width, C].

    Fused: only the window (and its upsampling context) is decoded; the
    pixels equal decode_jpeg's with the same channels, ratio and dct_method,
    cropped (the window is in the 1/ratio-scaled image's pixels). Raises
    InvalidArgumentError for a window outside the image or a corrupt /
    truncated stream."""
    return _sluice.image_decode_and_crop_jpeg(contents, [int(v) for v in crop_window],
                                              int(channels), int(ratio), str(dct_method))


def encode_jpeg(image, quality=95, progressive=False, chroma_downsampling=True):
    """uint8 [H, W, 1 or 3] -> JPEG bytes."""
    return _sluice.image_encode_jpeg(image, int(quality), bool(progressive),
                                     bool(chroma_downsampling))


def encode_png(image, compression=-1):
    """uint8 or uint16 [H, W, 1..4] -> PNG bytes; compression -1 (zlib's default) to 9."""
    return _sluice.image_encode_png(image, int(compression))


def resize(images, size, method="bilinear", antialias=False):
    """tf.image.resize: method bilinear, nearest, bicubic or area, half-pixel centres.

    Returns float32, except nearest, which keeps the input dtype.
    """
    h, w = size
    return _sluice.image_resize(images, int(h), int(w), str(method), bool(antialias))


def resize_with_crop_or_pad(image, target_height, target_width):
    """Centred crop and/or zero pad to [target_height, target_width]."""
    return _sluice.image_resize_with_crop_or_pad(image, int(target_height), int(target_width))


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The target_height x target_width window at (offset_height, offset_width)."""
    return _sluice.image_crop_to_bounding_box(image, int(offset_height), int(offset_width),
                                              int(target_height), int(target_width))


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The image placed at the offsets in a zero target_height x target_width image."""
    return _sluice.image_pad_to_bounding_box(image, int(offset_height), int(offset_width),
                                             int(target_height), int(target_width))


def central_crop(image, central_fraction):
    """The centred central_fraction (in (0, 1]) of each side."""
    return _sluice.image_central_crop(image, float(central_fraction))


def random_crop(value, size, seed=None):
    """A random [size[0], size[1]] window (size may name the channels too).

    With a seed the window is the same on every call; None draws a fresh one.
    """
    return _sluice.image_random_crop(value, int(size[0]), int(size[1]), int(seed or 0))


def flip_left_right(image):
    """Mirrors the width axis."""
    return _sluice.image_flip_left_right(image)


def flip_up_down(image):
    """Mirrors the height axis."""
    return _sluice.image_flip_up_down(image)


def random_flip_left_right(image, seed=None):
    """Flips each image (of a batch: each one) with probability 1/2."""
    return _sluice.image_random_flip(image, True, int(seed or 0))


def random_flip_up_down(image, seed=None):
    """Flips each image upside down with probability 1/2."""
    return _sluice.image_random_flip(image, False, int(seed or 0))


def transpose(image):
    """Swaps height and width."""
    return _sluice.image_transpose(image)


def rot90(image, k=1):
    """Rotates counter-clockwise by k quarter turns."""
    return _sluice.image_rot90(image, int(k))


def adjust_brightness(image, delta):
    """x + delta (uint8 images are adjusted in [0, 1] and converted back)."""
    return _sluice.image_adjust_brightness(image, float(delta))


def adjust_contrast(images, contrast_factor):
    """(x - mean) * contrast_factor + mean, per image and channel."""
    return _sluice.image_adjust_contrast(images, float(contrast_factor))


def adjust_saturation(image, saturation_factor):
    """Scales the HSV saturation (RGB images)."""
    return _sluice.image_adjust_saturation(image, float(saturation_factor))


def adjust_hue(image, delta):
    """Rotates the HSV hue by delta in [-1, 1] (RGB images)."""
    return _sluice.image_adjust_hue(image, float(delta))


def adjust_gamma(image, gamma=1, gain=1):
    """gain * x ** gamma."""
    return _sluice.image_adjust_gamma(image, float(gamma), float(gain))


def rgb_to_grayscale(images):
    """0.2989 R + 0.5870 G + 0.1140 B -> [..., 1], same dtype."""
    return _sluice.image_rgb_to_grayscale(images)


def grayscale_to_rgb(images):
    """Replicates the single channel three times."""
    return _sluice.image_grayscale_to_rgb(images)


def rgb_to_hsv(images):
    """float32 RGB in [0, 1] -> HSV in [0, 1]."""
    return _sluice.image_rgb_to_hsv(images)


def hsv_to_rgb(images):
    """float32 HSV -> RGB."""
    return _sluice.image_hsv_to_rgb(images)


def per_image_standardization(image):
    """float32 (x - mean) / max(stddev, 1 / sqrt(N)) per image."""
    return _sluice.image_per_image_standardization(image)


def convert_image_dtype(image, dtype, saturate=False):
    """uint8 / uint16 / float32 conversions with TensorFlow's scaling."""
    return _sluice.image_convert_image_dtype(image, np.dtype(dtype), bool(saturate))
