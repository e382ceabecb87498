"""Image decoding and encoding with OpenCV: every input becomes 8-bit, 3-channel BGR.

Files are read with NumPy and decoded from memory, which works with any path on any OS.
"""

from pathlib import Path

import cv2
import numpy as np

from .errors import MixcliError

FORMATS = {"jpg": ".jpg", "png": ".png"}
# IMREAD_COLOR applies EXIF orientation, drops alpha and scales 16-bit to 8-bit.
_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class ImageError(MixcliError):
    """An image file that cannot be read or decoded."""


def read_image(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode path to an HxWx3 uint8 array, resized to size=(W, H) if given."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror}") from None
    img = None
    if data.size:
        reduce = _reduction(data, size)
        try:
            img = cv2.imdecode(data, _REDUCED[reduce])
        except cv2.error:
            img = None
        if img is None and reduce > 1:
            img = _decode(data)
    if img is None:
        raise ImageError(f"cannot decode image {path}")
    return resize(img, size) if size is not None else img


def _decode(data: np.ndarray) -> np.ndarray | None:
    try:
        return cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        return None


def _reduction(data: np.ndarray, size: tuple[int, int] | None) -> int:
    """The largest JPEG DCT reduction (1, 2, 4, 8) that still decodes at least `size`.

    Compares the short side with the long target: EXIF orientation may swap the sides.
    """
    if size is None or not is_jpeg(data):
        return 1
    hw = jpeg_size(data)
    if hw is None:
        return 1
    short, target = min(hw), max(size)
    reduce = 1
    while reduce < 8 and short // (reduce * 2) >= target:
        reduce *= 2
    return reduce


def is_jpeg(data: np.ndarray) -> bool:
    return data.size > 3 and data[0] == 0xFF and data[1] == 0xD8


def jpeg_size(data: np.ndarray) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF marker, or None if none is found."""
    buf = data.tobytes()
    i = 2
    while i + 9 < len(buf):
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        seg = int.from_bytes(buf[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(buf[i + 5 : i + 7], "big"), int.from_bytes(buf[i + 7 : i + 9], "big")
        i += 2 + seg
    return None


def resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to size=(W, H): INTER_AREA when shrinking, INTER_LINEAR when enlarging."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    shrink = w * h < img.shape[0] * img.shape[1]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def encode_image(img: np.ndarray, fmt: str, quality: int) -> bytes:
    """Encode an HxWx3 uint8 image as jpg (at quality) or png."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt == "jpg" else []
    ok, buf = cv2.imencode(FORMATS[fmt], img, params)
    if not ok:
        raise MixcliError(f"cannot encode an image of shape {img.shape} as {fmt}")
    return buf.tobytes()
