"""Decoding and encoding: every input becomes 8-bit, 3-channel BGR; outputs are JPEG or PNG.

JPEGs decode through libjpeg-turbo's own API (simplejpeg) straight to BGR, with EXIF orientation
applied here as OpenCV applies it; a JPEG that path refuses (CMYK, 12-bit, an EXIF block this
module cannot read with certainty, any error or warning) and every other format decode with
OpenCV's IMREAD_COLOR, as before. Both give the same pixels (tests/test_decode.py).
Images are decoded from bytes in memory (the run reads them through its store), which works
with any path on any OS. Truncated JPEG/PNG files and images over MAX_PIXELS are refused
before decoding (checked): a decoder would decode the first silently (grey where data is
missing) and allocate the second. `name` arguments only name the image in messages.
"""

import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import MixcliError
from . import FORMATS, INTERPOLATIONS, MAX_PIXELS
from .jpeg import (
    exif_orientation,
    header_size,
    jpeg_complete,
    png_complete,
    segments,
    sniff,
)

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402  (after the environment variable it reads)
import simplejpeg  # noqa: E402

# Silent: a failure reaches the user as one mixcli line, not as OpenCV's log.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

# IMREAD_COLOR applies EXIF orientation, drops alpha and scales 16-bit to 8-bit.
_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
# Baseline, extended, progressive (Huffman), and their arithmetic-coded twins. Not lossless:
# simplejpeg sizes its buffer for a DCT-scaled decode that lossless frames ignore (heap overflow).
_DCT_FRAMES = (0xC0, 0xC1, 0xC2, 0xC9, 0xCA)
DECODERS = ("simplejpeg", "opencv")
_decoded = Counter()  # images decoded by each decoder in this process, since reset_decoded()
_decoded_lock = threading.Lock()


class ImageError(MixcliError):
    """An image file that cannot be read or decoded."""


def checked(data: bytes, name: str) -> bytes:
    """data, checked to be a complete JPEG/PNG of a sane size where it is one (ImageError if not)."""
    if not data:
        raise ImageError(f"cannot decode image {name}: empty file")
    fmt = sniff(data)
    if fmt == "jpg" and not jpeg_complete(data):
        raise ImageError(f"cannot decode image {name}: truncated JPEG (no end-of-image marker)")
    if fmt == "png" and not png_complete(data):
        raise ImageError(f"cannot decode image {name}: truncated PNG (no IEND chunk)")
    hw = header_size(data)
    if hw is not None and hw[0] * hw[1] > MAX_PIXELS:
        raise ImageError(f"cannot decode image {name}: {hw[1]}x{hw[0]} pixels is over the limit of {MAX_PIXELS}")
    return data


def read_image(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read and decode a local file to an HxWx3 uint8 array, resized to size=(W, H) if given."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror or e}") from None
    return decode(checked(data, str(path)), str(path), size)


def decode(data: bytes, name: str, size: tuple[int, int] | None = None, interpolation: str = "auto") -> np.ndarray:
    """Decode a file's bytes to HxWx3 uint8 (at reduced size in libjpeg when size allows), resized
    to size=(W, H) if given."""
    reduce = _reduction(data, size)
    img = _decode_jpeg(data, reduce) if sniff(data) == "jpg" else None
    decoder = "opencv" if img is None else "simplejpeg"
    if img is None:
        buf = np.frombuffer(data, dtype=np.uint8)
        img = _imdecode(buf, _REDUCED[reduce])
        if img is None and reduce > 1:
            img = _imdecode(buf, cv2.IMREAD_COLOR)
        if img is None:
            raise ImageError(f"cannot decode image {name}")
    with _decoded_lock:
        _decoded[decoder] += 1
    return resize(img, size, interpolation) if size is not None else img


def decoded() -> dict[str, int]:
    """How many images each decoder decoded since reset_decoded(), by "name version"."""
    versions = {"simplejpeg": simplejpeg.__version__, "opencv": cv2.__version__}
    with _decoded_lock:
        return {f"{name} {versions[name]}": _decoded[name] for name in DECODERS}


def reset_decoded() -> None:
    with _decoded_lock:
        _decoded.clear()


def one_thread() -> None:
    """OpenCV runs on the calling thread only: mixcli's own pool is the parallelism."""
    cv2.setNumThreads(1)


def _decode_jpeg(data: bytes, reduce: int) -> np.ndarray | None:
    """libjpeg-turbo's decode to BGR at 1/reduce size, oriented by EXIF as OpenCV does; None
    where OpenCV must decide: anything but an 8-bit, 1- or 3-component DCT JPEG (CMYK/YCCK,
    12-bit, lossless), a reduced decode of a side under 16 pixels, an EXIF block not read with
    certainty, or whatever libjpeg-turbo refuses or warns about (strict: corrupt data)."""
    seg = segments(data)
    if seg.frame is None or seg.frame[0] not in _DCT_FRAMES or seg.frame[1:] not in ((8, 1), (8, 3)):
        return None
    if reduce > 1 and min(seg.hw) < 16:  # tiny: TurboJPEG may pick another scale of the same output size
        return None
    orientation = exif_orientation(data[seg.exif[0] : seg.exif[1]]) if seg.exif else 1
    if orientation is None:
        return None
    h, w = -(-seg.hw[0] // reduce), -(-seg.hw[1] // reduce)
    try:  # min_factor and the minimum size together pin the DCT scale to exactly 1/reduce
        img = simplejpeg.decode_jpeg(data, colorspace="BGR", min_factor=reduce, min_height=h, min_width=w)
    except Exception:  # noqa: BLE001 (whatever it raises, OpenCV gets the file)
        return None
    if img.shape != (h, w, 3):
        return None
    return orient(img, orientation)


def orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a decoded image as EXIF orientation 1-8 says, in OpenCV's steps (ApplyExifOrientation)."""
    if orientation in (5, 6, 7, 8):
        img = cv2.transpose(img)
    flip = {2: 1, 3: -1, 4: 0, 6: 1, 7: -1, 8: 0}.get(orientation)
    return img if flip is None else cv2.flip(img, flip)


def _imdecode(buf: np.ndarray, flags: int) -> np.ndarray | None:
    try:
        return cv2.imdecode(buf, flags)
    except cv2.error:
        return None


def _reduction(data: bytes, size: tuple[int, int] | None) -> int:
    """The largest JPEG DCT reduction (1, 2, 4, 8) that still decodes at least `size`.

    Compares the short side with the long target: EXIF orientation may swap the sides.
    """
    if size is None or sniff(data) != "jpg":
        return 1
    hw = header_size(data)
    if hw is None:
        return 1
    short, target = min(hw), max(size)
    reduce = 1
    while reduce < 8 and short // (reduce * 2) >= target:
        reduce *= 2
    return reduce


def resize(img: np.ndarray, size: tuple[int, int], interpolation: str = "auto") -> np.ndarray:
    """Resize to size=(W, H) by an INTERPOLATIONS method; auto: area when shrinking, linear when
    enlarging. Any number of channels: an HxWxC image stays HxWxC (OpenCV drops C=1 and shrinks
    at most 4 at once)."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    if interpolation == "auto":
        interpolation = "area" if w * h < img.shape[0] * img.shape[1] else "linear"
    interpolation = _CV_INTERPOLATION[interpolation]
    if img.ndim == 2 or img.shape[2] in (3, 4):
        return cv2.resize(img, (w, h), interpolation=interpolation)
    groups = [np.ascontiguousarray(img[..., k : k + 4]) for k in range(0, img.shape[2], 4)]
    return np.concatenate([cv2.resize(g, (w, h), interpolation=interpolation).reshape(h, w, -1) for g in groups], axis=2)


_CV_INTERPOLATION = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST_EXACT}
assert set(_CV_INTERPOLATION) == set(INTERPOLATIONS) - {"auto"}


def resize_float(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float32 array resized bilinearly to size=(W, H)."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def encode_image(img: np.ndarray, fmt: str, quality: int, source: str) -> bytes:
    """Encode an HxWx3 uint8 image made from `source` as jpg (at quality) or png."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt == "jpg" else []
    try:
        ok, buf = cv2.imencode(FORMATS[fmt], img, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(f"cannot encode the {img.shape[1]}x{img.shape[0]} image made from {source} as {fmt}")
    return buf.tobytes()


def encode_mask(mask: np.ndarray, source: str) -> bytes:
    """Encode an HxW uint8 mask made from `source` as a 1-channel PNG."""
    # No row filters: a mask of a few blobs compresses as well, and encodes in 0.27 vs 0.35 ms (500x375).
    ok, buf = cv2.imencode(".png", mask, [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE])
    if not ok:
        raise ImageError(f"cannot encode the {mask.shape[1]}x{mask.shape[0]} mask made from {source} as png")
    return buf.tobytes()


def encode_png(img: np.ndarray, what: str) -> bytes:
    """A PNG of img (a preview sheet); MixcliError naming `what` if it cannot be encoded."""
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise MixcliError(f"cannot encode the {img.shape[1]}x{img.shape[0]} {what} as PNG")
    return buf.tobytes()


def decode_map(data: bytes, name: str, image: str, shape: tuple[int, int], size: tuple[int, int] | None, own: tuple[int, int] | None = None) -> np.ndarray:
    """A label map's bytes (file `name`, of image `image`) as an HxW uint8 array of the image's
    decoded shape: the map has the image's size (shape; with --size, own: the image's (h, w) as
    its file says, either way round since EXIF may turn it), then resized to shape, nearest."""
    m = _imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if m is None:
        raise ImageError(f"cannot decode label map {name}")
    if m.ndim != 2 or m.dtype != np.uint8:
        raise ImageError(f"label map {name} must be a 1-channel 8-bit PNG, got {m.shape[2] if m.ndim == 3 else 1} channel(s) of {m.dtype}")
    expected = [tuple(shape)] if size is None else [tuple(own), tuple(own)[::-1]] if own else None  # None: a BMP, WebP or TIFF's
    if expected is not None and m.shape not in expected:
        h, w = expected[0]
        raise ImageError(f"label map {name} is {m.shape[1]}x{m.shape[0]}, its image {image} is {w}x{h}")
    return resize(m, (shape[1], shape[0]), "nearest")
