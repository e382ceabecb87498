"""Image reading, decoding and encoding: every input becomes 8-bit, 3-channel BGR.

JPEGs decode through libjpeg-turbo's own API (simplejpeg) straight to BGR, with EXIF orientation
applied here as OpenCV applies it; a JPEG that path refuses (CMYK, 12-bit, an EXIF block this
module cannot read with certainty, any error or warning) and every other format decode with
OpenCV's IMREAD_COLOR, as before. Both give the same pixels (tests/test_decode.py).
Files are read whole and decoded from memory, which works with any path on any OS.
Truncated JPEG/PNG files and images over MAX_PIXELS are refused before decoding: a decoder
would decode the first silently (grey where data is missing) and allocate the second.
"""

import os
import struct
import threading
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import MixcliError
from .store import location

# 2 x PIL's MAX_IMAGE_PIXELS, the usual decompression-bomb line; also OpenCV's own limit.
MAX_PIXELS = 178_956_970
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402  (after the environment variable it reads)
import simplejpeg  # noqa: E402

# Silent: a failure reaches the user as one mixcli line, not as OpenCV's log.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

FORMATS = {"jpg": ".jpg", "png": ".png"}
# IMREAD_COLOR applies EXIF orientation, drops alpha and scales 16-bit to 8-bit.
_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_EXIF = b"Exif\x00\x00"
# Baseline, extended, progressive (Huffman), and their arithmetic-coded twins. Not lossless:
# simplejpeg sizes its buffer for a DCT-scaled decode that lossless frames ignore (heap overflow).
_DCT_FRAMES = (0xC0, 0xC1, 0xC2, 0xC9, 0xCA)
DECODERS = ("simplejpeg", "opencv")
_decoded = Counter()  # images decoded by each decoder in this process, since reset_decoded()
_decoded_lock = threading.Lock()


class ImageError(MixcliError):
    """An image file that cannot be read or decoded."""


def read_bytes(path: Path, fetched: bytes | OSError | None = None) -> bytes:
    """The file's bytes (or those fetched already, or the error fetching them), checked to be a
    complete JPEG/PNG of a sane size where it is one."""
    try:
        if isinstance(fetched, OSError):
            raise fetched
        data = fetched if fetched is not None else location(path).read_bytes()  # a store's failures other than a missing object stop the run
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror or e}") from None
    if not data:
        raise ImageError(f"cannot decode image {path}: empty file")
    fmt = sniff(data)
    if fmt == "jpg" and not _jpeg_complete(data):
        raise ImageError(f"cannot decode image {path}: truncated JPEG (no end-of-image marker)")
    if fmt == "png" and not _png_complete(data):
        raise ImageError(f"cannot decode image {path}: truncated PNG (no IEND chunk)")
    hw = header_size(data)
    if hw is not None and hw[0] * hw[1] > MAX_PIXELS:
        raise ImageError(f"cannot decode image {path}: {hw[1]}x{hw[0]} pixels is over the limit of {MAX_PIXELS}")
    return data


def read_image(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read and decode path to an HxWx3 uint8 array, resized to size=(W, H) if given."""
    return decode(read_bytes(path), path, size)


def decode(data: bytes, path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a file's bytes to HxWx3 uint8 (at reduced size in libjpeg when size allows)."""
    reduce = _reduction(data, size)
    img = _decode_jpeg(data, reduce) if sniff(data) == "jpg" else None
    decoder = "opencv" if img is None else "simplejpeg"
    if img is None:
        buf = np.frombuffer(data, dtype=np.uint8)
        img = _imdecode(buf, _REDUCED[reduce])
        if img is None and reduce > 1:
            img = _imdecode(buf, cv2.IMREAD_COLOR)
        if img is None:
            raise ImageError(f"cannot decode image {path}")
    with _decoded_lock:
        _decoded[decoder] += 1
    return resize(img, size) if size is not None else img


def decoded() -> dict[str, int]:
    """How many images each decoder decoded since reset_decoded(), by "name version"."""
    versions = {"simplejpeg": simplejpeg.__version__, "opencv": cv2.__version__}
    with _decoded_lock:
        return {f"{name} {versions[name]}": _decoded[name] for name in DECODERS}


def reset_decoded() -> None:
    with _decoded_lock:
        _decoded.clear()


def _decode_jpeg(data: bytes, reduce: int) -> np.ndarray | None:
    """libjpeg-turbo's decode to BGR at 1/reduce size, oriented by EXIF as OpenCV does; None
    where OpenCV must decide: anything but an 8-bit, 1- or 3-component DCT JPEG (CMYK/YCCK,
    12-bit, lossless), a reduced decode of a side under 16 pixels, an EXIF block not read with
    certainty, or whatever libjpeg-turbo refuses or warns about (strict: corrupt data)."""
    seg = _jpeg_segments(data)
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


def exif_orientation(block: bytes) -> int | None:
    """The orientation an APP1 Exif block gives, read as OpenCV reads it: the first two bytes of
    tag 0x0112's value in IFD0, 1 when the tag is missing or not 1-8. None where OpenCV's reading
    might differ, left to it: not a well-formed TIFF header and IFD0, an entry of an unknown type
    or whose value lies outside the block (OpenCV stops there), or the tag twice."""
    tiff = block[len(_EXIF) :]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    e = "<" if tiff[:2] == b"II" else ">"
    magic, ifd = struct.unpack_from(e + "HI", tiff, 2)
    if magic != 42 or ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(e + "H", tiff, ifd)
    if ifd + 2 + 12 * count > len(tiff):
        return None
    values = []
    for at in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, kind, n, offset = struct.unpack_from(e + "HHII", tiff, at)
        if kind not in _TIFF_SIZES or (_TIFF_SIZES[kind] * n > 4 and offset + _TIFF_SIZES[kind] * n > len(tiff)):
            return None
        if tag == 0x0112:
            values.append(struct.unpack_from(e + "H", tiff, at + 8)[0])
    if len(values) > 1:
        return None
    return values[0] if values and 1 <= values[0] <= 8 else 1


_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}  # bytes a value, by TIFF type


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


def sniff(data: bytes) -> str | None:
    """'jpg' or 'png' from the file's first bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == _PNG_MAGIC:
        return "png"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF marker or a PNG's IHDR, or None."""
    fmt = sniff(data)
    if fmt == "png" and len(data) >= 24:
        return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")
    if fmt == "jpg":
        return _jpeg_segments(data).hw
    return None


def _jpeg_complete(data: bytes) -> bool:
    """Whether an end-of-image marker follows the first scan (only EOI can be FFD9 there)."""
    sos = _jpeg_segments(data).sos
    return sos is not None and data.rfind(b"\xff\xd9", sos) >= 0


def _png_complete(data: bytes) -> bool:
    """Whether walking the chunks (length, type, data, CRC) from the signature reaches IEND, which
    follows all image data (bytes after it are allowed)."""
    i = len(_PNG_MAGIC)
    while i + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, i)
        if kind == b"IEND":
            return True
        if not kind.isalpha():  # types are 4 ASCII letters: a garbage length led off the chunks
            return False
        i += 12 + length
    return False


class _Segments(NamedTuple):
    """What a walk of a JPEG's marker segments up to the first scan found."""

    hw: tuple[int, int] | None = None  # (height, width) of the frame
    frame: tuple[int, int, int] | None = None  # SOF marker, sample precision, number of components
    sos: int | None = None  # offset of the first SOS
    exif: tuple[int, int] | None = None  # (start, end) of the first APP1 Exif block


def _jpeg_segments(data: bytes) -> _Segments:
    hw = frame = exif = None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xDA:
            return _Segments(hw, frame, i, exif)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 10 <= len(data):
            hw = int.from_bytes(data[i + 5 : i + 7], "big"), int.from_bytes(data[i + 7 : i + 9], "big")
            frame = (marker, data[i + 4], data[i + 9])
        elif marker == 0xE1 and exif is None and data.startswith(_EXIF, i + 4):
            exif = (i + 4, min(i + 2 + length, len(data)))
        i += 2 + length
    return _Segments(hw, frame, None, exif)


def resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to size=(W, H): INTER_AREA when shrinking, INTER_LINEAR when enlarging. Any number
    of channels: an HxWxC image stays HxWxC (OpenCV drops C=1 and shrinks at most 4 at once)."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    interpolation = cv2.INTER_AREA if w * h < img.shape[0] * img.shape[1] else cv2.INTER_LINEAR
    if img.ndim == 2 or img.shape[2] in (3, 4):
        return cv2.resize(img, (w, h), interpolation=interpolation)
    groups = [np.ascontiguousarray(img[..., k : k + 4]) for k in range(0, img.shape[2], 4)]
    return np.concatenate([cv2.resize(g, (w, h), interpolation=interpolation).reshape(h, w, -1) for g in groups], axis=2)


def resize_float(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float32 array resized bilinearly to size=(W, H)."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def encode_image(img: np.ndarray, fmt: str, quality: int, source: Path) -> bytes:
    """Encode an HxWx3 uint8 image made from `source` as jpg (at quality) or png."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt == "jpg" else []
    try:
        ok, buf = cv2.imencode(FORMATS[fmt], img, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(f"cannot encode the {img.shape[1]}x{img.shape[0]} image made from {source} as {fmt}")
    return buf.tobytes()


def encode_mask(mask: np.ndarray, source: Path) -> bytes:
    """Encode an HxW uint8 mask made from `source` as a 1-channel PNG."""
    # No row filters: a mask of a few blobs compresses as well, and encodes in 0.27 vs 0.35 ms (500x375).
    ok, buf = cv2.imencode(".png", mask, [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE])
    if not ok:
        raise ImageError(f"cannot encode the {mask.shape[1]}x{mask.shape[0]} mask made from {source} as png")
    return buf.tobytes()
